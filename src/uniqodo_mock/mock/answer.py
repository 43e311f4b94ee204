"""A vendor request as the handlers see it, and their answer as it is sent and journalled."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from uniqodo_mock.core.errors import VendorError

__all__ = ["JSON_HEADERS", "Answer", "VendorRequest", "envelope_headers"]

JSON_HEADERS = ((b"content-type", b"application/json"),)


def envelope_headers(body: bytes, extra: tuple[tuple[bytes, bytes], ...] = ()) -> list[Any]:
    return [*extra, (b"content-length", str(len(body)).encode("latin-1")), *JSON_HEADERS]


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


@dataclass(frozen=True)
class Answer:
    """What the mock sends for a vendor request, and the errors behind it (for the journal).

    ``keep_until``: the answer of a read-only operation stays exact until then (see
    ``mock/answers.py``); None for answers that must not be reused."""

    status: int
    body: bytes
    headers: list[Any]
    errors: tuple[VendorError, ...] = ()
    entries: tuple[dict[str, Any], ...] = ()
    keep_until: datetime | None = field(default=None, compare=False)
