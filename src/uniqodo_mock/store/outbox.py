"""The callback outbox's queries: claiming due deliveries, recording attempts, listing them.

Claims make each delivery go out from one dispatcher at a time across processes and replicas:
PostgreSQL picks rows with ``FOR UPDATE SKIP LOCKED``; SQLite (one writer at a time) uses a
conditional UPDATE of ``claimed_by``/``claimed_until``. A claim is a lease: a dispatcher killed
mid-delivery leaves a claim that expires, and the row is delivered again (at least once; the
stable ``delivery_id`` lets receivers de-duplicate).

A claim also counts the attempt it begins (``attempts_started``, in the claim's own write,
before anything is sent): the delivery sent again after a dispatcher died carries the next
attempt number. A claim given back unsent (``release``) takes its count back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, desc, insert, or_, select, update

from uniqodo_mock.core.dates import from_db, to_db
from uniqodo_mock.store.repository import Repository
from uniqodo_mock.store.schema import delivery_attempts, outbox, redemptions

__all__ = ["AttemptRecord", "ClaimedDelivery", "OutboxStore"]


@dataclass(frozen=True)
class ClaimedDelivery:
    id: int
    delivery_id: str
    redemption_id: int
    subscription_id: int
    url: str
    method: str
    headers: dict[str, str]
    payload: dict[str, Any]
    # Attempts finished (recorded) before this one.
    attempts: int
    # The number of the attempt this claim begins (counted on the row before sending).
    attempt: int = 1
    # The redeemed code, for fault rules that match callbacks by code.
    code: str | None = None


@dataclass(frozen=True)
class AttemptRecord:
    """One attempt's result. ``next_attempt_at`` None with ``delivered`` False means give up."""

    started_at: datetime
    status_code: int | None
    latency_ms: float
    error: str | None
    delivered: bool
    next_attempt_at: datetime | None


def _iso(value: datetime | None) -> str | None:
    return from_db(value).isoformat() if value else None


