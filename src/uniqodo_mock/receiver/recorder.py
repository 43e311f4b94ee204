"""The ASGI app that records every request outside ``/__receiver/`` and answers it.

Lean on purpose (raw ASGI, no request object): this is the ingest path the benchmark measures.
The call is committed before the answer is sent, so an answered call is never lost.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import orjson

from uniqodo_mock.receiver.model import micros_now
from uniqodo_mock.receiver.service import Receiver

__all__ = ["RecorderApp"]

log = logging.getLogger(__name__)
Scope = dict[str, Any]


class RecorderApp:
    def __init__(self, receiver: Receiver) -> None:
        self.receiver = receiver

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        received_at = micros_now()
        limit = self.receiver.settings.max_body_bytes
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
        declared = next((v for n, v in headers if n.lower() == "content-length"), None)
        size = 0
        rejected = False
        chunks: list[bytes] = []
        if declared is not None and declared.isdigit() and int(declared) > limit:
            rejected, size = True, int(declared)
        else:
            more = True
            while more:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return  # the client went away before sending its body: nothing to answer
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > limit:
                    rejected = True
                    break
                chunks.append(chunk)
                more = message.get("more_body", False)
        rule = self.receiver.responses.match(scope["path"])
        status = 413 if rejected else (rule.status if rule else 204)
        client = scope.get("client")
        call = self.receiver.build_call(
            method=scope["method"],
            path=scope["path"],
            query=scope["query_string"].decode("latin-1"),
            headers=headers,
            body=b"" if rejected else b"".join(chunks),
            received_at=received_at,
            client=f"{client[0]}:{client[1]}" if client else None,
            body_size=size,
            rejected=rejected,
            response_status=status,
        )
        try:
            call_id = await self.receiver.record(call)
        except Exception:
            log.exception("could not store a call to %s", scope["path"])
            await _answer(send, 503, "the receiver could not store this call; retry")
            return
        if rejected:
            await _answer(
                send, 413, f"request body over the receiver's limit of {limit} bytes", call_id
            )
            return
        if rule is not None and rule.delay > 0:
            await asyncio.sleep(rule.delay)
        await _answer(send, status, None, call_id)


async def _answer(send: Any, status: int, message: str | None, call_id: int | None = None) -> None:
    headers = [(b"x-receiver-call-id", str(call_id).encode())] if call_id is not None else []
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
