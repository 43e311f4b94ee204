"""The virtual clock shared by every worker process and replica.

The admin API writes the clock's state to the ``meta`` table (key ``clock``); each process
re-reads it at most every ``interval`` seconds, so a ``PUT /__admin/clock`` reaches all workers
within that time (and the process that took the change at once).
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime, timedelta
from typing import Any

from uniqodo_mock.core.clock import Clock, ClockState
from uniqodo_mock.store.outages import DatabaseError
from uniqodo_mock.store.repository import Repository

logger = logging.getLogger("uniqodo_mock.clock")

__all__ = ["ClockSync", "state_from_json", "state_to_json"]

_KEY = "clock"


def state_to_json(state: ClockState) -> dict[str, Any]:
    return {
        "frozen_at": state.frozen_at.isoformat() if state.frozen_at else None,
        "offset_seconds": state.offset.total_seconds(),
    }


def state_from_json(value: Any) -> ClockState:
    if not isinstance(value, dict):
        return ClockState()
    frozen = value.get("frozen_at")
    return ClockState(
        frozen_at=datetime.fromisoformat(frozen) if frozen else None,
        offset=timedelta(seconds=float(value.get("offset_seconds") or 0)),
    )


class ClockSync:
    def __init__(self, repo: Repository, clock: Clock, interval: float = 0.15) -> None:
        self.repo = repo
        self.clock = clock
        self.interval = interval
        self._checked = 0.0
        self._lock = threading.Lock()

    def refresh(self, *, force: bool = False) -> None:
        """Adopt the shared state if it is older than ``interval`` here (cheap: one key read)."""
        now = time.monotonic()
        if not force and now - self._checked < self.interval:
            return
        with self._lock:
            self._checked = now
            try:
                with self.repo.read() as conn:
                    value = self.repo.get_meta(conn, _KEY)
            except DatabaseError as error:
                # The database is away: keep the last known clock; the request itself will
                # meet the outage where it is answered in the envelope (503).
                logger.warning("cannot read the shared clock: %s", error.__class__.__name__)
                return
            self.clock._state = state_from_json(value)

    def publish(self) -> None:
        """Share this process's clock state with every other process."""
        with self.repo.write() as conn:
            self.repo.set_meta(conn, _KEY, state_to_json(self.clock.state))
        self._checked = time.monotonic()

    def set(self, now: datetime, *, frozen: bool) -> None:
        self.clock.set(now, frozen=frozen)
        self.publish()

    def offset_by(self, seconds: float) -> None:
        self.clock.offset_by(seconds)
        self.publish()

    def real(self) -> None:
        self.clock.reset()
        self.publish()
