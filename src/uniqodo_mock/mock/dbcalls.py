"""The mock's blocking database work, run off the event loop and bounded in time.

On PostgreSQL every vendor request's service call runs in a thread of this pool, so a database
that stops answering (a network stall, a lock held elsewhere) holds up that request alone: the
event loop goes on serving health checks, the docs, the admin API and every request that needs
no database. On SQLite a call is CPU work of a fraction of a millisecond, and handing it to a
thread and back would cost more than the call itself: it runs on the loop, on connections that
never wait (``store/no_wait.py``), and goes to a thread only when it would have to wait for a
lock. A call that takes longer than its deadline is answered with 503 and ``Retry-After``
(``DatabaseUnavailable``); its thread may still be waiting on the database, but it can no longer
commit (``store/commit_guard.py``), so a client told "503" can safely retry.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import logging
from collections.abc import Callable
from typing import TypeVar

from uniqodo_mock.store.commit_guard import CommitGuard, guarded
from uniqodo_mock.store.no_wait import WouldWait, no_waiting
from uniqodo_mock.store.outages import is_outage as is_database_outage

__all__ = ["DatabaseCalls", "DatabaseUnavailable", "is_outage"]

logger = logging.getLogger("uniqodo_mock.database")

T = TypeVar("T")


class DatabaseUnavailable(Exception):
    """The database did not answer in time, or refused the connection: the request gets 503
    with ``HEADERS`` (every such answer, whichever part of the mock gives it)."""

    HEADERS = {"Retry-After": "1"}

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def is_outage(error: BaseException) -> bool:
    """Errors that mean "the database is away or busy", not "the request is wrong"."""
    return isinstance(error, DatabaseUnavailable) or is_database_outage(error)


class DatabaseCalls:
    """A thread pool for database calls, with a deadline per call.

    ``threads``: as many as calls may wait on the database at once (the engine's pool size on
    PostgreSQL). ``timeout``: seconds a call may take before its request gets 503.
    """

    def __init__(self, *, threads: int, timeout: float, inline_first: bool = False) -> None:
        """``inline_first`` (SQLite): run each call on the event loop, inside
        ``no_waiting()``, and in a thread only when it would have to wait for a lock."""
        self.timeout = timeout
        self.inline_first = inline_first
        self._threads = threads
        self._executor: concurrent.futures.ThreadPoolExecutor | None = None

    def _pool(self) -> concurrent.futures.ThreadPoolExecutor:
        if self._executor is None:
            self._executor = concurrent.futures.ThreadPoolExecutor(
                max_workers=self._threads, thread_name_prefix="uqm-db"
            )
        return self._executor

    async def run(
        self, call: Callable[[], T], *, timeout: float | None = None, waits: bool = False
    ) -> T:
        """``call()`` (in a database thread, or first on the loop with ``inline_first``);
        ``DatabaseUnavailable`` when it fails for want of a database or takes longer than
        ``timeout`` (default: the pool's). ``waits``: work that may wait (a checkpoint, bulk
        admin work) always goes to a thread."""
        if self.inline_first and not waits:
            try:
                with no_waiting():
                    return call()
            except WouldWait:
                pass  # nothing was done: again, in a thread, where waiting is allowed
            except Exception as error:
                if is_outage(error):
                    logger.warning("database unavailable: %s", error.__class__.__name__)
                    raise DatabaseUnavailable(error.__class__.__name__) from error
                raise
        guard = CommitGuard()
        context = contextvars.copy_context()
        work = self._pool().submit(context.run, _run_guarded, guard, call)
        limit = self.timeout if timeout is None else timeout
        try:
            try:
                async with asyncio.timeout(limit):
                    return await asyncio.wrap_future(work)
            except TimeoutError:
                # Not started yet: cancelled above and never will. Running: it cannot commit
                # once abandoned; a commit in flight decides the answer: wait for it once more.
                if guard.abandon() or work.cancelled():
                    raise
                async with asyncio.timeout(limit):
                    return await asyncio.wrap_future(work)
        except TimeoutError:
            logger.warning("database call took longer than %g s: answered 503", limit)
            raise DatabaseUnavailable(f"the database did not answer within {limit:g} s") from None
        except Exception as error:
            if is_outage(error):
                logger.warning("database unavailable: %s", error.__class__.__name__)
                raise DatabaseUnavailable(error.__class__.__name__) from error
            raise

    def close(self) -> None:
        """Stop taking calls; threads still waiting on a database end on their own."""
        executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)


def _run_guarded(guard: CommitGuard, call: Callable[[], T]) -> T:
    with guarded(guard):
        return call()
