"""A per-process cache of the rows read on every request that change only when fixtures or
admin operations change them: API keys, offers, authorisations.

Staleness is detected with the ``state_version`` counter that database triggers bump on every
change (any process, any replica). The counter is re-read at most every ``ttl`` seconds, and
at once after this process wrote anything, so a change made through this process is seen by
its next request and a change made by another replica within ``ttl``. ``ttl=0`` disables the
cache. Only read-only transactions fill it: a write transaction may roll back.

``get_volatile`` keeps values that ordinary traffic changes (an offer's remaining pool count)
for at most ``ttl``, dropped at once when this process writes anything.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from sqlalchemy import Connection, select

from uniqodo_mock.store.schema import state_version

__all__ = ["VersionedCache"]

T = TypeVar("T")
_MAX_ENTRIES = 10_000  # bounded memory: unknown keys probed by clients are cached too
_VERSION = select(state_version.c.version).where(state_version.c.id == 1)


class VersionedCache:
    def __init__(self, ttl: float = 0.1) -> None:
        self.ttl = ttl
        self._entries: dict[Hashable, Any] = {}
        self._version: int | None = None
        self._checked_at = 0.0
        self._stale = True
        self._lock = threading.Lock()
        # Values that change with ordinary traffic (pool counts): kept for at most ``ttl``
        # and dropped on any write by this process.
        self._volatile: dict[Hashable, tuple[float, int, Any, Hashable | None]] = {}
        self._writes = 0

    @property
    def enabled(self) -> bool:
        return self.ttl > 0

    def mark_written(self) -> None:
        """This process committed a write: check the version before the next cached read."""
        self._stale = True
        self._writes += 1

    def mark_changed(self) -> None:
        """Someone (maybe another replica) changed the database: check the version before
        the next cached read."""
        self._stale = True

    def get_volatile(
        self,
        conn: Connection,
        key: Hashable,
        load: Callable[[], T],
        *,
        version: Hashable | None = None,
    ) -> T:
        """A value any write may change: exact for this process's own writes, at most ``ttl``
        old for other replicas' writes; exact for everyone's writes when ``version`` (a
        database data version, see ``Repository.data_version``) is given."""
        if not self.enabled or not conn.get_execution_options().get("uqm_readonly"):
            return load()
        now = time.monotonic()
        writes = self._writes
        hit = self._volatile.get(key)
        if hit is not None:
            if version is not None:
                if hit[3] == version:
                    return hit[2]
            elif hit[1] == writes and now - hit[0] < self.ttl and hit[3] is None:
                return hit[2]
        value = load()
        with self._lock:
            if len(self._volatile) >= _MAX_ENTRIES:
                self._volatile.clear()
            self._volatile[key] = (now, writes, value, version)
        return value

    def get(self, conn: Connection, key: Hashable, load: Callable[[], T]) -> T:
        if not self.enabled or not conn.get_execution_options().get("uqm_readonly"):
            return load()
        self._refresh(conn)
        try:
            return self._entries[key]
        except KeyError:
            pass
        value = load()
        with self._lock:
            if len(self._entries) >= _MAX_ENTRIES:
                self._entries.clear()
            self._entries[key] = value
        return value

    def _refresh(self, conn: Connection) -> None:
        now = time.monotonic()
        if not self._stale and now - self._checked_at < self.ttl:
            return
        self._stale = False
        version = conn.execute(_VERSION).scalar_one_or_none()
        with self._lock:
            self._checked_at = now
            if version != self._version:
                self._entries.clear()
                self._version = version
