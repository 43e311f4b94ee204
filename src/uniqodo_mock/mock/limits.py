"""Request-body limits for the mock, as a plain ASGI middleware in front of connexion.

A body larger than ``max_body_bytes`` gets 413, a body that trickles in slower than
``body_timeout`` allows gets 408 (slowloris), and a form body that is not valid in its charset
(UTF-8 unless declared) gets 400 ``unsupported_body`` — each in the vendor's envelope, before
any handler runs, so one bad client cannot take the server down or fill its memory.

Bodies are small forms in this API, so the middleware reads them whole (within the limits) and
replays them to the app; requests without a body pass straight through.
"""

from __future__ import annotations

import asyncio
import codecs
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from uniqodo_mock.core.errors import ErrorCatalogue, VendorError
from uniqodo_mock.mock.envelope import envelope_response, error_entries

__all__ = ["BodyLimits", "BodyLimitsMiddleware"]

Scope = dict[str, Any]
Message = dict[str, Any]


@dataclass(frozen=True)
class BodyLimits:
    """x-source: simulator. The vendor documents no limits; these keep the mock alive."""

    max_body_bytes: int = 1_048_576
    # The whole body must arrive within this many seconds of the request's headers.
    body_timeout: float = 10.0
    # /__admin takes whole snapshots, fixture documents and code uploads: a larger bound.
    admin_max_body_bytes: int = 256 * 1_048_576
    admin_body_timeout: float = 120.0


class _Reject(Exception):
    def __init__(self, status: int, key: str, message: str) -> None:
        super().__init__(message)
        self.status, self.key, self.message = status, key, message


class BodyLimitsMiddleware:
    def __init__(
        self,
        app: Any,
        catalogue_of: Callable[[], ErrorCatalogue],
        limits: BodyLimits | None = None,
    ) -> None:
        self.app = app
        self.catalogue_of = catalogue_of
        self.limits = limits or BodyLimits()

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not _may_have_body(scope):
            await self.app(scope, receive, send)
            return
        try:
            body = await self._read_body(scope, receive)
            _check_form_charset(scope, body)
        except _Reject as reject:
            await self._reject(scope, send, reject)
            return
        except _Disconnected:
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # after the body: wait for the disconnect, as ASGI does

        await self.app(scope, replay, send)

    async def _read_body(self, scope: Scope, receive: Any) -> bytes:
        admin = scope.get("path", "").startswith("/__admin/")
        limit = self.limits.admin_max_body_bytes if admin else self.limits.max_body_bytes
        timeout = self.limits.admin_body_timeout if admin else self.limits.body_timeout
        declared = _header(scope, b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise _Reject(413, "payload_too_large", f"The body may hold at most {limit} bytes.")
        deadline = time.monotonic() + timeout
        chunks: list[bytes] = []
        size = 0
        while True:
            remaining = deadline - time.monotonic()
            try:
                if remaining <= 0:
                    raise TimeoutError
                message = await asyncio.wait_for(receive(), remaining)
            except TimeoutError:
                raise _Reject(
                    408,
                    "unsupported_body",
                    f"The body did not arrive within {timeout:g} seconds.",
                ) from None
            if message["type"] == "http.disconnect":
                raise _Disconnected
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise _Reject(413, "payload_too_large", f"The body may hold at most {limit} bytes.")
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    async def _reject(self, scope: Scope, send: Any, reject: _Reject) -> None:
        error = VendorError(reject.key, reject.message, message=None)
        entries = error_entries([error], self.catalogue_of(), None)
        entries[0]["message"] = f"{entries[0]['message']} {reject.message}"
        # The client may still be sending: close the connection rather than read the rest.
        response = envelope_response(None, entries, reject.status, {"Connection": "close"})

        async def no_more() -> Message:
            return {"type": "http.disconnect"}

        await response(scope, no_more, send)


class _Disconnected(Exception):
    pass


def _may_have_body(scope: Scope) -> bool:
    return (
        _header(scope, b"content-length") not in (None, "0")
        or _header(scope, b"transfer-encoding") is not None
    )


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return value.decode("latin-1").strip()
    return None


def _check_form_charset(scope: Scope, body: bytes) -> None:
    """A form body must decode in its charset, before and after percent-decoding."""
    content_type = _header(scope, b"content-type") or ""
    media, _, params = content_type.partition(";")
    if media.strip().lower() != "application/x-www-form-urlencoded":
        return
    charset = "utf-8"
    for param in params.split(";"):
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset" and value.strip():
            charset = value.strip().strip('"').lower()
    try:
        codecs.lookup(charset)
    except LookupError:
        raise _Reject(
            415, "unsupported_body", f"The charset {charset!r} is not supported."
        ) from None
    try:
        text = body.decode(charset)
        parse_qsl(text, keep_blank_values=True, encoding=charset, errors="strict")
    except (UnicodeDecodeError, ValueError):
        raise _Reject(
            400, "unsupported_body", f"The form body is not valid {charset.upper()}."
        ) from None
