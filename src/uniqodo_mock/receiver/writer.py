"""Group commit: one thread writes recorded calls in batches.

Requests hand their call to ``submit`` and await the returned future; the thread takes every
call queued while the previous transaction was committing and writes them in one transaction.
Under load one commit (one fsync of the WAL) acknowledges many calls; a lone call is written at
once (no batching delay). The thread keeps its connection between batches (``BatchInserter``).
A future resolves only after the commit, so an answered call is stored.

The futures of a batch are settled by one callback per event loop (not one wake-up per call):
cross-thread hand-offs were a large part of the ingest path's per-call cost.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
from collections.abc import Callable

from uniqodo_mock.receiver.inserter import BatchInserter
from uniqodo_mock.receiver.model import RecordedCall

__all__ = ["BatchWriter"]

log = logging.getLogger(__name__)
_STOP = object()
_Item = tuple[RecordedCall, "asyncio.Future[int]", asyncio.AbstractEventLoop]


class BatchWriter:
    def __init__(
        self,
        inserter: BatchInserter,
        *,
        on_commit: Callable[[], None] = lambda: None,
        batch_max: int = 500,
    ) -> None:
        self._inserter = inserter
        self._on_commit = on_commit
        self._batch_max = batch_max
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="receiver-writer", daemon=True)
        self._thread.start()

    def submit(self, record: RecordedCall) -> asyncio.Future[int]:
        """Queue ``record``; the future (of the running loop) gives its id once committed, or
        the write's error."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[int] = loop.create_future()
        self._queue.put((record, future, loop))
        return future

    def close(self, timeout: float = 10.0) -> None:
        """Write what is queued, then stop the thread."""
        self._queue.put(_STOP)
        self._thread.join(timeout)

    def _run(self) -> None:
        try:
            self._loop()
        finally:
            self._inserter.close()

    def _loop(self) -> None:
        stopping = False
        while not stopping:
            item = self._queue.get()
            if item is _STOP:
                break
            batch = [item]
            while len(batch) < self._batch_max:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is _STOP:
                    stopping = True
                    break
                batch.append(item)
            self._write(batch)  # type: ignore[arg-type]

    def _write(self, batch: list[_Item]) -> None:
        try:
            ids = self._inserter.insert([record for record, _, _ in batch])
        except Exception as exc:  # the batch is not stored: every caller gets the error
            log.exception("storing %d recorded calls failed", len(batch))
            _settle(batch, [exc] * len(batch))
            return
        _settle(batch, ids)
        try:
            self._on_commit()
        except Exception:
            log.exception("commit listener failed")


def _settle(batch: list[_Item], outcomes: list[int] | list[Exception]) -> None:
    """Hand each future its outcome on its own loop: one callback per loop."""
    per_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[int], object]]] = {}
    for (_, future, loop), outcome in zip(batch, outcomes, strict=True):
        per_loop.setdefault(loop, []).append((future, outcome))
    for loop, settled in per_loop.items():
        # A closed loop raises RuntimeError: its requests are gone, nothing to answer.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(_resolve, settled)


def _resolve(settled: list[tuple[asyncio.Future[int], object]]) -> None:
    for future, outcome in settled:
        if future.done():  # cancelled: the client went away while its call was written
            continue
        if isinstance(outcome, BaseException):
            future.set_exception(outcome)
        else:
            future.set_result(outcome)  # type: ignore[arg-type]
