"""The vendor's envelope: ``{"data": ..., "errors": [...], "result": "success"|"failure"}``.

Every answer of the mock, success or failure, business or transport error, goes through here.
Bodies are serialised once with orjson and sent as bytes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import orjson
from starlette.responses import Response

from uniqodo_mock.core.codes import new_reference
from uniqodo_mock.core.errors import ErrorCatalogue, VendorError

__all__ = [
    "JSON_MEDIA_TYPE",
    "envelope_body_response",
    "envelope_bytes",
    "envelope_headers",
    "envelope_response",
    "error_entries",
    "error_entry",
    "json_response",
    "status_for",
]

JSON_MEDIA_TYPE = "application/json"


def error_entry(
    code: int, message: str, *, reference: str | None, promotion_specific_error: str | None = None
) -> dict[str, Any]:
    """One item of ``errors[]``."""
    return {
        "code": code,
        "message": message,
        "promotion_specific_error": promotion_specific_error,
        "reference": reference,
    }


def error_entries(
    errors: Sequence[VendorError], catalogue: ErrorCatalogue, locale: str | None
) -> list[dict[str, Any]]:
    """``errors[]`` as the platform writes it; one ``reference`` per answer, on every error."""
    if not errors:
        return []
    reference = new_reference()
    out = []
    for error in errors:
        entry = catalogue[error.key] if error.key in catalogue else catalogue["internal_error"]
        out.append(
            error_entry(
                entry.code,
                error.message or entry.message(locale),
                reference=reference,
                promotion_specific_error=error.promotion_specific_error,
            )
        )
    return out


def status_for(errors: Sequence[VendorError], catalogue: ErrorCatalogue) -> int:
    """Business failures travel with HTTP 200; transport errors with their own status."""
    for error in errors:
        if error.key in catalogue:
            status = catalogue[error.key].http_status
            if status != 200:
                return status
    return 200


def envelope_bytes(data: Any, entries: list[dict[str, Any]]) -> bytes:
    """The serialised envelope; ``result`` follows from whether there are errors."""
    return orjson.dumps(
        {"data": data, "errors": entries, "result": "failure" if entries else "success"}
    )


_JSON_CONTENT_TYPE = (b"content-type", JSON_MEDIA_TYPE.encode("latin-1"))


class _EnvelopeResponse(Response):
    """A JSON ``Response`` built without starlette's general header set-up (~5 µs per request
    on the hot routes): the body is bytes already and the headers are known. Same headers,
    in the same order, as ``Response(body, media_type=JSON_MEDIA_TYPE, headers=...)``."""

    media_type = JSON_MEDIA_TYPE

    def __init__(self, body: bytes, status: int, headers: Mapping[str, str] | None) -> None:
        self.status_code = status
        self.body = body
        self.background = None
        raw = (
            [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
            if headers
            else []
        )
        raw.append((b"content-length", str(len(body)).encode("latin-1")))
        raw.append(_JSON_CONTENT_TYPE)
        self.raw_headers = raw


def envelope_response(
    data: Any,
    entries: list[dict[str, Any]],
    status: int = 200,
    headers: Mapping[str, str] | None = None,
) -> Response:
    return _EnvelopeResponse(envelope_bytes(data, entries), status, headers)


def envelope_body_response(
    body: bytes, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    """A response for an envelope serialised already (``envelope_bytes``)."""
    return _EnvelopeResponse(body, status, headers)


def envelope_headers(body: bytes) -> list[tuple[bytes, bytes]]:
    """The raw ASGI headers ``envelope_body_response(body)`` sends, for senders that write
    ASGI messages themselves."""
    return [(b"content-length", str(len(body)).encode("latin-1")), _JSON_CONTENT_TYPE]


def json_response(
    data: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    """Plain JSON (the admin API's own shapes, not the vendor envelope)."""
    return Response(
        orjson.dumps(data),
        status_code=status,
        headers=dict(headers or {}),
        media_type=JSON_MEDIA_TYPE,
    )
