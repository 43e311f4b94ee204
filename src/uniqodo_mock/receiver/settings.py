"""The receiver's settings, given to the app factory (no module globals, no environment reads
inside the app)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from uniqodo_mock.receiver.responses import ResponseRule

__all__ = [
    "DEFAULT_BODY_TIMEOUT",
    "DEFAULT_MAX_BODY_BYTES",
    "DEFAULT_RECEIVER_DB_URL",
    "ReceiverSettings",
]

DEFAULT_RECEIVER_DB_URL = "sqlite:///uniqodo-receiver.db"
DEFAULT_MAX_BODY_BYTES = 1024 * 1024
DEFAULT_BODY_TIMEOUT = 10.0


@dataclass(frozen=True)
class ReceiverSettings:
    """``spec`` overrides the spec document the conformance check reads (default: ``spec_name``
    loaded from ``openapi/``). ``max_wait_seconds`` caps ``wait``'s timeout; ``poll_interval``
    is how often waiters re-read the database for calls stored by other replicas.
    ``body_timeout``: seconds from a request's headers by which its whole body must have
    arrived (else 408 and the connection is closed). ``responses``: rules that replace the
    stored response rules at start (empty: keep the stored ones)."""

    db_url: str = DEFAULT_RECEIVER_DB_URL
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    body_timeout: float = DEFAULT_BODY_TIMEOUT
    responses: tuple[ResponseRule, ...] = ()
    admin_token: str | None = None
    max_wait_seconds: float = 300.0
    poll_interval: float = 0.25
    batch_max: int = 500
    spec_name: str = "uniqodo.yaml"
    spec: dict[str, Any] | None = field(default=None, compare=False)
