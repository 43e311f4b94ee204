"""Concurrency across real processes: two ``uniqodo-mock serve`` replicas sharing one
PostgreSQL database, and ``--workers 2`` on SQLite. Redemption, issuing and use counts are
atomic in the database, not in one process's memory."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from tests.live.servers import mock_server, start_mock

pytestmark = pytest.mark.slow

KEY = "64a287ae534cf1bd58f45f3e23de9d433caec669"  # merchant 1, distributor 102


async def _burst(urls: list[str], paths: list[str]) -> list[httpx.Response]:
    """Send every path at once, round-robin over the replicas."""
    limits = httpx.Limits(max_connections=100)
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:
        return await asyncio.gather(
            *(client.get(urls[i % len(urls)] + path) for i, path in enumerate(paths))
        )


def _assert_one_redemption(responses: list[httpx.Response]) -> None:
    bodies = [r.json() for r in responses]  # every answer is an envelope
    ok = [b for b in bodies if b["result"] == "success"]
    failed = [b for b in bodies if b["result"] != "success"]
    assert len(ok) == 1, ok
    assert ok[0]["data"]["redemption"]["code"] == "AB12E3GH"
    assert len(failed) == 49
    for body in failed:
        assert body["result"] == "failure"
        assert body["errors"][0]["code"] == 201, body


def _redeem_paths(n: int) -> list[str]:
    return [f"/redeem/{KEY}/AB12E3GH/1?orderId=o{i}&orderValue=20" for i in range(n)]


@pytest.mark.postgres
def test_two_replicas_on_postgresql_one_success_in_fifty(pg_database: str) -> None:
    with mock_server(pg_database) as first, mock_server(pg_database) as second:
        responses = asyncio.run(_burst([first.url, second.url], _redeem_paths(50)))
        _assert_one_redemption(responses)
        # Both replicas see the one redemption.
        for server in (first, second):
            again = httpx.get(server.url + _redeem_paths(1)[0], timeout=10).json()
            assert again["errors"][0]["code"] == 201


@pytest.mark.postgres
def test_two_replicas_issue_distinct_codes(pg_database: str) -> None:
    with mock_server(pg_database) as first, mock_server(pg_database) as second:
        urls = [first.url, second.url]
        distinct = [f"/code/{KEY}/1234?uid=user{i}@example.com" for i in range(30)]
        same = [f"/code/{KEY}/1234?uid=same@example.com" for _ in range(20)]
        responses = asyncio.run(_burst(urls, distinct + same))
        assert all(r.status_code == 200 for r in responses), [r.text for r in responses]
        codes = [r.json()["data"]["code"] for r in responses]
        assert len(set(codes[:30])) == 30  # N customers, N different codes
        assert len(set(codes[30:])) == 1  # one customer asking twenty times at once: one code
        assert codes[30] not in codes[:30]


def test_two_workers_on_sqlite_one_success_in_fifty(sqlite_url: str) -> None:
    with mock_server(sqlite_url, "--workers", "2") as server:
        responses = asyncio.run(_burst([server.url], _redeem_paths(50)))
        _assert_one_redemption(responses)
        distinct = [f"/code/{KEY}/1234?uid=u{i}@example.com" for i in range(20)]
        same = [f"/code/{KEY}/1234?uid=same@example.com" for _ in range(10)]
        issued = asyncio.run(_burst([server.url], distinct + same))
        assert all(r.status_code == 200 for r in issued)
        codes = [r.json()["data"]["code"] for r in issued]
        assert len(set(codes[:20])) == 20
        assert len(set(codes[20:])) == 1


@pytest.mark.postgres
def test_replicas_starting_together_load_fixtures_once(pg_database: str) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from sqlalchemy import func, select

    from uniqodo_mock.store.engine import create_db_engine
    from uniqodo_mock.store.schema import codes

    with ThreadPoolExecutor(2) as pool:
        servers = list(pool.map(lambda _: start_mock(pg_database), range(2)))
    try:
        for server in servers:
            answer = httpx.get(f"{server.url}/offers/{KEY}/json", timeout=10).json()
            assert answer["data"]["total"] == 2
        engine = create_db_engine(pg_database)
        with engine.connect() as conn:
            fixture_codes = conn.execute(
                select(func.count()).select_from(codes).where(codes.c.code_norm == "AB12E3GH")
            ).scalar_one()
        engine.dispose()
        assert fixture_codes == 1
    finally:
        for server in servers:
            server.stop()


def test_sqlite_replicas_see_each_others_redemption_at_once(sqlite_url: str) -> None:
    """Two processes on one SQLite file, each keeping answers of repeated reads: a redemption
    through one is in the other's very next publisher query (the data version changed)."""
    uid = "replica-memo@example.com"
    query = f"/publisher/{KEY}/query/user-redemption/0821f4190897965c33eaca7954db5f23?userId={uid}"
    with mock_server(sqlite_url) as first, mock_server(sqlite_url) as second:
        code = httpx.get(f"{first.url}/code/{KEY}/4883?uid={uid}").json()["data"]["code"]
        for _ in range(3):  # computed once, then kept by the second process
            before = httpx.get(second.url + query).json()
            assert before["data"]["redemption"]["total"] == 0
        val_key = httpx.get(f"{first.url}/validate/{KEY}/{code}/1").json()["data"]["val_key"]
        redeemed = httpx.get(
            f"{first.url}/redeem/{KEY}/{code}/1?orderId=R1&orderValue=20&valKey={val_key}"
        ).json()
        assert redeemed["result"] == "success"
        after = httpx.get(second.url + query).json()
        assert after["data"]["redemption"]["total"] == 1
        assert after["data"]["redemption"]["records"][0]["order_id"] == "R1"
