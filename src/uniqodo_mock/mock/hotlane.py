"""The mock's front door for the two hot routes, in front of everything connexion builds.

Integrations poll ``GET /code/{api_key}/{offer_id}`` and the publisher query, and load tests
hammer them. Every layer a request crosses costs: connexion's app and middleware entry, the
error middleware, the admin-token, docs and demo routers, and the test controls' general
machinery (a context variable, a capturing ``send``, exchange and journal objects) together
cost more per request than the stateful work itself. This lane answers those two routes
straight from the ASGI scope with the fast path (``mock/fastpath.py``), and does for them
exactly what the controls would: adopt the shared clock and journal the request with the
same fields.

It steps aside — the request then takes the full stack — whenever an API fault rule could
apply to the request (so fault rules are decided in one place, ``mock/control.py``), for a
browser's cross-origin request (the CORS headers are added in the full stack), and for
anything the fast path does not certainly answer as connexion would.
"""

from __future__ import annotations

import time
from typing import Any

from uniqodo_mock.mock.control import (
    errors_from_body,
    exchange_errors,
    journal_request,
    key_of,
    parse_query,
)
from uniqodo_mock.mock.envelope import envelope_headers
from uniqodo_mock.mock.fastpath import FastPath

__all__ = ["HotLane"]

_RETRY_AFTER = (b"retry-after", b"1")


def _is_cross_origin(scope: dict[str, Any]) -> bool:
    """A browser's cross-origin request (it sends ``Origin``)."""
    return any(name == b"origin" for name, _ in scope["headers"])


class HotLane:
    """An ASGI app: the hot routes answered here, everything else passed to ``app``."""

    def __init__(self, app: Any, fast_path: FastPath, runtime: Any) -> None:
        self.app = app
        self.fast_path = fast_path
        self.runtime = runtime

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        answered = self._answer(scope) if scope["type"] == "http" else None
        if answered is None:
            await self.app(scope, receive, send)
            return
        status, headers, body = answered
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    def _answer(self, scope: dict[str, Any]) -> tuple[int, list[tuple[bytes, bytes]], bytes] | None:
        fast_path = self.fast_path
        call = fast_path.match(scope)
        if call is None or _is_cross_origin(scope):
            # A cross-origin request gets its CORS headers in the full stack.
            return None
        runtime = self.runtime
        controls = runtime.controls
        # The controls' journal and fault lookup know a request's code by its uid.
        code = call.params.get("uid") or None
        if controls.faults.may_apply(code):
            return None
        controls.clock_sync.refresh()
        started = time.perf_counter()
        answer, failed = fast_path.answer(call)
        headers = envelope_headers(answer.body)
        if failed:
            if answer.status == 503:
                headers.append(_RETRY_AFTER)
            # As the controls journal an answer no handler produced: from the body.
            params = parse_query(scope["query_string"].decode("latin-1"))
            errors = errors_from_body(answer.body, runtime.service.catalogue, None)
        else:
            params = call.params
            errors = exchange_errors(answer.errors, answer.entries) if answer.errors else []
        journal_request(
            runtime,
            method="GET",
            path=call.path,
            operation=call.operation,
            params=params,
            status=answer.status,
            api_key=call.api_key or key_of(call.path),
            code=code,
            errors=errors,
            fault=None,
            started=started,
        )
        return answer.status, headers, answer.body
