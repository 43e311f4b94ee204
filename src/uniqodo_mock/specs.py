"""Where the OpenAPI documents live.

The specs are product files kept at the top of the repository (``openapi/``), so partners read
and diff them there. ``$UNIQODO_MOCK_SPEC_DIR`` overrides the folder.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any

import yaml

__all__ = ["load_spec", "spec_dir", "spec_path"]


def spec_dir() -> Path:
    override = os.environ.get("UNIQODO_MOCK_SPEC_DIR")
    if override:
        return Path(override)
    here = Path(__file__).resolve()
    for parent in here.parents:
        candidate = parent / "openapi"
        if (candidate / "uniqodo.yaml").is_file():
            return candidate
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
