"""``create_receiver_app(settings)``: the receiver as one ASGI (Starlette) app.

- ``/__receiver/...``: the QA API (documented in ``openapi/receiver.yaml``) and the web page;
- every other path: recorded (``RecorderApp``).

Each call to the factory builds an independent receiver (its own engine, writer thread and
rules), so tests and ``uniqodo-mock up`` can run several side by side or mount one inside
another app (``Mount("/", app=create_receiver_app(...))``).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import (
    FileResponse,
    JSONResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from uniqodo_mock.bearer import token_given
from uniqodo_mock.receiver.export import to_csv, to_json
from uniqodo_mock.receiver.filters import MAX_ID, MAX_LIMIT, CallFilter, FilterError, parse_filter
from uniqodo_mock.receiver.model import RecordedCall
from uniqodo_mock.receiver.recorder import RecorderApp
from uniqodo_mock.receiver.responses import ResponseRule
from uniqodo_mock.receiver.service import Receiver
from uniqodo_mock.receiver.settings import ReceiverSettings
from uniqodo_mock.receiver.shared_responses import MAX_RULES
from uniqodo_mock.specs import spec_path
from uniqodo_mock.version import __version__

__all__ = ["create_receiver_app"]

STATIC = Path(__file__).resolve().parent / "static"
MAX_EXPORT = 100_000
_PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
        "img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


class ApiError(Exception):
    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(
        {"error": {"status": status, "message": message}}, status_code=status, headers=headers
    )


def _json(data: Any, status: int = 200) -> Response:
    # Ends with a newline, as the mock's answers: printed by curl, it does not run into the prompt.
    body = orjson.dumps(data, option=orjson.OPT_APPEND_NEWLINE)
    return Response(body, status_code=status, media_type="application/json")


class _Api:
    """The ``/__receiver`` endpoints. Holds the receiver; no globals."""

    def __init__(self, receiver: Receiver) -> None:
        self.receiver = receiver
        self.settings = receiver.settings

    # -- helpers ---------------------------------------------------------------------------

    def _filter(
        self, request: Request, *, ignore: tuple[str, ...] = (), max_limit: int = MAX_LIMIT
    ) -> CallFilter:
        try:
            return parse_filter(
                request.query_params.multi_items(), ignore=("token", *ignore), max_limit=max_limit
            )
        except FilterError as exc:
            raise ApiError(400, f"bad parameter {exc.parameter!r}: {exc.message}") from None

    def _no_extra(self, request: Request, allowed: tuple[str, ...] = ()) -> None:
        for key in request.query_params:
            if key not in ("token", *allowed):
                raise ApiError(400, f"bad parameter {key!r}: unknown parameter")

    # -- endpoints -------------------------------------------------------------------------

    async def health(self, request: Request) -> Response:
        return _json({"status": "ok", "version": __version__})

    async def openapi(self, request: Request) -> Response:
        """The API's own description (``openapi/receiver.yaml``)."""
        return FileResponse(spec_path("receiver.yaml"), media_type="application/yaml")

    async def page(self, request: Request) -> Response:
        return FileResponse(STATIC / "index.html", headers=_PAGE_HEADERS, media_type="text/html")

    async def calls(self, request: Request) -> Response:
        # One route per path, so a 405 lists every allowed method.
        if request.method == "DELETE":
            return await self.delete_calls(request)
        return await self.list_calls(request)

    async def responses(self, request: Request) -> Response:
        if request.method == "PUT":
            return await self.put_responses(request)
        return await self.get_responses(request)

    async def list_calls(self, request: Request) -> Response:
        f = self._filter(request)
        rows = await self.receiver.find_after(f, f.limit + 1)
        has_more = len(rows) > f.limit
        rows = rows[: f.limit]
        cursor = rows[-1].id if rows else f.after
        return _json(
            {"calls": [r.to_json() for r in rows], "next_cursor": cursor, "has_more": has_more}
        )

    async def count_calls(self, request: Request) -> Response:
        f = self._filter(request)
        return _json({"count": await _thread(self.receiver.store.count, f)})

    async def delete_calls(self, request: Request) -> Response:
        f = self._filter(request)
        return _json({"deleted": await _thread(self.receiver.store.delete, f)})

    async def export_calls(self, request: Request) -> Response:
        fmt = request.query_params.get("format", "json")
        if fmt not in ("json", "csv"):
            raise ApiError(400, f"bad parameter 'format': {fmt!r} is not json or csv")
        f = self._filter(request, ignore=("format",), max_limit=MAX_EXPORT)
        if "limit" not in request.query_params:
            f = replace(f, limit=MAX_EXPORT)
        rows = await self.receiver.find_after(f, f.limit)
        if fmt == "csv":
            return Response(
                to_csv(rows).encode("utf-8"),
                media_type="text/csv; charset=utf-8",
                headers={"Content-Disposition": 'attachment; filename="receiver-calls.csv"'},
            )
        return Response(
            to_json(rows),
            media_type="application/json",
            headers={"Content-Disposition": 'attachment; filename="receiver-calls.json"'},
        )

    async def _call_or_404(self, request: Request) -> RecordedCall:
        self._no_extra(request)
        call_id = request.path_params["call_id"]
        call = await _thread(self.receiver.store.get, call_id) if call_id <= MAX_ID else None
        if call is None:
            raise ApiError(404, f"no recorded call with id {call_id}")
        return call

    async def show_call(self, request: Request) -> Response:
        call = await self._call_or_404(request)
        return _json(call.to_json())

    async def call_body(self, request: Request) -> Response:
        """The raw body bytes, exactly; served so a browser never renders it."""
        call = await self._call_or_404(request)
        return Response(
            call.body,
            media_type="application/octet-stream",
            headers={
                "Content-Disposition": f'attachment; filename="call-{call.id}.body"',
                "X-Content-Type-Options": "nosniff",
                "Content-Security-Policy": "sandbox",
            },
        )

    async def wait(self, request: Request) -> Response:
        raw = request.query_params.get("timeout", "30")
        try:
            timeout = float(raw)
        except ValueError:
            raise ApiError(400, f"bad parameter 'timeout': {raw!r} is not a number") from None
        if not 0 <= timeout <= 300 or timeout != timeout:
            raise ApiError(400, f"bad parameter 'timeout': {raw} is not between 0 and 300")
        f = self._filter(request, ignore=("timeout",))
        call = await self.receiver.wait(f, min(timeout, self.settings.max_wait_seconds))
        if call is None:
            return _error(408, f"no matching call arrived within {timeout:g} seconds")
        return _json(call.to_json())

    async def stream(self, request: Request) -> Response:
        """Server-Sent Events: ``event: call`` per new matching call (without its body, fetch
        ``/calls/{id}`` for that), a comment line as heartbeat."""
        f = self._filter(request)
        last_event = request.headers.get("last-event-id", "")
        if f.after is None and last_event.isdigit():
            f = f.with_after(int(last_event))

        async def events() -> AsyncIterator[bytes]:
            yield b": connected\n\n"
            async for batch in self.receiver.stream(f):
                if not batch:
                    yield b": keep-alive\n\n"
                for call in batch:
                    assert call.id is not None  # (stored calls carry their id)
                    data = call.to_json()
                    data.pop("body_base64")
                    text = data.pop("body_text")
                    data["body_preview"] = text[:200] if text is not None else None
                    yield b"id: %d\nevent: call\ndata: %s\n\n" % (call.id, orjson.dumps(data))

        return StreamingResponse(
            events(),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )

    async def _body(self, request: Request) -> bytes:
        """The request body, within the same size and time bounds as recorded calls; a refused
        body closes the connection (the client may still be sending)."""
        limit, timeout = self.settings.max_body_bytes, self.settings.body_timeout
        close = {"Connection": "close"}
        too_large = ApiError(413, f"request body over the receiver's limit of {limit} bytes", close)
        length = request.headers.get("content-length", "")
        if length.isascii() and length.isdigit() and int(length) > limit:
            raise too_large
        chunks: list[bytes] = []
        size = 0
        try:
            async with asyncio.timeout(timeout):
                async for chunk in request.stream():
                    size += len(chunk)
                    if size > limit:
                        raise too_large
                    chunks.append(chunk)
        except TimeoutError:
            raise ApiError(
                408, f"request body did not arrive within {timeout:g} seconds", close
            ) from None
        return b"".join(chunks)

    async def get_responses(self, request: Request) -> Response:
        self._no_extra(request)
        rules = await _thread(self.receiver.responses.read)
        return _json([rule.to_json() for rule in rules])

    async def put_responses(self, request: Request) -> Response:
        self._no_extra(request)
        try:
            data = orjson.loads(await self._body(request))
        except orjson.JSONDecodeError:
            raise ApiError(400, "the body is not JSON: send a list of rules") from None
        if not isinstance(data, list):
            raise ApiError(400, "the body must be a JSON list of {path, status, delay} rules")
        try:
            rules = [ResponseRule.from_json(item) for item in data]
        except (ValueError, TypeError) as exc:
            raise ApiError(400, f"bad rule: {exc}") from None
        if len(rules) > MAX_RULES:
            raise ApiError(400, f"at most {MAX_RULES} rules, got {len(rules)}")
        await _thread(self.receiver.responses.replace, rules)
        return _json([rule.to_json() for rule in rules])


