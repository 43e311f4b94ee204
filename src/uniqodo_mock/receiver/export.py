"""Export recorded calls as JSON or CSV. Pure.

CSV cells that a spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``, ``@``,
tab or carriage return) are prefixed with ``'``: recorded values are attacker-controlled. The
JSON export is exact (it is the API's representation).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

import orjson

from uniqodo_mock.receiver.model import RecordedCall

__all__ = ["CSV_COLUMNS", "to_csv", "to_json"]

CSV_COLUMNS = (
    "id",
    "received_at",
    "method",
    "path",
    "query",
    "client",
    "content_type",
    "body_size",
    "rejected",
    "response_status",
    "looks_like_callback",
    "conforms",
    "problems",
    "params",
    "body_text",
    "body_base64",
)


def _safe(cell: str) -> str:
    return "'" + cell if cell[:1] in ("=", "+", "-", "@", "\t", "\r") else cell


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return _safe(str(value))


def to_json(calls: Iterable[RecordedCall]) -> bytes:
    # Ends with a newline: written to a terminal, the next prompt starts on a line of its own.
    return orjson.dumps([call.to_json() for call in calls], option=orjson.OPT_APPEND_NEWLINE)


def to_csv(calls: Iterable[RecordedCall]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for call in calls:
        data = call.to_json()
        verdict = data["callback"]
        row = {
            **data,
            "looks_like_callback": verdict["looks_like_callback"],
            "conforms": verdict["conforms"],
            "problems": "; ".join(verdict["problems"]),
            "params": "&".join(f"{p['name']}={p['value']}" for p in data["params"]),
        }
        writer.writerow([_cell(row[column]) for column in CSV_COLUMNS])
    return out.getvalue()
