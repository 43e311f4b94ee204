"""Where the OpenAPI documents live.

The specs are product files kept at the top of the repository (``openapi/``), so partners read
and diff them there; a wheel carries copies (``uniqodo_mock/_data/openapi``), used when there is no
checkout. ``$UNIQODO_MOCK_SPEC_DIR`` overrides the folder.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any

import yaml

from uniqodo_mock.resources import product_dir

__all__ = ["load_spec", "spec_dir", "spec_path"]


def spec_dir() -> Path:
    override = os.environ.get("UNIQODO_MOCK_SPEC_DIR")
    if override:
        return Path(override)
    found = product_dir("openapi", "uniqodo.yaml")
    if found is not None:
        return found
    raise FileNotFoundError(
        "cannot find the openapi/ folder; set UNIQODO_MOCK_SPEC_DIR to the folder holding uniqodo.yaml"
    )


def spec_path(name: str = "uniqodo.yaml") -> Path:
    return spec_dir() / name


@functools.cache
def load_spec(name: str = "uniqodo.yaml") -> dict[str, Any]:
    """The parsed spec (cached: treat it as read-only)."""
    with spec_path(name).open(encoding="utf-8") as handle:
        # libyaml's parser when PyYAML has it: the pure-Python one took ~0.5 s per spec parse
        # at start-up (same safe constructors and resolvers either way).
        return yaml.load(handle, Loader=_SAFE_LOADER)


_SAFE_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
