"""Every statement the vendor API runs is answered from an index on both databases, so no
request costs more as pools and histories grow: the query plan of each (``HOT_STATEMENTS``)
shows neither a full scan of a table or index, nor a sort of the rows found."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine

from uniqodo_mock.store.engine import create_db_engine
from uniqodo_mock.store.migrate import upgrade
from uniqodo_mock.store.repository import HOT_STATEMENTS


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = create_db_engine(db_url)
    upgrade(engine)
    yield engine
    engine.dispose()


def _sqlite_plan(engine: Engine, statement: Any, params: dict[str, Any]) -> list[str]:
    compiled = statement.compile(dialect=engine.dialect)
    values = compiled.construct_params(params)
    positional = tuple(values[name] for name in compiled.positiontup)
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}", positional).all()
    return [str(row[-1]) for row in rows]


def _postgres_plan(engine: Engine, statement: Any, params: dict[str, Any]) -> list[str]:
    compiled = statement.compile(dialect=engine.dialect)
    values = compiled.construct_params(params)
    with engine.connect() as conn:
        # Empty tables make any plan cheap: ask for what the planner can do without scans
        # and sorts. It still chooses a scan or a sort when no index serves the statement.
        conn.exec_driver_sql("SET enable_seqscan = off")
        conn.exec_driver_sql("SET enable_sort = off")
        (plan,) = conn.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {compiled}", values).one()
        conn.rollback()
    document = plan if isinstance(plan, list) else json.loads(plan)
    nodes: list[str] = []

    def walk(node: dict[str, Any]) -> None:
        nodes.append(f"{node['Node Type']} {node.get('Relation Name', '')}".strip())
        for child in node.get("Plans", []):
            walk(child)

    walk(document[0]["Plan"])
    return nodes


@pytest.mark.parametrize("name", sorted(HOT_STATEMENTS))
def test_the_statement_is_answered_from_an_index(engine: Engine, name: str) -> None:
    statement, params = HOT_STATEMENTS[name]
    if engine.dialect.name == "sqlite":
        plan = _sqlite_plan(engine, statement, params)
        scans = [line for line in plan if line.startswith("SCAN ")]
        sorts = [line for line in plan if "TEMP B-TREE" in line]
        assert not scans and not sorts, plan
    else:
        plan = _postgres_plan(engine, statement, params)
        assert not [node for node in plan if node.startswith(("Seq Scan", "Sort"))], plan
