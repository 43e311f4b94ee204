"""The fast lane for GET /code and the publisher query answers exactly as connexion does, and
hands everything unusual to connexion."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from uniqodo_mock.control.journal import JournalQuery
from uniqodo_mock.mock.app import create_app
from uniqodo_mock.mock.runtime import MockConfig, build_runtime

KEY = "64a287ae534cf1bd58f45f3e23de9d433caec669"
D103 = "6c702c6989223420f4ddde4e19da4016b2f9f54c"
UUID = "0821f4190897965c33eaca7954db5f23"
PQ = f"/publisher/{KEY}/query/user-redemption"

REQUESTS = [
    f"/code/{KEY}/4883?uid=alice@example.com",
    f"/code/{KEY}/4883?uid=alice@example.com",
    f"/code/{KEY}/4883?uid=ALICE@example.com&locale=fr_FR",
    f"/code/{KEY}/4883",
    f"/code/{KEY}/99999?uid=x",
    f"/code/{'0' * 40}/4883?uid=x",
    f"/code/{D103}/4883?uid=x",
    f"/code/{KEY}/abc?uid=x",
    f"/code/{KEY}/04883?uid=x",
    f"/code/{KEY}/4883?uid=a&uid=b",
    f"/code/{KEY}/4883?uid=%E9",
    f"/code/{KEY}/-1",
    f"/code/{KEY}/{'9' * 30}",
    f"{PQ}/{UUID}?userId=alice@example.com",
    f"{PQ}/{UUID}?userId=ABC123",
    f"{PQ}/{UUID}?userId=nobody",
    f"{PQ}/{UUID}",
    f"{PQ}/{UUID}?userId=",
    f"{PQ}/ffffffffffffffffffffffffffffffff?userId=alice@example.com",
    f"{PQ}/not-a-uuid?userId=alice@example.com",
    f"/publisher/{D103}/query/user-redemption/{UUID}?userId=ABC123&locale=fr_FR",
]


def _comparable(response: httpx.Response) -> tuple[int, str, Any]:
    body = response.json()
    if "uid=" not in str(response.request.url) and "/code/" in str(response.request.url):
        # Without uid every call issues a new code: compare everything but the code itself.
        for field in ("code", "url"):
            (body.get("data") or {}).pop(field, None)
    for error in body.get("errors") or []:
        error.pop("reference", None)  # random per answer
    return response.status_code, response.headers["content-type"], body


@pytest.fixture(scope="module")
def apps(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Any]]:
    """One state, served by an app with the fast path and one without."""
    db = tmp_path_factory.mktemp("fast") / "s.db"
    runtime = build_runtime(MockConfig(db_url=f"sqlite:///{db}"))
    fast = create_app(runtime=runtime)
    runtime.config.fast_path = False
    slow = create_app(runtime=runtime)
    yield fast, slow
    runtime.engine.dispose()


@pytest.mark.parametrize("path", REQUESTS)
def test_fast_and_connexion_answers_are_identical(apps: tuple[Any, Any], path: str) -> None:
    fast, slow = apps

    async def both() -> tuple[httpx.Response, httpx.Response]:
        async with (
            httpx.AsyncClient(transport=httpx.ASGITransport(fast), base_url="http://t") as f,
            httpx.AsyncClient(transport=httpx.ASGITransport(slow), base_url="http://t") as s,
        ):
            # Warm-up so that state-changing first calls (issuing) happened for both.
            await s.get(path)
            return await f.get(path), await s.get(path)

    fast_answer, slow_answer = asyncio.run(both())
    assert _comparable(fast_answer) == _comparable(slow_answer)


def test_fast_path_serves_without_connexion_and_falls_back(tmp_path: Path) -> None:
    from uniqodo_mock.mock.api import VendorApi
    from uniqodo_mock.mock.fastpath import FastPath, FastPathMiddleware
    from uniqodo_mock.specs import load_spec

    runtime = build_runtime(MockConfig(db_url=f"sqlite:///{tmp_path / 's.db'}"))
    reached: list[str] = []

    async def inner(scope: dict[str, Any], receive: Any, send: Any) -> None:
        reached.append(scope["path"])
        await send({"type": "http.response.start", "status": 299, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    app = FastPathMiddleware(
        inner,
        FastPath(
            VendorApi(runtime.service),
            load_spec("uniqodo.yaml"),
            lambda: runtime.service.catalogue,
        ),
    )

    async def run() -> list[httpx.Response]:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as c:
            return [
                await c.get(f"/code/{KEY}/4883?uid=bob@example.com"),
                await c.get(f"{PQ}/{UUID}?userId=bob@example.com"),
                await c.get(f"/code/{KEY}/abc"),
                await c.post(f"/code/{KEY}/4883"),
                await c.get(f"{PQ}/{UUID}"),
            ]

    answers = asyncio.run(run())
    runtime.engine.dispose()
    assert answers[0].json()["result"] == "success"
    assert answers[1].json()["data"]["redemption"]["total"] == 0
    assert [a.status_code for a in answers[2:]] == [299, 299, 299]
    assert len(reached) == 3


def _journal_view(entry: dict[str, Any]) -> dict[str, Any]:
    """A journal entry without what differs between two runs (ids, times, references)."""
    view = {k: v for k, v in entry.items() if k not in ("id", "at", "mock_now", "duration_ms")}
    view["errors"] = [{k: v for k, v in e.items() if k != "reference"} for e in entry["errors"]]
    return view


def test_hot_lane_answers_and_journals_as_the_full_stack(tmp_path: Path) -> None:
    """The hot lane (no fault rule can apply) and the full stack (a code-less fault rule that
    matches nothing forces every request through the controls) give the same answers and
    write the same journal entries."""
    runtime = build_runtime(MockConfig(db_url=f"sqlite:///{tmp_path / 's.db'}"))
    app = create_app(runtime=runtime)
    journal = runtime.controls.journal
    faults = runtime.controls.faults
    # Without uid every call issues a new code (the pool count in later answers moves).
    requests = [path for path in REQUESTS if path != f"/code/{KEY}/4883"]

    async def run_all() -> list[httpx.Response]:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as c:
            return [await c.get(path) for path in requests]

    asyncio.run(run_all())  # issue codes first: both passes then see the same state
    journal.clear()
    assert not faults.may_apply(None)
    hot_answers = asyncio.run(run_all())
    hot_journal = [_journal_view(e.to_json()) for e in journal.query(JournalQuery(limit=100))]
    journal.clear()

    rule = faults.add({"path": "/nowhere", "status": 500})
    assert faults.may_apply(None)
    full_answers = asyncio.run(run_all())
    full_journal = [_journal_view(e.to_json()) for e in journal.query(JournalQuery(limit=100))]
    faults.delete(rule.id)
    runtime.engine.dispose()

    assert len(hot_journal) == len(requests)
    assert [_comparable(a) for a in hot_answers] == [_comparable(a) for a in full_answers]
    assert hot_journal == full_journal


def test_hot_lane_steps_aside_for_a_matching_fault_rule(tmp_path: Path) -> None:
    """A rule for one uid (a code-indexed rule) takes that request through the controls, which
    apply it; other requests stay in the hot lane."""
    runtime = build_runtime(MockConfig(db_url=f"sqlite:///{tmp_path / 's.db'}"))
    app = create_app(runtime=runtime)
    runtime.controls.faults.add({"code": "faulty@example.com", "status": 503})

    async def run() -> list[httpx.Response]:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as c:
            return [
                await c.get(f"/code/{KEY}/4883?uid=faulty@example.com"),
                await c.get(f"/code/{KEY}/4883?uid=fine@example.com"),
            ]

    faulty, fine = asyncio.run(run())
    entries = runtime.controls.journal.query(JournalQuery(limit=10))
    runtime.engine.dispose()
    assert faulty.status_code == 503
    assert faulty.json()["result"] == "failure"
    assert fine.status_code == 200
    assert fine.json()["result"] == "success"
    newest, oldest = entries
    assert oldest.fault is not None and oldest.status == 503
    assert newest.fault is None and newest.code == "fine@example.com"
