"""How a test harness resets a running mock and points its callbacks at a receiver.

Both go through the admin API only (``POST /__admin/reset``, ``POST /__admin/callbacks``), as a
partner's harness against a remote mock would: ``RunningMock.admin`` already carries the
``Authorization: Bearer`` header of a mock started with an admin token.
"""

from __future__ import annotations

from typing import Any

from uniqodo_mock.core.callbacks import CALLBACK_ITEMS
from uniqodo_mock.testing.mock import RunningMock

__all__ = ["DEFAULT_CALLBACK_PARAMS", "reset_state", "subscribe_callbacks"]

# Every documented callback item under its documented name.
DEFAULT_CALLBACK_PARAMS = {name: name for name in CALLBACK_ITEMS}


def reset_state(mock: RunningMock) -> None:
    """Back to the loaded fixtures: codes, redemptions, subscriptions; the clock back to real
    time and the fault rules back to the fixtures' own."""
    mock.admin.post("/reset").raise_for_status()


def subscribe_callbacks(
    mock: RunningMock,
    url: str,
    *,
    method: str = "POST",
    params: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    body: dict[str, Any] | None = None,
) -> Any:
    """Make every redemption on the mock call ``url``. ``body``: a JSON body template
    (docs/callbacks.md) sent in place of ``params``, with method JSON."""
    request: dict[str, Any] = {"url": url, "method": method, "headers": headers or {}}
    if body is not None:
        request.update(method="JSON", body=body)
    else:
        request["params"] = params or DEFAULT_CALLBACK_PARAMS
    response = mock.admin.post("/callbacks", json=request)
    response.raise_for_status()
    return response.json()
