"""The ASGI app that records every request outside ``/__receiver/`` and answers it.

Lean on purpose (raw ASGI, no request object): this is the ingest path the benchmark measures.
The call is committed before the answer is sent, so an answered call is never lost.

Bodies are bounded in size and in time: the whole body must arrive within ``body_timeout``
seconds of the request's headers (else 408), and may hold at most ``max_body_bytes`` (else 413,
declared or not: a chunked body is counted as it arrives). A refused call is still recorded
(``rejected``, without its bytes) and its connection is closed after the answer, so a client
cannot hold it by trickling or by sending without end. A body only a little over the limit is
read to its end first (and thrown away): closing a socket with unread bytes resets the
connection, and the client would lose the 413 it is owed.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

import orjson
from starlette.types import Receive, Scope, Send

from uniqodo_mock.receiver.model import micros_now
from uniqodo_mock.receiver.service import Receiver

__all__ = ["RecorderApp"]

log = logging.getLogger(__name__)


@dataclass(slots=True)
class _Body:
    """What arrived of a request body. ``refused`` is ``None``, 413 or 408; ``complete`` says
    the body was read to its end (the connection can serve another request)."""

    chunks: list[bytes] = field(default_factory=list)
    size: int = 0
    refused: int | None = None
    complete: bool = False
    disconnected: bool = False


async def _read_body(receive: Receive, declared: int | None, limit: int, deadline: float) -> _Body:
    body = _Body()
    if declared is not None and declared > limit:
        body.refused, body.size = 413, declared
        if declared > 2 * limit:
            return body  # far over: not worth reading, the connection is closed instead
    try:
        async with asyncio.timeout_at(deadline):
            seen = 0  # every byte, also those read past the limit to drain the body
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    body.disconnected = True
                    return body
                chunk = message.get("body", b"")
                seen += len(chunk)
                if body.refused is None:
                    if seen > limit:
                        body.refused, body.size, body.chunks = 413, seen, []
                    else:
                        body.size = seen
                        body.chunks.append(chunk)
                if not message.get("more_body", False):
                    body.complete = True
                    return body
                if body.refused is not None and seen > 2 * limit:
                    return body  # drained as far as it is worth: close
    except TimeoutError:
        if body.refused is None:
            body.refused, body.chunks = 408, []
        return body


class RecorderApp:
    def __init__(self, receiver: Receiver) -> None:
        self.receiver = receiver

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        received_at = micros_now()
        settings = self.receiver.settings
        limit = settings.max_body_bytes
        deadline = asyncio.get_running_loop().time() + settings.body_timeout
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
        length = next((v for n, v in headers if n.lower() == "content-length"), None)
        # (the HTTP parser has checked the header; isascii: "²".isdigit() is true too)
        declared = int(length) if length and length.isascii() and length.isdigit() else None
        body = await _read_body(receive, declared, limit, deadline)
        if body.disconnected and body.refused is None:
            return  # the client went away before sending its body: nothing to answer
        client = scope.get("client")
        call = self.receiver.build_call(
            method=scope["method"],
            path=scope["path"],
            query=scope["query_string"].decode("latin-1"),
            headers=headers,
            body=b"".join(body.chunks),
            received_at=received_at,
            client=f"{client[0]}:{client[1]}" if client else None,
            body_size=body.size,
            rejected=body.refused is not None,
            response_status=body.refused or 204,
        )
        try:
            call_id = await self.receiver.record(call)
        except Exception:
            log.exception("could not store a call to %s", scope["path"])
            message = "the receiver could not store this call; retry"
            await _answer(send, 503, message, close=not body.complete)
            return
        if body.refused == 413:
            message = f"request body over the receiver's limit of {limit} bytes"
            await _answer(send, 413, message, call_id, close=not body.complete)
            return
        if body.refused == 408:
            message = f"request body did not arrive within {settings.body_timeout:g} seconds"
            await _answer(send, 408, message, call_id, close=True)
            return
        if call.response_delay > 0:
            await asyncio.sleep(call.response_delay)
        await _answer(send, call.response_status, None, call_id)


async def _answer(
    send: Send, status: int, message: str | None, call_id: int | None = None, *, close: bool = False
) -> None:
    headers = [(b"x-receiver-call-id", str(call_id).encode())] if call_id is not None else []
    if close:
        headers.append((b"connection", b"close"))
    body = b""
    if message is not None:
        body = orjson.dumps({"error": {"status": status, "message": message}})
        headers.append((b"content-type", b"application/json"))
    if status not in (204, 304) and not 100 <= status < 200:
        headers.append((b"content-length", str(len(body)).encode()))
    else:
        body = b""
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
