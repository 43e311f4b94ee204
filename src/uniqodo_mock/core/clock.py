"""The mock's notion of "now": real time, or a virtual clock set, frozen or offset by tests.

Every rule that depends on time (promotion windows, per-code expiry, validation locks,
``redeemed_at``) asks a ``Clock``; nothing in the core calls ``datetime.now`` directly.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

__all__ = ["Clock", "ClockState"]


@dataclass(frozen=True)
class ClockState:
    """How the clock is set. ``frozen_at`` wins over ``offset``; neither means real time."""

    frozen_at: datetime | None = None
    offset: timedelta = timedelta(0)

    @property
    def is_real(self) -> bool:
        return self.frozen_at is None and not self.offset

    def to_json(self) -> dict[str, object]:
        return {
            "frozen": self.frozen_at is not None,
            "frozen_at": self.frozen_at.isoformat() if self.frozen_at else None,
            "offset_seconds": self.offset.total_seconds(),
            "real": self.is_real,
        }


class Clock:
    """A clock that reads real time unless told otherwise. Returns aware UTC datetimes."""

    def __init__(self, state: ClockState | None = None) -> None:
        self._state = state or ClockState()

    @property
    def state(self) -> ClockState:
        return self._state

    def now(self) -> datetime:
        state = self._state
        if state.frozen_at is not None:
            return state.frozen_at
        real = datetime.fromtimestamp(time.time(), UTC)
        return real + state.offset if state.offset else real

    def set(self, now: datetime, *, frozen: bool) -> None:
        """Jump to ``now``; time stands still there when ``frozen``, else it runs on from it."""
        now = now.astimezone(UTC) if now.tzinfo else now.replace(tzinfo=UTC)
        if frozen:
            self._state = ClockState(frozen_at=now)
        else:
            self._state = ClockState(offset=now - datetime.now(UTC))

    def offset_by(self, seconds: float) -> None:
        self._state = ClockState(offset=timedelta(seconds=seconds))

    def reset(self) -> None:
        self._state = ClockState()
