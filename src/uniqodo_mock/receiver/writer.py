"""Group commit: one thread writes recorded calls in batches.

Requests hand their call to ``submit`` and wait for the returned future; the thread takes every
call queued while the previous transaction was committing and writes them in one transaction.
Under load one commit (one fsync of the WAL) acknowledges many calls; a lone call is written at
once (no batching delay). The thread keeps its connection between batches (``BatchInserter``). A future resolves only after the commit, so an answered call is stored.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future

from uniqodo_mock.receiver.inserter import BatchInserter
from uniqodo_mock.receiver.model import RecordedCall

__all__ = ["BatchWriter"]

log = logging.getLogger(__name__)
_STOP = object()


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

    def submit(self, record: RecordedCall) -> Future[int]:
        """Queue ``record``; the future gives its id once committed (or the write's error)."""
        future: Future[int] = Future()
        self._queue.put((record, future))
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

    def _write(self, batch: list[tuple[RecordedCall, Future[int]]]) -> None:
        try:
            ids = self._inserter.insert([record for record, _ in batch])
        except Exception as exc:  # the batch is not stored: every caller gets the error
            log.exception("storing %d recorded calls failed", len(batch))
            for _, future in batch:
                future.set_exception(exc)
            return
        for call_id, (_, future) in zip(ids, batch, strict=True):
            future.set_result(call_id)
        try:
            self._on_commit()
        except Exception:
            log.exception("commit listener failed")
