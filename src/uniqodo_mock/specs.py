"""Where the OpenAPI documents live.

The specs are product files kept at the top of the repository (``openapi/``), so partners read
and diff them there; a wheel carries copies (``uniqodo_mock/_data/openapi``), used when there is no
checkout. ``$UNIQODO_MOCK_SPEC_DIR`` overrides the folder.

Parsing the YAML is a noticeable part of every start (docs/benchmarks.md, "Start-up"),
so a parsed spec is kept as JSON in a cache folder, named by a SHA-256 of the YAML file's bytes
and the parser's version: an edited spec has another name and is parsed again, and a cache file
that cannot be read is ignored. Only specs that survive the JSON round trip unchanged are cached
(a date or an integer key would not). The folder: ``$UNIQODO_MOCK_CACHE_DIR`` (empty: no cache),
else ``$XDG_CACHE_HOME/uniqodo-mock``, else ``~/.cache/uniqodo-mock``; it may be deleted any time.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
from pathlib import Path
from typing import Any

import orjson
import yaml

from uniqodo_mock.resources import product_dir

__all__ = [
    "cache_dir",
    "load_spec",
    "resolve_local_ref",
    "spec_dir",
    "spec_path",
]


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


def cache_dir() -> Path | None:
    """Where parsed specs are cached; None when caching is off (``UNIQODO_MOCK_CACHE_DIR=``)."""
    configured = os.environ.get("UNIQODO_MOCK_CACHE_DIR")
    if configured is not None:
        return Path(configured).expanduser() if configured.strip() else None
    base = os.environ.get("XDG_CACHE_HOME", "").strip()
    return (Path(base) if base else Path.home() / ".cache") / "uniqodo-mock"


@functools.cache
def load_spec(name: str = "uniqodo.yaml") -> dict[str, Any]:
    """The parsed spec (cached: treat it as read-only)."""
    raw = spec_path(name).read_bytes()
    folder = cache_dir()
    cached = folder / f"spec-{_cache_key(raw)}.json" if folder is not None else None
    if cached is not None:
        try:
            spec = orjson.loads(cached.read_bytes())
        except (OSError, orjson.JSONDecodeError):
            pass
        else:
            if isinstance(spec, dict):
                return spec
    # libyaml's parser when PyYAML has it: the pure-Python one is many times slower
    # at start-up (same safe constructors and resolvers either way).
    spec = yaml.load(raw.decode("utf-8"), Loader=_SAFE_LOADER)
    if cached is not None and isinstance(spec, dict):
        _store(cached, spec)
    return spec


_SAFE_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# Part of every cache key: another parser could read the same bytes differently.
_PARSER = f"spec-cache-1 PyYAML {yaml.__version__} {_SAFE_LOADER.__name__}\n".encode()


def _cache_key(raw: bytes) -> str:
    return hashlib.sha256(_PARSER + raw).hexdigest()


def _store(cached: Path, spec: dict[str, Any]) -> None:
    """Write the cache file, atomically; a spec JSON cannot hold as it is is not cached, and a
    cache that cannot be written is no error (the next start parses the YAML again)."""
    try:
        data = orjson.dumps(spec)  # dates, integer keys, ...: TypeError
    except TypeError:
        return
    if orjson.loads(data) != spec:
        return
    partial = cached.with_name(f"{cached.name}.{os.getpid()}.partial")
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        partial.write_bytes(data)
        os.replace(partial, cached)
    except OSError:
        with contextlib.suppress(OSError):
            partial.unlink()


def resolve_local_ref(spec: dict[str, Any], node: Any, depth: int = 0) -> Any:
    """``node`` with its local ``$ref`` (``#/components/...``) followed, as often as it takes;
    ``ValueError`` for a reference to another document."""
    while isinstance(node, dict) and "$ref" in node and depth < 20:
        ref = node["$ref"]
        if not isinstance(ref, str) or not ref.startswith("#/"):
            raise ValueError(f"only local $ref is supported, got {ref!r}")
        target: Any = spec
        for part in ref[2:].split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
        depth += 1
    return node
