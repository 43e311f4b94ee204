"""How-to (tests, QA): control the mock from a test: move its clock, inject a fault, ask the
journal what your integration sent, and put the state back.

Against a mock you started yourself, use ``AdminClient("http://127.0.0.1:8080")``; in a shell,
``uniqodo-mock admin clock set 2100-01-01T00:00:00Z --frozen``, ``uniqodo-mock admin faults add
--path /redeem/ --status 503``, ``uniqodo-mock admin journal --code AB12E3GX``.
"""

from __future__ import annotations

from pathlib import Path

from uniqodo_mock.mock.runtime import MockConfig
from uniqodo_mock.testing.mock import MERCHANT_KEY, running_mock


def test_howto_control_the_mock(tmp_path: Path) -> None:
    with running_mock(MockConfig(db_url=f"sqlite:///{tmp_path / 'mock.db'}")) as mock:
        admin = mock.admin
        saved = admin.snapshot()  # 1. keep the state to come back to

        # 2. "What if the promotion is over?" Freeze the clock after its end date.
        admin.clock.freeze("2100-01-01T00:00:00Z")
        body = mock.get(f"/validate/{MERCHANT_KEY}/AB12E3GH/1").json()
        assert body["errors"][0]["code"] == 303  # promotion_ended
        admin.clock.real()

        # 3. "What if redeem is down?" A fault rule for two calls.
        admin.faults.add(path="/redeem/", status=503, count=2)
        redeem = f"/redeem/{MERCHANT_KEY}/AB12E3GH/1?orderId=A-1&orderValue=20"
        assert [mock.get(redeem).status_code for _ in range(3)] == [503, 503, 200]

        # 4. "What did my integration send, and why did it fail?"
        mock.get(f"/validate/{MERCHANT_KEY}/AB12E3GX/1")  # a typo
        [entry] = admin.journal.list(code="AB12E3GX")
        assert entry["errors"][0]["why"]["nearest"] == "AB12E3GH"

        # 5. Put everything back for the next test.
        admin.restore(saved)
        assert mock.get(redeem).json()["result"] == "success"  # the redemption is undone
