"""How a test harness resets a running mock and points its callbacks at a receiver.

Prefers the admin API (``POST /__admin/reset``, ``POST /__admin/callbacks``); where a build of
the mock does not have those yet (404), it does the same in process through the runtime. Kept
in one place so the fallback can go once the admin API is everywhere.
"""

from __future__ import annotations

from typing import Any

from uniqodo_mock.core.callbacks import CALLBACK_ITEMS
from uniqodo_mock.core.dates import to_db
from uniqodo_mock.mock.testing import RunningMock

__all__ = ["DEFAULT_CALLBACK_PARAMS", "reset_state", "subscribe_callbacks"]

# Every documented callback item under its documented name.
DEFAULT_CALLBACK_PARAMS = {name: name for name in CALLBACK_ITEMS}


def reset_state(mock: RunningMock) -> None:
    """Back to the loaded fixtures: codes, redemptions, subscriptions, clock."""
    response = mock.admin.post("/reset")
    if response.status_code in (404, 405):
        runtime = mock.runtime
        runtime.load_fixtures(runtime.fixtures)
        runtime.clock.reset()
        return
    response.raise_for_status()


def subscribe_callbacks(
    mock: RunningMock,
    url: str,
    *,
    method: str = "POST",
    params: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> Any:
    """Make every redemption on the mock call ``url``."""
    body = {
        "url": url,
        "method": method,
        "params": params or DEFAULT_CALLBACK_PARAMS,
        "headers": headers or {},
    }
    response = mock.admin.post("/callbacks", json=body)
    if response.status_code in (404, 405):
        repo = mock.runtime.repo
        with repo.write() as conn:
            return repo.add_subscription(
                conn,
                {
                    "url": url,
                    "method": method,
                    "params": body["params"],
                    "headers": body["headers"],
                    "owner_merchant_id": None,
                    "owner_distributor_id": None,
                    "origin": "runtime",
                    "created_at": to_db(mock.runtime.clock.now()),
                },
            )
    response.raise_for_status()
    return response.json()
