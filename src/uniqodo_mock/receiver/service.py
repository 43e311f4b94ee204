"""The receiver's behaviour, independent of HTTP: record a call, find calls, wait for one.

One ``Receiver`` per app instance, holding the engine, the store, the batch writer, the commit
notifier, the callback contract and the per-path response rules (stored in the database, shared
by every receiver on it).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Sequence

from uniqodo_mock.receiver.conformance import CallbackContract, contract_from_spec, judge
from uniqodo_mock.receiver.filters import CallFilter
from uniqodo_mock.receiver.inserter import BatchInserter
from uniqodo_mock.receiver.migrations import upgrade_schema
from uniqodo_mock.receiver.model import RecordedCall, Verdict
from uniqodo_mock.receiver.notifier import Notifier
from uniqodo_mock.receiver.parsing import parse_params
from uniqodo_mock.receiver.responses import DEFAULT_STATUS
from uniqodo_mock.receiver.settings import ReceiverSettings
from uniqodo_mock.receiver.shared_responses import SharedResponses
from uniqodo_mock.receiver.store import CallStore
from uniqodo_mock.receiver.writer import BatchWriter
from uniqodo_mock.specs import load_spec
from uniqodo_mock.store.engine import create_db_engine

__all__ = ["Receiver"]


class Receiver:
    def __init__(self, settings: ReceiverSettings) -> None:
        self.settings = settings
        self.engine = create_db_engine(settings.db_url)
        upgrade_schema(self.engine)
        self.store = CallStore(self.engine)
        self.notifier = Notifier()
        # Rules given at start (``--respond``) replace the stored ones for every receiver on
        # this database; without them the stored rules stay in force.
        self.responses = SharedResponses(self.engine)
        if settings.responses:
            self.responses.replace(settings.responses)
        self.writer = BatchWriter(
            BatchInserter(self.engine, responses=self.responses),
            on_commit=self.notifier.notify,
            batch_max=settings.batch_max,
        )
        spec = settings.spec if settings.spec is not None else load_spec(settings.spec_name)
        self.contract: CallbackContract = contract_from_spec(spec)
        self.closing = False

    def close(self) -> None:
        self.closing = True
        self.writer.close()
        self.engine.dispose()

    # -- recording -------------------------------------------------------------------------

    def build_call(
        self,
        *,
        method: str,
        path: str,
        query: str,
        headers: list[tuple[str, str]],
        body: bytes,
        received_at: int,
        client: str | None,
        body_size: int,
        rejected: bool,
        response_status: int = DEFAULT_STATUS,
    ) -> RecordedCall:
        """Parse and judge a request: the ``RecordedCall`` to store. The answer of a call that
        is not refused is set from the response rules when it is stored (``record``)."""
        content_type = next((v for n, v in headers if n.lower() == "content-type"), None)
        params = parse_params(query, content_type, body)
        verdict = (
            judge(
                self.contract,
                method=method,
                content_type=content_type,
                headers=headers,
                params=params,
            )
            if not rejected
            else Verdict(False, None)
        )
        return RecordedCall(
            method=method,
            path=path,
            query=query,
            headers=headers,
            body=body,
            received_at=received_at,
            client=client,
            content_type=content_type,
            body_size=body_size,
            rejected=rejected,
            response_status=response_status,
            params=params,
            verdict=verdict,
        )

    async def record(self, call: RecordedCall) -> int:
        """Store ``call``; returns once it is committed, with ``call.response_status`` and
        ``call.response_delay`` set from the rules in force when it was stored."""
        return await self.writer.submit(call)

    # -- reading ---------------------------------------------------------------------------

    async def find_after(self, call_filter: CallFilter, limit: int) -> Sequence[RecordedCall]:
        return await asyncio.to_thread(self.store.list, call_filter, limit=limit)

    async def wait(self, call_filter: CallFilter, timeout: float) -> RecordedCall | None:
        """The first matching call after the filter's cursor (default: the newest call now),
        waiting up to ``timeout`` seconds for one to arrive; ``None`` on timeout."""
        deadline = time.monotonic() + timeout
        if call_filter.after is None:
            call_filter = call_filter.with_after(await asyncio.to_thread(self.store.max_id))
        async for batch in self._watch(call_filter, 1, deadline):
            return batch[0]
        return None

    async def stream(
        self, call_filter: CallFilter, *, heartbeat: float = 15.0
    ) -> AsyncIterator[Sequence[RecordedCall]]:
        """Yield batches of new matching calls as they are stored; an empty batch is a
        heartbeat (nothing new for ``heartbeat`` seconds). Ends when the receiver closes."""
        if call_filter.after is None:
            call_filter = call_filter.with_after(await asyncio.to_thread(self.store.max_id))
        while not self.closing:
            deadline = time.monotonic() + heartbeat
            got = False
            async for batch in self._watch(call_filter, 100, deadline):
                got = True
                call_filter = call_filter.with_after(batch[-1].id)
                yield batch
                break
            if not got:
                yield []

    async def _watch(
        self, call_filter: CallFilter, limit: int, deadline: float
    ) -> AsyncIterator[Sequence[RecordedCall]]:
        """Yield once the first non-empty page after the cursor, or nothing by ``deadline``.

        Subscribes before each read so a commit between the read and the wait still wakes us;
        polls every ``poll_interval`` for other replicas' calls."""
        while not self.closing:
            event = self.notifier.subscribe()
            try:
                found = await self.find_after(call_filter, limit)
                if found:
                    yield found
                    return
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(
                        event.wait(), min(self.settings.poll_interval, remaining)
                    )
            finally:
                self.notifier.unsubscribe(event)
