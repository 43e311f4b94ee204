"""Answers of read-only operations, reused while nothing they depend on has changed.

Integrations ask the same thing again and again: a customer's code (``GET /code`` with the same
``uid``), the publisher query for the same user. Such an answer is a function of the stored
state, the error catalogue and settings in force, and the mock's clock. ``MockService`` keeps
it under a token of those — the database's data version (which changes whenever anyone, this
process or another worker or replica, commits a change), the catalogue and settings objects,
and the clock's state — and for at most as long as time alone cannot change it (until the
offer ends or the code expires). Every request still reads the data version from the
database, so a change by anyone is seen by the next request: answers are exact, never stale.

Only answers without errors are kept: an error carries a reference that is new per answer.
Databases without a cheap data version (PostgreSQL) keep nothing here.
"""

from __future__ import annotations

import threading
from collections.abc import Hashable
from datetime import datetime
from typing import Any

__all__ = ["ReadMemo", "ReadToken"]

# (data version, error catalogue, settings, clock state): see ``MockService._read_token``.
ReadToken = tuple[Hashable, Any, Any, Hashable]


def _same(a: ReadToken, b: ReadToken) -> bool:
    # The catalogue and settings are compared by identity: reloading them makes new objects.
    return a[0] == b[0] and a[1] is b[1] and a[2] is b[2] and a[3] == b[3]


class ReadMemo:
    def __init__(self, *, enabled: bool = True, max_entries: int = 4096) -> None:
        self.enabled = enabled
        self.max_entries = max_entries
        self._entries: dict[Hashable, tuple[ReadToken, datetime, Any]] = {}
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def lookup(self, key: Hashable, token: ReadToken, now: datetime) -> Any | None:
        """The answer kept for ``key`` if it was computed under ``token`` and ``now`` is before
        the moment time alone could change it; else None."""
        entry = self._entries.get(key)
        if entry is not None and now < entry[1] and _same(entry[0], token):
            self.hits += 1
            return entry[2]
        self.misses += 1
        return None

    def store(self, key: Hashable, token: ReadToken, until: datetime, answer: Any) -> None:
        """Keep ``answer``, computed under ``token`` (read before the computation began), until
        ``until`` on the mock's clock."""
        with self._lock:
            if len(self._entries) >= self.max_entries:
                self._entries.clear()  # bounded: clients may ask about many customers
            self._entries[key] = (token, until, answer)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
