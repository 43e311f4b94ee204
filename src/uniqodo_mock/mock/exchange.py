"""One request and its answer, as the mock's observers (the request journal) see it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from uniqodo_mock.core.errors import VendorError

__all__ = ["Exchange"]


@dataclass
class Exchange:
    operation: str
    method: str
    path: str
    params: dict[str, Any]
    status: int
    errors: list[VendorError] = field(default_factory=list)
    error_entries: list[dict[str, Any]] = field(default_factory=list)
    api_key: str | None = None
    code: str | None = None
    at: datetime | None = None
    duration_ms: float | None = None
