"""How-to: subscribe to redemption callbacks at runtime and check what your endpoint got.

From a shell the same is:

    uniqodo-mock up                      # mock on :8080, receiver on :8090, wired together
    curl -X POST localhost:8080/__admin/callbacks -H 'Content-Type: application/json' \\
         -d '{"url": "http://127.0.0.1:8090/hook", "method": "GET",
              "params": {"code": "voucher", "orderId": "order"}}'
    curl 'localhost:8080/redeem/64a287ae534cf1bd58f45f3e23de9d433caec669/AB12E3GH/1?orderId=145789'
    curl localhost:8080/__admin/deliveries   # each delivery with its attempts
"""

from __future__ import annotations

from pathlib import Path

from uniqodo_mock.mock.runtime import MockConfig
from uniqodo_mock.receiver.settings import ReceiverSettings
from uniqodo_mock.testing.mock import running_mock
from uniqodo_mock.testing.receiver import running_receiver

KEY = "64a287ae534cf1bd58f45f3e23de9d433caec669"


def test_howto_subscribe_and_check_a_callback(tmp_path: Path) -> None:
    receiver_settings = ReceiverSettings(db_url=f"sqlite:///{tmp_path / 'calls.db'}")
    with (
        running_receiver(receiver_settings) as receiver,
        running_mock(MockConfig(db_url=f"sqlite:///{tmp_path / 'mock.db'}")) as mock,
        mock.client() as http,
        receiver.client() as calls,
    ):
        # 1. Subscribe: a GET with your own parameter names, for merchant 1's redemptions.
        http.post(
            "/__admin/callbacks",
            json={
                "url": f"{receiver.url}/hook",
                "method": "GET",
                "params": {"code": "voucher", "orderId": "order"},
                "owner": {"merchant": 1},
            },
        ).raise_for_status()
        # 2. Redeem a code as the merchant's checkout would.
        http.get(f"/redeem/{KEY}/AB12E3GH/1", params={"orderId": "145789"}).raise_for_status()
        # 3. Wait for the callback (no sleeping): it carries exactly your names.
        call = calls.wait(timeout=10, after=0, path="/hook")
        assert call["query"] == "voucher=AB12E3GH&order=145789"
        # 4. The mock's delivery log shows each attempt with its status and latency.
        delivery = http.get("/__admin/deliveries").json()["deliveries"][0]
        assert delivery["payload"] == {"voucher": "AB12E3GH", "order": "145789"}
