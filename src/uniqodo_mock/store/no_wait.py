"""Database work that must not wait: SQLite work done on the event loop.

An SQLite transaction of the mock is CPU work of a fraction of a millisecond; the only waits in
it are for the write lock (another process or thread is writing) and a WAL checkpoint's disk
flush. The mock runs SQLite calls on the event loop inside ``no_waiting()`` (``mock/dbcalls.
py``): its transactions then use connections that never wait for a lock, and a transaction that
would have to raises ``WouldWait`` before it did anything, so the caller can run the whole call
again in a thread, where waiting holds up no one else. Checkpoints run in a thread too
(``Repository.checkpoint``).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

__all__ = ["WouldWait", "is_lock_wait", "no_waiting", "waiting_allowed"]


class WouldWait(Exception):
    """A transaction found the database locked where it must not wait; nothing was done."""


_no_wait: ContextVar[bool] = ContextVar("uqm_no_wait", default=False)


@contextmanager
def no_waiting() -> Iterator[None]:
    token = _no_wait.set(True)
    try:
        yield
    finally:
        _no_wait.reset(token)


def waiting_allowed() -> bool:
    return not _no_wait.get()


def is_lock_wait(error: BaseException) -> bool:
    """An SQLite "database is locked/busy" error, possibly wrapped by SQLAlchemy."""
    original = getattr(error, "orig", error)
    if not isinstance(original, sqlite3.OperationalError):
        return False
    code = getattr(original, "sqlite_errorcode", None)
    if code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
        return True
    text = str(original).lower()
    return "locked" in text or "busy" in text
