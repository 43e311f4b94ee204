"""The admin token of the mock's and the receiver's admin APIs: ``Authorization: Bearer TOKEN``,
or ``?token=TOKEN`` for what cannot send headers (a browser's address bar, EventSource)."""

from __future__ import annotations

import hmac
from urllib.parse import parse_qsl

from starlette.types import Scope

__all__ = ["token_given"]


def token_given(scope: Scope, expected: bytes) -> bool:
    """Whether the request carries ``expected`` (compared in constant time)."""
    for name, value in scope.get("headers", ()):
        if name == b"authorization" and value[:7].lower() == b"bearer ":
            return hmac.compare_digest(value[7:].strip(), expected)
    query = scope.get("query_string", b"").decode("latin-1")
    for key, value in parse_qsl(query, keep_blank_values=True):
        if key == "token":
            return hmac.compare_digest(value.encode(), expected)
    return False
