"""The vendor's envelope: ``{"data": ..., "errors": [...], "result": "success"|"failure"}``.

Every answer of the mock, success or failure, business or transport error, is built here and
serialised once with orjson. Error references are derived from what the answer is about (the
request and its errors, with the fixtures' seed), so the same request on the same state gets
the same bytes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import orjson
from starlette.responses import Response

from uniqodo_mock.core.errors import ErrorCatalogue, VendorError

__all__ = [
    "JSON_MEDIA_TYPE",
    "envelope_bytes",
    "envelope_response",
    "error_entries",
    "error_entry",
    "json_response",
    "reference_for",
    "status_for",
]

JSON_MEDIA_TYPE = "application/json"


def error_entry(
    code: int, message: str, *, reference: str | None, promotion_specific_error: str | None = None
) -> dict[str, Any]:
    """One item of ``errors[]``; ``reference`` "" leaves the field out (as the docs' 201
    example shows an error)."""
    entry: dict[str, Any] = {
        "code": code,
        "message": message,
        "promotion_specific_error": promotion_specific_error,
        "reference": reference,
    }
    if reference == "":
        del entry["reference"]
    return entry


def reference_for(
    errors: Sequence[VendorError], catalogue: ErrorCatalogue, derive: Callable[[], str]
) -> str:
    """The one reference of an answer: the one fixtures gave the code its first error is
    about, else the one they gave that error's catalogue entry, else ``derive()`` (from the
    seed and the request). "" means none."""
    first = errors[0]
    if first.reference is not None:
        return first.reference
    if first.key in catalogue and catalogue[first.key].reference is not None:
        return catalogue[first.key].reference or ""
    return derive()


def error_entries(
    errors: Sequence[VendorError],
    catalogue: ErrorCatalogue,
    locale: str | None,
    reference: str | None,
) -> list[dict[str, Any]]:
    """``errors[]`` as the platform writes it: one ``reference`` per answer, on every error."""
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


def envelope_bytes(data: Any, entries: Sequence[dict[str, Any]], *, newline: bool = True) -> bytes:
    """The serialised envelope; ``result`` follows from whether there are errors. It ends
    with a newline (answers printed by ``curl`` in a shell do not run into the prompt) unless
    ``newline`` is False (``settings.answer_newline``: the platform's own bytes)."""
    return orjson.dumps(
        {"data": data, "errors": list(entries), "result": "failure" if entries else "success"},
        option=orjson.OPT_APPEND_NEWLINE if newline else None,
    )


def envelope_response(
    data: Any,
    entries: Sequence[dict[str, Any]],
    status: int = 200,
    headers: Mapping[str, str] | None = None,
) -> Response:
    return Response(
        envelope_bytes(data, entries),
        status_code=status,
        headers=dict(headers or {}),
        media_type=JSON_MEDIA_TYPE,
    )


def json_response(
    data: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    """Plain JSON (the admin API's own shapes, not the vendor envelope), ending with a
    newline as the envelope does."""
    return Response(
        orjson.dumps(data, option=orjson.OPT_APPEND_NEWLINE),
        status_code=status,
        headers=dict(headers or {}),
        media_type=JSON_MEDIA_TYPE,
    )
