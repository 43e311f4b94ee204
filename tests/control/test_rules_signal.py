"""On a SQLite file the replicas learn of a rule change from the journal file's data version
(``store/controls.py``'s ``RulesSignal``): the mock's own writes (codes, redemptions) leave their
copy of the rules vouched for, and a rule added or removed through another process, or a fixture
reset, does not."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from uniqodo_mock.fixtures import load_fixture_file
from uniqodo_mock.mock.runtime import MockConfig, MockRuntime, build_runtime


@pytest.fixture
def two_runtimes(tmp_path: Path) -> Iterator[tuple[MockRuntime, MockRuntime]]:
    config = MockConfig(db_url=f"sqlite:///{tmp_path}/state.db", dispatch_callbacks=False)
    first = build_runtime(config)
    second = build_runtime(config)
    try:
        yield first, second
    finally:
        second.close()
        first.close()


def _without_rules(a: MockRuntime, b: MockRuntime) -> None:
    """Every rule cleared through ``a``, and ``b``'s copy up to date with that."""
    a.controls.faults.clear()
    b.controls.faults.refresh()
    assert not b.controls.faults.has_api_rules()


def _noticed(b: MockRuntime, *, rules: bool) -> None:
    """``b``'s copy is no longer vouched for; re-read, it holds rules or none."""
    assert not b.controls.faults.fresh()
    b.controls.faults.refresh()
    assert b.controls.faults.fresh()
    assert b.controls.faults.has_api_rules() is rules


def test_writes_to_the_state_leave_the_rules_vouched_for(
    two_runtimes: tuple[MockRuntime, MockRuntime],
) -> None:
    a, b = two_runtimes
    b.controls.faults.refresh()
    assert b.controls.faults.fresh()
    for runtime in (a, b):  # a commit of each process to the mock's database
        with runtime.repo.write() as conn:
            runtime.repo.set_meta(conn, "test-write", {"by": id(runtime)})
    assert b.controls.faults.fresh()


def test_a_rule_change_through_another_process_is_noticed(
    two_runtimes: tuple[MockRuntime, MockRuntime],
) -> None:
    a, b = two_runtimes
    _without_rules(a, b)
    rule = a.controls.faults.add({"path": "/validate/", "status": 503})
    _noticed(b, rules=True)
    a.controls.faults.delete(rule.id)
    _noticed(b, rules=False)


def test_a_fixture_reset_through_another_process_is_noticed(
    two_runtimes: tuple[MockRuntime, MockRuntime],
) -> None:
    a, b = two_runtimes
    _without_rules(a, b)
    a.load_fixtures(load_fixture_file(a.config.fixtures_path))  # its magic-code rules
    _noticed(b, rules=True)
    _without_rules(a, b)
    a.reset()  # restored from the template the load prepared, rules included
    _noticed(b, rules=True)
