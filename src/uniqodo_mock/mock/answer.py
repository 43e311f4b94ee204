"""A vendor request as the handlers see it, and their answer as it is sent and journalled."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

__all__ = ["JSON_HEADERS", "Answer", "VendorRequest", "envelope_headers"]

JSON_HEADERS = ((b"content-type", b"application/json"),)


def envelope_headers(
    body: bytes, extra: tuple[tuple[bytes, bytes], ...] = ()
) -> tuple[tuple[bytes, bytes], ...]:
    return (*extra, (b"content-length", str(len(body)).encode("latin-1")), *JSON_HEADERS)


@dataclass(frozen=True)
class VendorRequest:
    """One call of a vendor operation: its path parameters (typed by connexion's router) and
    its query and form parameters (each name's first value, as the platform reads them)."""

    operation: str
    method: str
    path: str
    path_params: dict[str, Any]
    params: dict[str, str]

    @property
    def cache_key(self) -> Hashable:
        """Everything the answer can depend on besides the state, the settings and the clock."""
        return (
            self.operation,
            tuple(sorted(self.path_params.items())),
            tuple(sorted(self.params.items())),
        )


class Answer(NamedTuple):
    """What the mock sends for a vendor request, and its errors as the journal shows them
    (``mock/journal.py``): plain values only (an answer may be kept: an exception would hold
    its traceback and every object the call touched, and objects are work for the cycle
    collector, which plain tuples are not).

    ``keep_until``: the answer of a read-only operation stays exact until then (see
    ``mock/answers.py``); None for answers that must not be reused."""

    status: int
    body: bytes
    headers: tuple[tuple[bytes, bytes], ...]
    # The errors' journal records as JSON, b"[]" for none.
    journal_errors: bytes = b"[]"
    keep_until: datetime | None = None
