"""Pure pieces of the test controls: snapshots across databases, fixture fault rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from uniqodo_mock.fixtures import FixtureError, load_fixture_text
from uniqodo_mock.mock.runtime import MockConfig, build_runtime
from uniqodo_mock.store.snapshot import export_snapshot, import_snapshot


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_snapshot_moves_between_sqlite_and_postgresql(sqlite_url: str, db_url: str) -> None:
    assert db_url.startswith("postgresql")
    source = build_runtime(MockConfig(db_url=sqlite_url))
    target = build_runtime(MockConfig(db_url=db_url))
    try:
        snapshot = export_snapshot(source.repo)
        import_snapshot(target.repo, snapshot)
        assert export_snapshot(target.repo)["tables"] == snapshot["tables"]
        # and back
        import_snapshot(source.repo, export_snapshot(target.repo))
        assert export_snapshot(source.repo)["tables"] == snapshot["tables"]
    finally:
        source.engine.dispose()
        target.engine.dispose()


def test_fixture_fault_rules_are_checked_with_file_and_line(tmp_path: Path) -> None:
    import uniqodo_mock.control.fixture_faults  # noqa: F401  (registers the check)

    with pytest.raises(FixtureError) as caught:
        load_fixture_text(
            "version: 1\nfaults:\n  - {code: X, status: 503}\n  - {code: Y, status: 42}\n",
            source="f.yaml",
        )
    [problem] = caught.value.problems
    assert str(problem).startswith("f.yaml:4:") and "'status'" in str(problem)
