"""Request-body limits for the mock, an ASGI middleware inside connexion's exception handling
and in front of its router.

A body larger than its bound gets 413, a body that trickles in slower than its timeout allows
gets 408 (slowloris), a form body with more than ``MAX_FIELDS`` fields gets 413, and a form body
that is not valid in its charset (UTF-8 unless declared) gets 400 ``unsupported_body``, a form
field whose value holds a NUL character (which PostgreSQL cannot store) gets 400 naming it (the
spec's pattern on every form value; a field's name is not declared, and such a name is never
stored), and an admin body holding one (a raw NUL byte, or ``\u0000`` in JSON) gets 400: each
raised as ``RequestRejected`` and rendered in the vendor's envelope, before any handler runs,
so one bad client cannot take the server down or fill its memory. The admin API has larger
bounds (it takes snapshots, fixture documents and code uploads) but bounds all the same.

Bodies are small in this API, so the middleware reads them whole (within the limits) and
replays them to the app; requests without a body pass straight through.
"""

from __future__ import annotations

import asyncio
import codecs
import re
import time
from dataclasses import dataclass
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from uniqodo_mock.mock.errors import RequestRejected
from uniqodo_mock.mock.parameters import MAX_FIELDS

__all__ = ["BodyLimits", "BodyLimitsMiddleware"]

_CLOSE = {"Connection": "close"}
# ``\u0000`` in JSON text, not preceded by an escaped backslash (``\\u0000`` is text).
_JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


@dataclass(frozen=True)
class BodyLimits:
    """x-source: simulator. The vendor documents no limits; these keep the mock alive."""

    max_body_bytes: int = 1_048_576
    # The whole body must arrive within this many seconds of the request's headers.
    body_timeout: float = 10.0
    # /__admin takes whole snapshots, fixture documents and code uploads: a larger bound, as
    # checked while the body streams in (a body over it is never held whole).
    admin_max_body_bytes: int = 64 * 1_048_576
    admin_body_timeout: float = 120.0


class BodyLimitsMiddleware:
    def __init__(self, app: ASGIApp, limits: BodyLimits | None = None) -> None:
        self.app = app
        self.limits = limits or BodyLimits()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _may_have_body(scope):
            await self.app(scope, receive, send)
            return
        body = await self._read_body(scope, receive)
        if body is None:
            return  # the client went away
        _check_form(scope, body)
        if scope.get("path", "").startswith("/__admin/"):
            _check_no_nul(scope, body)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # after the body: wait for the disconnect, as ASGI does

        await self.app(scope, replay, send)

    async def _read_body(self, scope: Scope, receive: Receive) -> bytes | None:
        admin = scope.get("path", "").startswith("/__admin/")
        limit = self.limits.admin_max_body_bytes if admin else self.limits.max_body_bytes
        timeout = self.limits.admin_body_timeout if admin else self.limits.body_timeout
        too_large = RequestRejected(
            413, "payload_too_large", f"The body may hold at most {limit} bytes.", _CLOSE
        )
        declared = _header(scope, b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise too_large
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
                raise RequestRejected(
                    408,
                    "unsupported_body",
                    f"The body did not arrive within {timeout:g} seconds.",
                    _CLOSE,
                ) from None
            if message["type"] == "http.disconnect":
                return None
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise too_large
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)


def _may_have_body(scope: Scope) -> bool:
    return (
        _header(scope, b"content-length") not in (None, "0")
        or _header(scope, b"transfer-encoding") is not None
    )


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return str(value.decode("latin-1").strip())
    return None


def _check_form(scope: Scope, body: bytes) -> None:
    """A form body must decode in its charset, before and after percent-decoding, hold at
    most ``MAX_FIELDS`` fields and no NUL character."""
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
        raise RequestRejected(
            415, "unsupported_body", f"The charset {charset!r} is not supported."
        ) from None
    try:
        text = body.decode(charset)
        pairs = parse_qsl(
            text,
            keep_blank_values=True,
            encoding=charset,
            errors="strict",
            max_num_fields=MAX_FIELDS,
        )
    except UnicodeDecodeError:
        raise RequestRejected(
            400, "unsupported_body", f"The form body is not valid {charset.upper()}."
        ) from None
    except ValueError:
        raise RequestRejected(
            413, "payload_too_large", f"The form body may hold at most {MAX_FIELDS} fields."
        ) from None
    nul = next((name for name, value in pairs if "\x00" in value), None)
    if nul is not None:
        nul = nul.replace("\x00", "\\0")
        raise RequestRejected(
            400, "invalid_parameter", f"Form field '{nul}' must not contain NUL characters."
        )


def _check_no_nul(scope: Scope, body: bytes) -> None:
    """No admin body holds a NUL character: text the database could not store on PostgreSQL
    (and would on SQLite), refused alike on both. Fixture documents, snapshots, code uploads
    and callback subscriptions are all text. (The vendor API's bodies are checked by their
    schemas, which declare the same: a form value above, a JSON body by connexion.)"""
    media = (_header(scope, b"content-type") or "").partition(";")[0].strip().lower()
    json_text = media == "application/json" or media.endswith("+json")
    if b"\x00" in body or (json_text and _JSON_NUL.search(body)):
        raise RequestRejected(
            400, "invalid_parameter", "The request body must not contain NUL characters."
        )
