"""Every statement the vendor API runs is answered from an index on both databases, so no
request costs more as pools and histories grow: on a populated database (the default
fixtures' 6,000-code pools, codes issued and redeemed, PostgreSQL's statistics up to date),
the query plan of each statement (``VENDOR_STATEMENTS``) shows neither a full scan of a table or
index nor a sort of the rows found."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine

from uniqodo_mock.mock.runtime import MockConfig, build_runtime
from uniqodo_mock.store.repository import VENDOR_STATEMENTS

KEY = "64a287ae534cf1bd58f45f3e23de9d433caec669"
PROMOTION = "0821f4190897965c33eaca7954db5f23"

# Parameters of real rows: the planner's estimates are those of a request.
REAL = {
    "key": KEY,
    "offer_id": 4883,
    "promotion_uuid": PROMOTION,
    "user_norm": "user-7@example.com",
    "code_norm": "AB12E3GH",
    "distributor_id": 102,
    "customer": "4883:user-7@example.com",
}


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    runtime = build_runtime(MockConfig(db_url=db_url, dispatch_callbacks=False))
    service = runtime.service
    for number in range(300):
        uid = f"user-{number}@example.com"
        code = service.issue_code(KEY, 4883, uid).data["code"]
        if number % 3 == 0:
            val_key = service.validate(KEY, code, 1, {}).data["val_key"]
            service.redeem(KEY, code, 1, {"orderId": f"o{number}", "valKey": val_key})
    if runtime.repo.is_postgres:
        with runtime.engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")
            conn.commit()
    yield runtime.engine
    runtime.close()


def _parameters(defaults: dict[str, Any]) -> dict[str, Any]:
    return {name: REAL.get(name, value) for name, value in defaults.items()}


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
        # The reference tables are tiny here, and a sequential scan is the best plan for them:
        # forbidden, the planner uses an index wherever one serves the statement. Sorts stay
        # the planner's own choice, on real statistics.
        conn.exec_driver_sql("SET enable_seqscan = off")
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


@pytest.mark.parametrize("name", sorted(VENDOR_STATEMENTS))
def test_the_statement_is_answered_from_an_index(engine: Engine, name: str) -> None:
    prepared, defaults = VENDOR_STATEMENTS[name]
    statement, params = prepared.statement, _parameters(defaults)
    if engine.dialect.name == "sqlite":
        plan = _sqlite_plan(engine, statement, params)
        scans = [line for line in plan if line.startswith("SCAN ")]
        sorts = [line for line in plan if "TEMP B-TREE" in line]
        assert not scans and not sorts, plan
    else:
        plan = _postgres_plan(engine, statement, params)
        assert not [node for node in plan if node.startswith(("Seq Scan", "Sort"))], plan
