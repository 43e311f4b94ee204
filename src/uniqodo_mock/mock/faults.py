"""Fault rules on the vendor API (``control/faults.py``), applied once connexion's router knows
the operation: latency, an answer of the rule's choosing, a rate limit, a dropped connection.

The rules are the database's (``store/controls.py``): a rule set through any replica applies
here, and uses are counted across replicas. A request no rule could concern costs no query on
SQLite (its data version vouches for the local copy) and one small read on PostgreSQL.

A rule's answer is raised as ``FaultAnswer`` and rendered in the envelope by the one error
renderer (``mock/errors.py``), like every other failure.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from connexion.middleware.abstract import ROUTING_CONTEXT
from starlette.types import ASGIApp, Receive, Scope, Send

from uniqodo_mock.mock.journal import current_request, is_vendor_path
from uniqodo_mock.mock.parameters import query_values

if TYPE_CHECKING:
    from uniqodo_mock.control.faults import FaultDecision
    from uniqodo_mock.mock.runtime import MockRuntime

__all__ = ["DroppedConnection", "FaultAnswer", "FaultMiddleware", "operation_name"]


class DroppedConnection(BaseException):
    """Raised after the response started, so the server closes the connection mid-answer. A
    BaseException so that no error middleware renders it as a 500: it must reach the server,
    which then closes the transport."""


class FaultAnswer(Exception):
    """A fault rule's answer: an HTTP status and/or a vendor error (``mock/errors.py``)."""

    def __init__(self, decision: FaultDecision) -> None:
        super().__init__(f"fault rule {decision.rule.id}")
        self.decision = decision


class _QuietDrops(logging.Filter):
    """A dropped connection is what the user asked for: not an "Exception in ASGI application"."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, DroppedConnection)


_QUIET = _QuietDrops()


def operation_name(scope: Scope) -> str | None:
    """The routed operation's short name (``redeem_code``), or None for no route."""
    routing: dict[str, Any] = scope.get("extensions", {}).get(ROUTING_CONTEXT) or {}
    operation_id = routing.get("operation_id")
    return str(operation_id).rpartition(".")[2] if operation_id else None


class FaultMiddleware:
    def __init__(self, app: ASGIApp, runtime: MockRuntime) -> None:
        self.app = app
        self.runtime = runtime
        uvicorn_errors = logging.getLogger("uvicorn.error")
        if _QUIET not in uvicorn_errors.filters:
            uvicorn_errors.addFilter(_QUIET)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_vendor_path(scope["path"]):
            await self.app(scope, receive, send)
            return
        operation = operation_name(scope)
        record = current_request()
        if record is not None:
            record.operation = operation
        faults = self.runtime.controls.faults
        calls = self.runtime.calls
        if not faults.fresh():
            # The rules may have changed (through any replica): one small read, off the loop.
            await calls.run(faults.refresh)
        code = (scope.get("path_params") or {}).get("code")
        if code is None and faults.has_api_rules():
            try:
                code = query_values(scope).get("uid")
            except ValueError:  # malformed: the parameter check answers it
                code = None
        if not faults.may_apply(code):
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        # Counting a use, a window or a draw writes: in a thread, never re-run on the loop.
        decision = await calls.run(
            lambda: faults.decide(operation, path, code, refresh=False), waits=True
        )
        if decision is None:
            await self.app(scope, receive, send)
            return
        if record is not None:
            record.fault = decision
        if decision.latency_s:
            await asyncio.sleep(decision.latency_s)
        if decision.drop:
            await send({"type": "http.response.start", "status": 200, "headers": []})
            raise DroppedConnection(f"fault rule {decision.rule.id} dropped the connection")
        if decision.answers:
            raise FaultAnswer(decision)
        await self.app(scope, receive, send)
