"""How-to (partner): with the pytest plugin installed (``pip install uniqodo-mock``), the
fixtures ``uniqodo_mock`` and ``callback_receiver`` give you a live mock whose redemption
callbacks reach a live receiver. Issue, validate and redeem a code; wait for its callback."""

import httpx

KEY = "64a287ae534cf1bd58f45f3e23de9d433caec669"


def test_howto_redeem_and_receive_the_callback(uniqodo_mock, callback_receiver):
    code = httpx.get(f"{uniqodo_mock.url}/code/{KEY}/4883").json()["data"]["code"]
    valid = httpx.get(f"{uniqodo_mock.url}/validate/{KEY}/{code}/1").json()
    assert valid["result"] == "success"
    query = {"orderId": "145789", "orderValue": "219.99", "valKey": valid["data"]["val_key"]}
    redeemed = httpx.get(f"{uniqodo_mock.url}/redeem/{KEY}/{code}/1", params=query).json()
    assert redeemed["result"] == "success"
    call = callback_receiver.wait_for(timeout=20, code=code)
    assert {p["name"]: p["value"] for p in call["params"]}["orderId"] == "145789"
