"""Whether a write transaction may still commit: the request that started it may have stopped
waiting for it.

The mock answers a request whose database call takes too long with 503 (``mock/dbcalls.py``)
while the call goes on in its thread. A 503 must mean "not done": a redemption the client was
told failed must not commit afterwards. The caller and the thread agree through a
``CommitGuard``: the caller may abandon the call only while no commit has started, and a
write transaction that finds its call abandoned rolls back instead of committing.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

__all__ = ["Abandoned", "CommitGuard", "current_guard", "guarded"]


class Abandoned(Exception):
    """The caller stopped waiting before this write committed: it was rolled back."""


class CommitGuard:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._abandoned = False
        self._committing = False

    def enter_commit(self) -> None:
        """Called just before COMMIT; raises ``Abandoned`` when the caller has given up."""
        with self._lock:
            if self._abandoned:
                raise Abandoned("the request was answered before this write committed")
            self._committing = True

    def leave_commit(self) -> None:
        with self._lock:
            self._committing = False

    def abandon(self) -> bool:
        """Give up on the call. False while a commit is in flight: its outcome is unknown
        until it ends, so the caller should wait for it."""
        with self._lock:
            if self._committing:
                return False
            self._abandoned = True
            return True


current_guard: ContextVar[CommitGuard | None] = ContextVar("uqm_commit_guard", default=None)


@contextmanager
def guarded(guard: CommitGuard) -> Iterator[None]:
    token = current_guard.set(guard)
    try:
        yield
    finally:
        current_guard.reset(token)