async def _thread(func: Any, *args: Any) -> Any:
    return await asyncio.to_thread(func, *args)


def _is_api_path(path: str) -> bool:
    return path == "/__receiver" or path.startswith("/__receiver/")


class _ReceiverApp(Starlette):
    """The receiver's outer app: recorded calls go straight to the recorder.

    Starlette's stack (error middleware, router, ``Mount``) is work the ingest path does not
    need (docs/benchmarks.md, receiver ingest); it stays for ``/__receiver`` and the lifespan. The recorder answers
    its own errors (503 when a call cannot be stored)."""

    def __init__(self, recorder: ASGIApp, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.recorder = recorder

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not _is_api_path(scope["path"]):
            await self.recorder(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


class _Guard:
    """Checks the admin token on ``/__receiver`` before the API."""

    def __init__(self, api: ASGIApp, token: str | None) -> None:
        self.api = api
        self.token = token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        public = path in ("/__receiver/health",) or path.startswith("/__receiver/static/")
        if self.token and not public and not self._authorised(scope):
            response = _error(
                401,
                "this receiver needs its admin token: Authorization: Bearer TOKEN or ?token=",
                headers={"WWW-Authenticate": 'Bearer realm="uniqodo-mock receiver"'},
            )
            await response(scope, receive, send)
            return
        await self.api(scope, receive, send)

    def _authorised(self, scope: Scope) -> bool:
        assert self.token is not None
        return token_given(scope, self.token.encode())


def create_receiver_app(settings: ReceiverSettings | None = None) -> Starlette:
    """Build a receiver: migrate its database, start its writer, return the ASGI app.

    The returned Starlette app's ``state.receiver`` is the ``Receiver`` (tests and ``up`` use
    it to close it cleanly)."""
    settings = settings or ReceiverSettings()
    receiver = Receiver(settings)
    api = _Api(receiver)

    async def api_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        return _error(exc.status, exc.message, headers=exc.headers)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        message = {404: "no such receiver endpoint", 405: "method not allowed here"}.get(
            exc.status_code, str(exc.detail)
        )
        return _error(exc.status_code, message, headers=dict(exc.headers or {}))

    async def server_error(request: Request, exc: Exception) -> Response:
        return _error(500, f"internal error: {type(exc).__name__}")

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        receiver.close()

    routes = [
        Route(
            "/__receiver",
            lambda r: RedirectResponse("/__receiver/" + (f"?{r.url.query}" if r.url.query else "")),
        ),
        Mount(
            "/__receiver",
            routes=[
                Route("/", api.page, methods=["GET"]),
                Route("/health", api.health, methods=["GET"]),
                Route("/openapi.yaml", api.openapi, methods=["GET"]),
                Route("/calls", api.calls, methods=["GET", "DELETE"]),
                Route("/calls/count", api.count_calls, methods=["GET"]),
                Route("/calls/export", api.export_calls, methods=["GET"]),
                Route("/calls/{call_id:int}", api.show_call, methods=["GET"]),
                Route("/calls/{call_id:int}/body", api.call_body, methods=["GET"]),
                Route("/wait", api.wait, methods=["GET"]),
                Route("/stream", api.stream, methods=["GET"]),
                Route("/responses", api.responses, methods=["GET", "PUT"]),
                Mount("/static", app=StaticFiles(directory=STATIC)),
            ],
        ),
    ]
    inner = Starlette(
        routes=routes,
        exception_handlers={ApiError: api_error, HTTPException: http_error, 500: server_error},
    )
    guard = _Guard(inner, settings.admin_token)
    app = _ReceiverApp(RecorderApp(receiver), routes=[Mount("/", app=guard)], lifespan=lifespan)
    app.state.receiver = receiver
    inner.state.receiver = receiver
    return app
