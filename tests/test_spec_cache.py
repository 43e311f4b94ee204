"""Parsed specs cached as JSON (uniqodo_mock/specs.py): used while the YAML is unchanged, never
for an edited one, ignored when unreadable, skipped for what JSON cannot hold, and off when
$UNIQODO_MOCK_CACHE_DIR is empty."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
import yaml

from uniqodo_mock.specs import cache_dir, load_spec

SPEC = "openapi: 3.0.3\ninfo: {title: cached, version: '1'}\npaths: {}\n"


@pytest.fixture
def spec_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    folder = tmp_path / "openapi"
    folder.mkdir()
    (folder / "uniqodo.yaml").write_text(SPEC, encoding="utf-8")
    monkeypatch.setenv("UNIQODO_MOCK_SPEC_DIR", str(folder))
    monkeypatch.setenv("UNIQODO_MOCK_CACHE_DIR", str(tmp_path / "cache"))
    load_spec.cache_clear()
    try:
        yield folder
    finally:
        load_spec.cache_clear()


def _fresh_load() -> dict[str, object]:
    load_spec.cache_clear()
    return load_spec("uniqodo.yaml")


def _cache_files() -> list[Path]:
    folder = cache_dir()
    assert folder is not None
    return sorted(folder.glob("spec-*.json")) if folder.exists() else []


def test_the_parsed_spec_is_cached_and_read_back(spec_folder: Path) -> None:
    assert _fresh_load() == yaml.safe_load(SPEC)
    [cached] = _cache_files()
    assert orjson.loads(cached.read_bytes()) == yaml.safe_load(SPEC)
    # The cache file, not the YAML, answers the next load: altered, it shows.
    cached.write_bytes(orjson.dumps({"openapi": "3.0.3", "info": {"title": "from the cache"}}))
    assert _fresh_load()["info"] == {"title": "from the cache"}


def test_an_edited_spec_is_parsed_again(spec_folder: Path) -> None:
    _fresh_load()
    (spec_folder / "uniqodo.yaml").write_text(SPEC.replace("cached", "edited"), encoding="utf-8")
    assert _fresh_load()["info"] == {"title": "edited", "version": "1"}
    assert len(_cache_files()) == 2


def test_an_unreadable_cache_file_is_ignored(spec_folder: Path) -> None:
    _fresh_load()
    [cached] = _cache_files()
    cached.write_bytes(b"{not json")
    assert _fresh_load() == yaml.safe_load(SPEC)
    assert orjson.loads(cached.read_bytes()) == yaml.safe_load(SPEC)  # rewritten


def test_what_json_cannot_hold_is_not_cached(spec_folder: Path) -> None:
    dated = SPEC + "x-released: 2026-11-22\nx-codes: {200: ok}\n"
    (spec_folder / "uniqodo.yaml").write_text(dated, encoding="utf-8")
    assert _fresh_load() == yaml.safe_load(dated)
    assert _cache_files() == []
    int_keys = SPEC + "x-codes: {200: ok}\n"
    (spec_folder / "uniqodo.yaml").write_text(int_keys, encoding="utf-8")
    assert _fresh_load()["x-codes"] == {200: "ok"}
    assert _cache_files() == []


def test_an_empty_cache_dir_setting_turns_the_cache_off(
    spec_folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("UNIQODO_MOCK_CACHE_DIR", "")
    assert cache_dir() is None
    assert _fresh_load() == yaml.safe_load(SPEC)
    assert not (tmp_path / "cache").exists()


def test_a_cache_that_cannot_be_written_is_no_error(
    spec_folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    monkeypatch.setenv("UNIQODO_MOCK_CACHE_DIR", str(blocker / "cache"))
    assert _fresh_load() == yaml.safe_load(SPEC)
    assert blocker.is_file()
    assert blocker.read_text(encoding="utf-8") == "not a folder"


def test_the_default_folder_follows_xdg_cache_home(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("UNIQODO_MOCK_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", "/somewhere/cache")
    assert cache_dir() == Path("/somewhere/cache/uniqodo-mock")
    monkeypatch.setenv("XDG_CACHE_HOME", "")
    assert cache_dir() == Path.home() / ".cache" / "uniqodo-mock"
