"""The request journal: every request the mock received, what it answered and why.

Kept in memory per process (a bounded deque, oldest entries dropped first): with
``--workers N`` each worker journals the requests it served. Filters are plain scans over at
most ``max_entries`` small records, well under a millisecond for the default size.

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
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson

__all__ = ["Journal", "JournalEntry", "JournalQuery"]


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


class Journal:
    def __init__(self, max_entries: int = 10_000) -> None:
        self.max_entries = max_entries
        self._entries: deque[tuple[Any, ...]] = deque(maxlen=max_entries)
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self.dropped = 0

    def next_id(self) -> int:
        return next(self._ids)

    def add(self, entry: JournalEntry) -> None:
        self.add_record(entry.as_record())

    def add_record(self, record: tuple[Any, ...]) -> None:
        """Add an entry given as ``JournalEntry.as_record()`` would give it (the hot routes
        build the tuple directly)."""
        with self._lock:
            if len(self._entries) == self.max_entries:
                self.dropped += 1
            self._entries.append(record)

    def query(self, query: JournalQuery) -> list[JournalEntry]:
        """Newest first, at most ``query.limit`` entries."""
        with self._lock:
            entries = list(self._entries)
        out: list[JournalEntry] = []
        for record in reversed(entries):
            entry = JournalEntry.from_record(record)
            if query.matches(entry):
                out.append(entry)
                if len(out) >= query.limit:
                    break
        return out

    def clear(self) -> int:
        with self._lock:
            count = len(self._entries)
            self._entries.clear()
            return count

    def __len__(self) -> int:
        return len(self._entries)
