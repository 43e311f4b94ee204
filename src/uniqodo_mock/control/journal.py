"""The request journal: every request the mock received, what it answered and why.

Kept in a ``JournalStore``: the database the replicas and workers share (``store/controls.py``,
bounded, oldest entries trimmed first), so the journal read through any replica lists the
requests every replica answered; or, without a database, a bounded deque in memory.

Entries are held as tuples of plain values (strings, numbers, datetimes, and the parameters,
errors and fault as JSON bytes) and turned into ``JournalEntry`` objects when read: a full
journal is 10,000 entries, and as objects with their dicts they were tens of thousands of
containers the cycle collector walked on every full collection, pausing the server. A tuple
of plain values is not tracked by the collector at all.
"""

from __future__ import annotations

import itertools
import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import orjson

__all__ = ["Journal", "JournalEntry", "JournalQuery", "JournalStore", "MemoryJournalStore"]


@dataclass
class JournalEntry:
    id: int
    at: datetime
    mock_now: datetime
    method: str
    path: str
    operation: str | None
    params: dict[str, Any]
    status: int
    api_key: str | None = None
    code: str | None = None
    errors: list[dict[str, Any]] = field(default_factory=list)
    fault: dict[str, Any] | None = None
    duration_ms: float | None = None

    def as_record(self) -> tuple[Any, ...]:
        """The entry as the journal holds it: a tuple of plain values, the parameters,
        errors and fault as JSON (see the module's docstring)."""
        return (
            self.id,
            self.at,
            self.mock_now,
            self.method,
            self.path,
            self.operation,
            orjson.dumps(self.params),
            self.status,
            self.api_key,
            self.code,
            orjson.dumps(self.errors),
            orjson.dumps(self.fault) if self.fault is not None else None,
            self.duration_ms,
        )

    @classmethod
    def from_record(cls, record: tuple[Any, ...]) -> JournalEntry:
        values = list(record)
        values[6] = orjson.loads(values[6])
        values[10] = orjson.loads(values[10])
        values[11] = orjson.loads(values[11]) if values[11] is not None else None
        return cls(*values)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "at": self.at.isoformat(),
            "mock_now": self.mock_now.isoformat(),
            "method": self.method,
            "path": self.path,
            "operation": self.operation,
            "params": self.params,
            "status": self.status,
            "api_key": self.api_key,
            "code": self.code,
            "errors": self.errors,
            "fault": self.fault,
            "duration_ms": round(self.duration_ms, 3) if self.duration_ms is not None else None,
        }


@dataclass
class JournalQuery:
    operation: str | None = None
    code: str | None = None
    error: int | None = None
    key: str | None = None
    status: int | None = None
    reference: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 100

    def matches(self, entry: JournalEntry) -> bool:
        if self.operation and entry.operation != self.operation:
            return False
        if self.code and (entry.code or "").strip().upper() != self.code.strip().upper():
            return False
        if self.error is not None and not any(e.get("code") == self.error for e in entry.errors):
            return False
        if self.key and entry.api_key != self.key:
            return False
        if self.status is not None and entry.status != self.status:
            return False
        if self.reference and not any(e.get("reference") == self.reference for e in entry.errors):
            return False
        if self.since and entry.at < self.since:
            return False
        return not (self.until and entry.at > self.until)


class JournalStore(Protocol):
    """Where entries are kept: this process's memory (``MemoryJournalStore``) or the database
    every replica shares (``store/controls.py``). Records are ``JournalEntry.as_record()``
    tuples; a store may give entries ids of its own."""

    def append(self, records: Sequence[tuple[Any, ...]], max_entries: int) -> None: ...

    def query(
        self,
        *,
        operation: str | None = None,
        code: str | None = None,
        key: str | None = None,
        status: int | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 100,
        keep: Callable[[tuple[Any, ...]], bool] | None = None,
    ) -> list[tuple[Any, ...]]: ...

    def held(self) -> int: ...

    def dropped(self) -> int: ...

    def clear(self) -> int: ...


class MemoryJournalStore:
    """A bounded deque in this process (oldest entries dropped first)."""

    def __init__(self, max_entries: int) -> None:
        self._entries: deque[tuple[Any, ...]] = deque(maxlen=max_entries)
        self._lock = threading.Lock()
        self._dropped = 0

    def append(self, records: Sequence[tuple[Any, ...]], max_entries: int) -> None:
        with self._lock:
            for record in records:
                if len(self._entries) == self._entries.maxlen:
                    self._dropped += 1
                self._entries.append(record)

    def query(
        self,
        *,
        operation: str | None = None,
        code: str | None = None,
        key: str | None = None,
        status: int | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 100,
        keep: Callable[[tuple[Any, ...]], bool] | None = None,
    ) -> list[tuple[Any, ...]]:
        with self._lock:
            entries = list(self._entries)
        out: list[tuple[Any, ...]] = []
        for record in reversed(entries):
            if keep is None or keep(record):
                out.append(record)
                if len(out) >= limit:
                    break
        return out

    def held(self) -> int:
        return len(self._entries)

    def dropped(self) -> int:
        return self._dropped

    def clear(self) -> int:
        with self._lock:
            count = len(self._entries)
            self._entries.clear()
            return count


class Journal:
    """The journal of one mock. ``add_record`` keeps an entry for the next ``flush`` (a shared
    store) or stores it at once (memory); ``query`` reads through the store, so with the
    database's store it sees the entries of every replica."""

    def __init__(self, max_entries: int = 10_000, store: JournalStore | None = None) -> None:
        self.max_entries = max_entries
        self.store: JournalStore = store if store is not None else MemoryJournalStore(max_entries)
        # A store of its own in memory takes entries at once; a shared one in batches.
        self.buffered = store is not None
        self._pending: list[tuple[Any, ...]] = []
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def next_id(self) -> int:
        return next(self._ids)

    def add(self, entry: JournalEntry) -> None:
        self.add_record(entry.as_record())

    def add_record(self, record: tuple[Any, ...]) -> None:
        """Add an entry given as ``JournalEntry.as_record()`` would give it (the hot routes
        build the tuple directly)."""
        if not self.buffered:
            self.store.append((record,), self.max_entries)
            return
        with self._lock:
            self._pending.append(record)

    def flush(self) -> int:
        """Write the entries added so far (blocking with a database store); how many."""
        with self._lock:
            pending, self._pending = self._pending, []
        if pending:
            try:
                self.store.append(pending, self.max_entries)
            except BaseException:
                with self._lock:  # kept for the next flush
                    self._pending[:0] = pending
                raise
        return len(pending)

    def write(self, records: Sequence[tuple[Any, ...]]) -> None:
        """Store ``records`` now (the journal writer's batches; blocking)."""
        self.store.append(records, self.max_entries)

    def query(self, query: JournalQuery) -> list[JournalEntry]:
        """Newest first, at most ``query.limit`` entries."""
        self.flush()

        def keep(record: tuple[Any, ...]) -> bool:
            return query.matches(JournalEntry.from_record(record))

        records = self.store.query(
            operation=query.operation,
            code=query.code,
            key=query.key,
            status=query.status,
            since=query.since,
            until=query.until,
            limit=query.limit,
            keep=keep,
        )
        return [JournalEntry.from_record(record) for record in records]

    @property
    def dropped(self) -> int:
        return self.store.dropped()

    def clear(self) -> int:
        self.flush()
        return self.store.clear()

    def __len__(self) -> int:
        return self.store.held()
