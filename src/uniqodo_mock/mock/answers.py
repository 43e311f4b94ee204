"""The one cache of the mock: rendered answers of read-only requests, kept while provably
unchanged.

A read-only operation's answer (``Outcome.keep_until`` set) is a function of the request, the
stored state, the settings and error catalogue in force, and the mock's clock. It is kept under
a token of the last three, read before the answer is computed: the database's data version
(``store/changes.py``: it changes whenever anyone commits, this process, another worker or
replica), the generation of the settings and catalogue (it counts their reloads) and the
clock's state; and for as long as time alone cannot change it (``keep_until``: until an
offer starts or ends, a code expires). An answer reused is byte for byte the answer the
computation would give: error references are derived from the request, not drawn at random.

This is the only cache. Where the database has no data version (PostgreSQL), nothing is kept.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from datetime import datetime
from typing import Generic, TypeVar

from uniqodo_mock.store.changes import DataVersion

__all__ = ["AnswerCache", "CacheToken"]

A = TypeVar("A")

# (data version, settings generation, clock state): plain values.
CacheToken = tuple[int, int, Hashable]


class AnswerCache(Generic[A]):
    def __init__(
        self,
        data_version: DataVersion,
        state_of: Callable[[], tuple[int, Hashable]],
        *,
        enabled: bool = True,
        max_entries: int = 4096,
    ) -> None:
        """``state_of()``: the generation of the settings and catalogue in force (it counts
        their reloads) and the clock's state, as plain values."""
        self._version = data_version
        self._state_of = state_of
        self.enabled = enabled and data_version.available
        self.max_entries = max_entries
        self._entries: dict[Hashable, tuple[CacheToken, datetime, A]] = {}
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def token(self) -> CacheToken | None:
        """What answers computed from now on depend on; None when nothing can be kept."""
        if not self.enabled:
            return None
        version = self._version.read()
        if version is None:
            return None
        generation, clock_state = self._state_of()
        return (version, generation, clock_state)

    def get(self, key: Hashable, token: CacheToken, now: datetime) -> A | None:
        entry = self._entries.get(key)
        if entry is not None and now < entry[1] and entry[0] == token:
            self.hits += 1
            return entry[2]
        self.misses += 1
        return None

    def put(self, key: Hashable, token: CacheToken, until: datetime, answer: A) -> None:
        """Keep ``answer``, computed under ``token`` (read before the computation began),
        until ``until`` on the mock's clock."""
        with self._lock:
            if key not in self._entries and len(self._entries) >= self.max_entries:
                # Bounded: clients ask about many customers. The oldest entry goes first.
                del self._entries[next(iter(self._entries))]
            self._entries[key] = (token, until, answer)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
