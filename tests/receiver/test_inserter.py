"""The writer's batch inserter: exact round trip, a held connection that recovers, id order."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import Engine
from tests.conftest import empty_pg_database

from uniqodo_mock.receiver.filters import parse_filter
from uniqodo_mock.receiver.inserter import _ID_ORDER_LOCK, BatchInserter
from uniqodo_mock.receiver.migrations import upgrade_schema
from uniqodo_mock.receiver.model import Param, RecordedCall, Verdict
from uniqodo_mock.receiver.store import CallStore
from uniqodo_mock.store.engine import create_db_engine
from uniqodo_mock.testing import wait_until


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = create_db_engine(db_url)
    upgrade_schema(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def pg_url(pg_session_url: str) -> str:
    empty_pg_database(pg_session_url)
    return pg_session_url


def _dsn(engine: Engine) -> str:
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


def _calls() -> list[RecordedCall]:
    return [
        RecordedCall(
            "POST",
            "/hook/ü",
            "a=1&a=2",
            [("Content-Type", "application/json"), ("X-Odd", "é\x00")],
            b'{"code": "AB12"}\x00\xff',
            1_700_000_000_123_456,
            client="127.0.0.1:5555",
            content_type="application/json",
            body_size=18,
            response_status=500,
            params=[
                Param("query", "a", "1"),
                Param("query", "a", "2"),
                Param("json", "code", "AB12"),
            ],
            verdict=Verdict(True, False, ("code is odd", "orderId is required but missing")),
        ),
        RecordedCall("GET", "/", "", [], b"", 1, verdict=Verdict(False, None)),
        RecordedCall(
            "PUT",
            "/big",
            "",
            [("h", "v")],
            b"",
            2,
            body_size=10**9,
            rejected=True,
            response_status=413,
            params=[Param("form", "n" * 150, "v" * 500)],
            verdict=Verdict(True, True, ()),
        ),
    ]


def test_every_field_round_trips(engine: Engine) -> None:
    sent = _calls()
    with BatchInserter(engine) as inserter:
        ids = inserter.insert(sent)
    assert ids == sorted(ids) and len(set(ids)) == 3
    assert [call.id for call in sent] == ids
    stored = CallStore(engine).list(parse_filter([]))
    assert stored == sent  # dataclass equality: every field, the exact body bytes included


def test_the_parameter_index_is_cut_to_fit_and_finds_each_call(engine: Engine) -> None:
    store = CallStore(engine)
    with BatchInserter(engine) as inserter:
        first, _, third = inserter.insert(_calls())
    assert [c.id for c in store.list(parse_filter([("param", "a:2")]))] == [first]
    long_name, long_value = "n" * 100, "v" * 400  # PARAM_NAME_MAX, PARAM_VALUE_MAX
    found = store.list(parse_filter([("param", f"{long_name}:{long_value}")]))
    assert [c.id for c in found] == [third]
    assert found[0].params[0].value == "v" * 500  # the call keeps the whole value


def test_later_batches_get_larger_ids(engine: Engine) -> None:
    with BatchInserter(engine) as inserter:
        first = inserter.insert(_calls())
        second = inserter.insert(_calls()[:1])
    assert max(first) < second[0]


@pytest.mark.postgres
def test_a_connection_broken_while_idle_is_replaced_before_use(pg_url: str) -> None:
    engine = create_db_engine(pg_url, pool_pre_ping=True)
    upgrade_schema(engine)
    with BatchInserter(engine, recheck_after_idle=0.0) as inserter:
        inserter.insert(_calls()[:1])
        _terminate_other_backends(engine)
        [call_id] = inserter.insert(_calls()[:1])  # the pool's pre-ping found the dead one
    assert CallStore(engine).get(call_id) is not None
    engine.dispose()


@pytest.mark.postgres
def test_a_connection_broken_under_load_fails_one_batch_then_recovers(pg_url: str) -> None:
    engine = create_db_engine(pg_url)
    upgrade_schema(engine)
    with BatchInserter(engine, recheck_after_idle=3600.0) as inserter:
        inserter.insert(_calls()[:1])
        _terminate_other_backends(engine)
        with pytest.raises(psycopg.OperationalError):
            inserter.insert(_calls()[:1])
        [call_id] = inserter.insert(_calls()[:1])
    assert CallStore(engine).get(call_id) is not None
    assert CallStore(engine).count(parse_filter([])) == 2  # the failed batch stored nothing
    engine.dispose()


@pytest.mark.postgres
def test_batches_take_the_id_order_lock_before_drawing_ids(pg_url: str) -> None:
    """Another writer holding the lock (mid-commit) holds a batch back: ids commit in order."""
    engine = create_db_engine(pg_url)
    upgrade_schema(engine)
    done: list[int] = []
    with psycopg.connect(_dsn(engine)) as holder, BatchInserter(engine) as inserter:
        holder.execute("SELECT pg_advisory_xact_lock(%s)", (_ID_ORDER_LOCK,))
        writer = threading.Thread(target=lambda: done.extend(inserter.insert(_calls())))
        writer.start()
        with psycopg.connect(_dsn(engine), autocommit=True) as watcher:
            wait_until(
                lambda: watcher.execute(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
                ).fetchone()[0],  # type: ignore[index]
                what="the batch to wait for the lock",
            )
        assert not done
        assert CallStore(engine).count(parse_filter([])) == 0  # no id drawn and committed
        holder.rollback()  # releases the lock
        writer.join(15)
    assert len(done) == 3
    engine.dispose()


def _terminate_other_backends(engine: Engine) -> None:
    with psycopg.connect(_dsn(engine), autocommit=True) as admin:
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