class OutboxStore:
    def __init__(self, repo: Repository) -> None:
        self.repo = repo

    def _due(self, now: datetime) -> Any:
        # First attempts are due at once whatever the simulated clock wrote in next_attempt_at
        # (a clock set ahead must not hold callbacks back); retries wait for their time.
        stamp = to_db(now)
        return and_(
            outbox.c.status == "pending",
            or_(outbox.c.attempts == 0, outbox.c.next_attempt_at <= stamp),
            or_(outbox.c.claimed_until.is_(None), outbox.c.claimed_until < stamp),
        )

    def claim(
        self, worker: str, now: datetime, lease: timedelta, limit: int
    ) -> list[ClaimedDelivery]:
        """Claim up to ``limit`` due deliveries for ``worker`` until ``now + lease``."""
        if limit <= 0:
            return []
        until = to_db(now + lease)
        with self.repo.write() as conn:
            pick = select(outbox.c.id).where(self._due(now)).order_by(outbox.c.id).limit(limit)
            if self.repo.is_postgres:
                pick = pick.with_for_update(skip_locked=True)
            ids = list(conn.execute(pick).scalars())
            claimed: list[int] = []
            for row_id in ids:
                done = conn.execute(
                    update(outbox)
                    .where(outbox.c.id == row_id, self._due(now))
                    .values(
                        claimed_by=worker,
                        claimed_until=until,
                        attempts_started=outbox.c.attempts_started + 1,
                    )
                ).rowcount
                if done == 1:
                    claimed.append(row_id)
            if not claimed:
                return []
            rows = conn.execute(
                select(outbox, redemptions.c.code.label("redeemed_code"))
                .select_from(
                    outbox.outerjoin(redemptions, redemptions.c.id == outbox.c.redemption_id)
                )
                .where(outbox.c.id.in_(claimed))
                .order_by(outbox.c.id)
            ).all()
        return [
            ClaimedDelivery(
                id=m["id"],
                delivery_id=m["delivery_id"],
                redemption_id=m["redemption_id"],
                subscription_id=m["subscription_id"],
                url=m["url"],
                method=m["method"],
                headers=dict(m["headers"] or {}),
                payload=dict(m["payload"] or {}),
                attempts=m["attempts"],
                # A row of an older dispatcher may have finished more than it counted begun.
                attempt=max(m["attempts_started"], m["attempts"] + 1),
                code=m["redeemed_code"],
            )
            for m in (row._mapping for row in rows)
        ]

    def record(self, delivery: ClaimedDelivery, worker: str, result: AttemptRecord) -> str:
        """Log the attempt and move the row on (delivered, retry later, or failed); releases
        the claim. Returns the row's new status."""
        attempt = delivery.attempt
        if result.delivered:
            status, outcome = "delivered", "delivered"
        elif result.next_attempt_at is None:
            status, outcome = "failed", "gave_up"
        else:
            status, outcome = "pending", "retry"
        values: dict[str, Any] = {
            "status": status,
            "attempts": attempt,
            "claimed_by": None,
            "claimed_until": None,
        }
        if result.delivered:
            values["delivered_at"] = to_db(result.started_at)
        if result.next_attempt_at is not None and not result.delivered:
            values["next_attempt_at"] = to_db(result.next_attempt_at)
        with self.repo.write() as conn:
            conn.execute(
                insert(delivery_attempts).values(
                    outbox_id=delivery.id,
                    delivery_id=delivery.delivery_id,
                    attempt=attempt,
                    started_at=to_db(result.started_at),
                    status_code=result.status_code,
                    latency_ms=round(result.latency_ms, 3),
                    error=result.error,
                    outcome=outcome,
                )
            )
            # Only the current claimant moves the row: if the lease ran out and another
            # dispatcher took it, that one's result counts (the attempt is still logged).
            conn.execute(
                update(outbox)
                .where(outbox.c.id == delivery.id, outbox.c.claimed_by == worker)
                .values(**values)
            )
        return status

    def release(self, worker: str) -> None:
        """Give back this worker's claims (a clean shutdown), so others need not wait: their
        deliveries were not sent (held by a fault rule), so the attempts they began are not
        counted."""
        with self.repo.write() as conn:
            conn.execute(
                update(outbox)
                .where(outbox.c.claimed_by == worker, outbox.c.status == "pending")
                .values(claimed_by=None, claimed_until=None, attempts_started=outbox.c.attempts)
            )

    def list(
        self,
        *,
        status: str | None = None,
        subscription_id: int | None = None,
        redemption_id: int | None = None,
        limit: int = 100,
    ) -> list[dict[str, Any]]:
        """Deliveries, newest first, each with its attempts (oldest first)."""
        query = select(outbox).order_by(desc(outbox.c.id)).limit(limit)
        if status:
            query = query.where(outbox.c.status == status)
        if subscription_id is not None:
            query = query.where(outbox.c.subscription_id == subscription_id)
        if redemption_id is not None:
            query = query.where(outbox.c.redemption_id == redemption_id)
        with self.repo.read() as conn:
            rows = [dict(row._mapping) for row in conn.execute(query)]
            ids = [row["id"] for row in rows]
            attempts: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
            if ids:
                for a in conn.execute(
                    select(delivery_attempts)
                    .where(delivery_attempts.c.outbox_id.in_(ids))
                    .order_by(delivery_attempts.c.id)
                ):
                    m = a._mapping
                    attempts[m["outbox_id"]].append(
                        {
                            "attempt": m["attempt"],
                            "started_at": _iso(m["started_at"]),
                            "status_code": m["status_code"],
                            "latency_ms": m["latency_ms"],
                            "error": m["error"],
                            "outcome": m["outcome"],
                        }
                    )
        return [
            {
                "delivery_id": row["delivery_id"],
                "redemption_id": row["redemption_id"],
                "subscription_id": row["subscription_id"],
                "url": row["url"],
                "method": row["method"],
                "payload": row["payload"],
                "status": row["status"],
                "attempt_count": row["attempts"],
                "next_attempt_at": _iso(row["next_attempt_at"])
                if row["status"] == "pending"
                else None,
                "created_at": _iso(row["created_at"]),
                "delivered_at": _iso(row["delivered_at"]),
                "attempts": attempts[row["id"]],
            }
            for row in rows
        ]
