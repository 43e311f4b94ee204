"""How-to (QA): trigger something that should call back, then wait for the callback.

Against a real receiver you would write ``ReceiverClient("http://127.0.0.1:8090")`` or, in a
shell, ``uniqodo-mock calls wait --param code:AB12E3GH --timeout 30``.
"""

from __future__ import annotations

from pathlib import Path

import httpx

from uniqodo_mock.receiver.settings import ReceiverSettings
from uniqodo_mock.testing.receiver import running_receiver


def test_howto_wait_for_a_redemption_callback(tmp_path: Path) -> None:
    settings = ReceiverSettings(db_url=f"sqlite:///{tmp_path / 'calls.db'}")
    with running_receiver(settings) as receiver, receiver.client() as calls:
        # 1. Note where the receiver is now, so an earlier callback can't satisfy the wait.
        cursor = calls.list()["next_cursor"] or 0
        # 2. Do what triggers the callback (here: post it ourselves, like the mock would).
        httpx.post(
            f"{receiver.url}/partner/hook",
            data={"code": "AB12E3GH", "orderId": "145789", "orderValue": "219.99"},
            headers={"X-Uniqodo-Delivery-Id": "6f1c0f3e-0000-4000-8000-000000000001"},
        )
        # 3. Wait for it: returns as soon as it is stored, raises WaitTimeout otherwise.
        call = calls.wait(timeout=10, after=cursor, param="code:AB12E3GH")
        assert call["method"] == "POST" and call["path"] == "/partner/hook"
        # 4. Check what the partner received, and whether it matches the spec's callback.
        fields = {p["name"]: p["value"] for p in call["params"]}
        assert fields["orderValue"] == "219.99"
        assert call["callback"]["conforms"] is True, call["callback"]["problems"]
