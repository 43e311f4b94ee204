"""Outbox claims on both databases: one claimant per row; an expired claim can be taken over;
a claimant whose lease was taken over does not move the row."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, select

from uniqodo_mock.core.dates import to_db
from uniqodo_mock.store.engine import create_db_engine
from uniqodo_mock.store.migrate import upgrade
from uniqodo_mock.store.outbox import AttemptRecord, OutboxStore
from uniqodo_mock.store.repository import Repository
from uniqodo_mock.store.schema import outbox


def _store(db_url: str) -> OutboxStore:
    engine = create_db_engine(db_url)
    upgrade(engine)
    return OutboxStore(Repository(engine))


def _queue(store: OutboxStore, count: int, now: datetime) -> None:
    rows = [
        {
            "delivery_id": f"d-{i}",
            "redemption_id": i,
            "subscription_id": 1,
            "url": "http://127.0.0.1:9/cb",
            "method": "POST",
            "headers": {},
            "payload": {"code": f"C{i}"},
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": to_db(now),
            "created_at": to_db(now),
        }
        for i in range(count)
    ]
    with store.repo.write() as conn:
        conn.execute(insert(outbox), rows)


def test_claims_are_exclusive_until_they_expire(db_url: str) -> None:
    store = _store(db_url)
    now = datetime.now(UTC)
    _queue(store, 5, now)
    lease = timedelta(seconds=30)
    first = store.claim("a", now, lease, 3)
    second = store.claim("b", now, lease, 10)
    assert len(first) == 3 and len(second) == 2
    assert not {d.delivery_id for d in first} & {d.delivery_id for d in second}
    assert store.claim("c", now, lease, 10) == []
    # "a" died: after its lease, "c" takes its rows over.
    later = now + lease + timedelta(seconds=1)
    taken = store.claim("c", later, lease, 10)
    assert {d.delivery_id for d in taken} == {d.delivery_id for d in first} | {
        d.delivery_id for d in second
    }
    # "a" comes back with a result: logged, but the row stays with "c".
    late = AttemptRecord(now, 200, 1.0, None, True, None)
    assert store.record(first[0], "a", late) == "delivered"
    with store.repo.read() as conn:
        row = conn.execute(
            select(outbox.c.status, outbox.c.claimed_by).where(outbox.c.id == first[0].id)
        ).one()
    assert tuple(row) == ("pending", "c")
    [logged] = [d for d in store.list() if d["delivery_id"] == first[0].delivery_id]
    assert [a["outcome"] for a in logged["attempts"]] == ["delivered"]
    assert logged["status"] == "pending"
    store.repo.engine.dispose()


def test_retry_waits_for_its_time_and_give_up_is_final(db_url: str) -> None:
    store = _store(db_url)
    now = datetime.now(UTC)
    _queue(store, 1, now)
    lease = timedelta(seconds=30)
    [delivery] = store.claim("a", now, lease, 1)
    retry_at = now + timedelta(seconds=10)
    failed = AttemptRecord(now, 503, 2.0, "HTTP 503", False, retry_at)
    assert store.record(delivery, "a", failed) == "pending"
    assert store.claim("a", now + timedelta(seconds=5), lease, 1) == []
    [again] = store.claim("a", retry_at + timedelta(seconds=1), lease, 1)
    assert again.attempts == 1 and again.delivery_id == delivery.delivery_id
    gave_up = AttemptRecord(now, None, 5.0, "timed out", False, None)
    assert store.record(again, "a", gave_up) == "failed"
    assert store.claim("a", retry_at + timedelta(days=1), lease, 1) == []
    [listed] = store.list(status="failed")
    assert [a["outcome"] for a in listed["attempts"]] == ["retry", "gave_up"]
    assert listed["attempts"][0]["status_code"] == 503
    store.repo.engine.dispose()


def test_an_attempt_is_counted_before_it_is_sent(db_url: str) -> None:
    """A dispatcher that died mid-delivery recorded nothing; the one that takes the row over
    sends the next attempt number, not 1 again. A claim given back unsent counts nothing."""
    store = _store(db_url)
    now = datetime.now(UTC)
    _queue(store, 1, now)
    lease = timedelta(seconds=30)
    [first] = store.claim("a", now, lease, 1)
    assert (first.attempts, first.attempt) == (0, 1)
    # "a" dies while sending; after its lease "b" (another process, a restart) goes on.
    later = now + lease + timedelta(seconds=1)
    [second] = store.claim("b", later, lease, 1)
    assert (second.attempts, second.attempt) == (0, 2)
    failed = AttemptRecord(later, 500, 1.0, "HTTP 500", False, later)
    assert store.record(second, "b", failed) == "pending"
    # "c" claims the retry and is stopped before sending it (a fault rule's hold): it gives
    # the claim back, and the attempt it began is not counted.
    [third] = store.claim("c", later + timedelta(seconds=1), lease, 1)
    assert (third.attempts, third.attempt) == (2, 3)
    store.release("c")
    [fourth] = store.claim("d", later + timedelta(seconds=2), lease, 1)
    assert (fourth.attempts, fourth.attempt) == (2, 3)
    delivered = AttemptRecord(later, 200, 1.0, None, True, None)
    assert store.record(fourth, "d", delivered) == "delivered"
    [listed] = store.list()
    assert [a["attempt"] for a in listed["attempts"]] == [2, 3]
    assert listed["attempt_count"] == 3
    store.repo.engine.dispose()
