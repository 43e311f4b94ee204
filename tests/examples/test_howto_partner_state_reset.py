"""How-to (partner): every test starts from the fixtures, so a code redeemed in one test is
fresh again in the next. The admin client (``uniqodo_mock.admin``) reaches ``/__admin``."""

import httpx

KEY = "64a287ae534cf1bd58f45f3e23de9d433caec669"


def _redeem(url: str, code: str) -> dict:
    valid = httpx.get(f"{url}/validate/{KEY}/{code}/1").json()
    assert valid["result"] == "success", valid
    query = {"orderId": "1", "orderValue": "10", "valKey": valid["data"]["val_key"]}
    return httpx.get(f"{url}/redeem/{KEY}/{code}/1", params=query).json()


def test_howto_redeem_the_fixture_code(uniqodo_mock):
    assert uniqodo_mock.admin.get("/health").json()["status"] == "ok"
    assert _redeem(uniqodo_mock.url, "AB12E3GH")["result"] == "success"
    again = httpx.get(f"{uniqodo_mock.url}/validate/{KEY}/AB12E3GH/1").json()
    assert again["errors"][0]["code"] == 201  # already redeemed


def test_howto_the_same_code_is_fresh_in_the_next_test(uniqodo_mock):
    assert _redeem(uniqodo_mock.url, "AB12E3GH")["result"] == "success"
