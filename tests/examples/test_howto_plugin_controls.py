"""How-to (partners' pytest suites): with ``pip install uniqodo-mock`` the ``uniqodo_mock``
fixture is there; move its clock and inject faults to test your unhappy paths. Everything is
undone before the next test (real time, no fault rules, fixtures' state, empty journal).
"""

from __future__ import annotations

import httpx

MERCHANT_KEY = "64a287ae534cf1bd58f45f3e23de9d433caec669"


def test_howto_promotion_over_and_redeem_down(uniqodo_mock) -> None:
    api = httpx.Client(base_url=uniqodo_mock.url)

    # "What does my checkout say when the promotion is over?" Freeze the clock after its end.
    uniqodo_mock.clock.freeze("2100-01-01T00:00:00Z")
    body = api.get(f"/validate/{MERCHANT_KEY}/AB12E3GH/1").json()
    assert body["result"] == "failure"
    assert body["errors"][0]["code"] == 303  # the promotion has ended
    uniqodo_mock.clock.real()

    # "What if redeem is down?" A fault rule: the next redeem answers 503.
    uniqodo_mock.faults.add(path="/redeem/", status=503, count=1)
    redeem = f"/redeem/{MERCHANT_KEY}/AB12E3GH/1?orderId=A-1&orderValue=20"
    assert api.get(redeem).status_code == 503
    assert api.get(redeem).json()["result"] == "success"  # the rule was for one call

    # "What did my integration send?"
    assert [e["operation"] for e in uniqodo_mock.journal.list(code="AB12E3GH")][:2] == [
        "redeem_code",
        "redeem_code",
    ]
