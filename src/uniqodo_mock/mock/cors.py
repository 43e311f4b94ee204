"""Cross-origin calls: a shop's page on its own origin calls the mock with ``fetch``, as browser
integrations call the platform. starlette's ``CORSMiddleware`` answers the preflight and adds
the headers, for the origins configured (``serve --cors-origins``, any by default; none with
``--no-cors``).

The admin API (``/__admin``) is left out: it changes the mock's state and is called by tools
and tests, not by shop pages.

A request without an ``Origin`` header (a partner's server, a load test) is no CORS request:
starlette's middleware would only add ``Vary: Origin`` to its answer (so that a shared cache
never hands that answer to a page), and wraps the request in its header machinery to do so
(``docs/benchmarks.md``: one of the dearest layers of a request). That one header is added here
directly, the way starlette merges it; requests with an ``Origin`` go through starlette.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["CrossOriginMiddleware"]

_ADMIN = "/__admin"


class CrossOriginMiddleware:
    def __init__(self, app: ASGIApp, origins: Sequence[str]) -> None:
        self.app = app
        self.origins = tuple(origins)
        self.cors: ASGIApp | None = (
            CORSMiddleware(
                app,
                allow_origins=list(self.origins),
                allow_methods=["GET", "POST", "OPTIONS"],
                allow_headers=["*"],
                # The browser may read these (a 503's Retry-After, the body's length).
                expose_headers=["Retry-After", "Content-Length"],
                max_age=600,
            )
            if self.origins
            else None
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if self.cors is None or scope["type"] != "http" or _is_admin(path):
            await self.app(scope, receive, send)
            return
        if not _has_origin(scope):
            await self.app(scope, receive, _vary_on_origin(send))
            return
        await self.cors(scope, receive, send)


def _has_origin(scope: Scope) -> bool:
    return any(name == b"origin" for name, _ in scope.get("headers", ()))


def _vary_on_origin(send: Send) -> Send:
    async def sender(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", ()))
            varies = [value for name, value in headers if name.lower() == b"vary"]
            if varies:
                headers = [(name, value) for name, value in headers if name.lower() != b"vary"]
            headers.append((b"vary", b", ".join([*varies, b"Origin"])))
            message = {**message, "headers": headers}
        await send(message)

    return sender


def _is_admin(path: str) -> bool:
    return path == _ADMIN or path.startswith(_ADMIN + "/")
