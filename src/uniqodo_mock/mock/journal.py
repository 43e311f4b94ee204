"""The request journal's front door: every vendor request, with its answer and the reasons for
its errors, goes into the journal (``control/journal.py``).

It sits outside connexion's exception middleware, so it sees what the client got, whatever
produced it: a handler, a parameter check (400), the router (404, 405), a fault rule, a
database outage (503). What it cannot read from the answer (which operation was meant, the
handler's reasons for an error) the layers inside leave in the request's ``RequestRecord``.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import logging
import time
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from uniqodo_mock.core.errors import ErrorCatalogue, VendorError
from uniqodo_mock.mock.reward import is_reward_path

if TYPE_CHECKING:
    from uniqodo_mock.control.faults import FaultDecision
    from uniqodo_mock.control.journal import Journal
    from uniqodo_mock.mock.answer import Answer, VendorRequest
    from uniqodo_mock.mock.dbcalls import DatabaseCalls
    from uniqodo_mock.mock.runtime import MockRuntime

__all__ = [
    "JournalMiddleware",
    "JournalWriter",
    "RequestRecord",
    "current_request",
    "flush_journal_writers",
    "is_vendor_path",
]

logger = logging.getLogger("uniqodo_mock.journal")

# Every journal writer of this process, so that a read of the journal first flushes them all
# (each on its own event loop): the mock's replicas started in one process (tests) and its
# admin API see the same entries.
_WRITERS: weakref.WeakSet[JournalWriter] = weakref.WeakSet()
# How long a batch gathers entries before it is written (a read flushes at once all the same).
_GATHER_SECONDS = 0.02

_MAX_CAPTURE = 256 * 1024
# Not the vendor API: the admin API, the docs, the demo pages.
_NOT_VENDOR = ("/__admin", "/__demo", "/__email")


def is_vendor_path(path: str) -> bool:
    return not path.startswith(_NOT_VENDOR)


@dataclass
class RequestRecord:
    """What the inner layers learnt about one request, for its journal entry."""

    operation: str | None = None
    request: VendorRequest | None = None
    answer: Answer | None = None
    fault: FaultDecision | None = None


_current: contextvars.ContextVar[RequestRecord | None] = contextvars.ContextVar(
    "uqm_request", default=None
)


def current_request() -> RequestRecord | None:
    return _current.get()


class JournalMiddleware:
    def __init__(self, app: ASGIApp, runtime: MockRuntime) -> None:
        self.app = app
        self.runtime = runtime
        self.writer = JournalWriter(runtime.controls.journal, runtime.calls)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_vendor_path(scope["path"]):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        record = RequestRecord()
        token = _current.set(record)
        captured: dict[str, Any] = {"status": 0, "body": b""}
        written = False

        async def capture(message: Message) -> None:
            nonlocal written
            if message["type"] == "http.response.start":
                captured["status"] = message["status"]
            elif message["type"] == "http.response.body":
                if len(captured["body"]) < _MAX_CAPTURE:
                    captured["body"] += message.get("body", b"")
                if not message.get("more_body", False):
                    # Queued for the next batch: the answer does not wait for the database; a
                    # read of the journal flushes the batches first (flush_journal_writers).
                    written = True
                    self.writer.write(self._record(scope, record, captured, started))
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            _current.reset(token)
            if not written:  # no answer (a dropped connection) or one rendered outside
                self.writer.write(self._record(scope, record, captured, started))

    def _record(
        self, scope: Scope, record: RequestRecord, captured: dict[str, Any], started: float
    ) -> tuple[Any, ...]:
        runtime = self.runtime
        controls = runtime.controls
        catalogue = runtime.service.catalogue
        path = scope["path"]
        answer, request, fault = record.answer, record.request, record.fault
        if answer is not None and request is not None and fault is None:
            errors = answer.journal_errors
            params = orjson.dumps(request.params)
            api_key = _key_of_request(request)
            code = (
                request.path_params.get("code")
                or request.params.get("uid")
                or request.params.get("customer.id")
                or None
            )
        else:
            query = scope.get("query_string", b"").decode("latin-1")
            parsed = dict(parse_qsl(query, errors="replace"))
            params = orjson.dumps(parsed)
            errors = orjson.dumps(errors_from_body(captured["body"], catalogue, fault))
            api_key = key_of(path)
            code = (scope.get("path_params") or {}).get("code") or parsed.get("uid") or None
        journal = controls.journal
        # A record of plain values (control/journal.py): the JSON parts as bytes.
        return (
            journal.next_id(),
            datetime.now(UTC),
            runtime.clock.now(),
            scope["method"],
            path,
            record.operation,
            params,
            # 0: the connection was dropped, the client got no answer.
            0 if fault is not None and fault.drop else captured["status"] or 500,
            api_key,
            code,
            errors,
            orjson.dumps(fault.to_json()) if fault is not None else None,
            (time.perf_counter() - started) * 1000,
        )


class JournalWriter:
    """Entries into the journal's store in batches, behind the answers (group commit): the
    entries of requests answered while one batch is being written go together in the next, so
    a busy mock writes far fewer transactions than it answers requests, and no answer waits for
    the database. ``flush()`` waits until every entry queued so far is stored."""

    def __init__(self, journal: Journal, calls: DatabaseCalls) -> None:
        self.journal = journal
        self.calls = calls
        self._batch: list[tuple[Any, ...]] = []
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        _WRITERS.add(self)

    def write(self, record: tuple[Any, ...]) -> None:
        journal = self.journal
        if not journal.buffered:
            journal.add_record(record)
            return
        loop = asyncio.get_running_loop()
        if self._loop is not loop:  # a new event loop (an app served again): a fresh start
            self._loop, self._batch, self._task = loop, [], None
        self._batch.append(record)
        if self._task is None:
            self._task = loop.create_task(self._drain(), name="uqm-journal")

    async def flush(self) -> None:
        """Wait until the entries queued so far are stored (or their batch failed, logged)."""
        task = self._task
        if task is not None:
            # Shielded: a reader that gives up does not cancel the batch.
            await asyncio.shield(task)

    async def _drain(self) -> None:
        try:
            while self._batch:
                # Entries of the next moment go in the same transaction: a busy mock writes a
                # batch per interval, not one per answer.
                await asyncio.sleep(_GATHER_SECONDS)
                batch, self._batch = self._batch, []
                try:
                    # On SQLite on the loop (its own file, connections that never wait), in a
                    # thread when another process holds its lock; in a thread on PostgreSQL.
                    await self.calls.run(functools.partial(self.journal.write, batch))
                except Exception as error:
                    # The answers went out all the same: the journal is a test aid, not state.
                    logger.warning(
                        "%d journal entries not stored: %s", len(batch), error.__class__.__name__
                    )
        finally:
            self._task = None


async def flush_journal_writers(timeout: float = 5.0) -> None:
    """Wait until every journal writer of this process has stored what it holds, each on its
    own event loop; a writer that cannot finish within ``timeout`` (a database in trouble) is
    left to finish behind."""
    here = asyncio.get_running_loop()
    waits: list[asyncio.Future[None]] = []
    for writer in list(_WRITERS):
        loop = writer._loop
        if writer._task is None or loop is None or loop.is_closed():
            continue
        if loop is here:
            waits.append(asyncio.ensure_future(writer.flush()))
        elif loop.is_running():
            waits.append(
                asyncio.wrap_future(asyncio.run_coroutine_threadsafe(writer.flush(), loop))
            )
    if waits:
        await asyncio.wait(waits, timeout=timeout)


def _key_of_request(request: VendorRequest) -> str | None:
    for name in ("api_key", "claim_credential", "merchant_key"):
        value = request.path_params.get(name)
        if value:
            return str(value)
    header_key = request.params.get("UQD-ACCESS-KEY")  # the Reward API's key is a header
    if header_key:
        return header_key
    return key_of(request.path)


def key_of(path: str) -> str | None:
    if is_reward_path(path):
        return None  # its key is a header (UQD-ACCESS-KEY), not a path segment
    parts = [p for p in path.split("/") if p]
    return parts[1] if len(parts) > 1 else None


def exchange_errors(
    errors: Sequence[VendorError], entries: Sequence[dict[str, Any]]
) -> list[dict[str, Any]]:
    """A handler's errors as the journal shows them: the envelope's entry and the reason."""
    return [
        {
            "code": entry["code"],
            "key": error.key,
            "message": entry["message"],
            "reference": entry.get("reference"),
            "why": error.detail.to_json(),
        }
        for error, entry in zip(errors, entries, strict=False)
    ]


def errors_from_body(
    body: bytes, catalogue: ErrorCatalogue, fault: FaultDecision | None
) -> list[dict[str, Any]]:
    """Errors of an answer no handler produced (parameter checks, 404, 405, faults)."""
    try:
        document = orjson.loads(body) if body else None
    except orjson.JSONDecodeError:
        return []
    if not isinstance(document, dict) or not isinstance(document.get("errors"), list):
        return []
    keys = {entry.code: entry.key for entry in catalogue}
    out = []
    for entry in document["errors"]:
        if not isinstance(entry, dict):
            continue
        why = (
            {"reason": f"fault rule {fault.rule.id}", "rule": "fault"}
            if fault
            else {"reason": entry.get("message")}
        )
        out.append(
            {
                "code": entry.get("code"),
                "key": keys.get(entry.get("code")),
                "message": entry.get("message"),
                "reference": entry.get("reference"),
                "why": why,
            }
        )
    return out
