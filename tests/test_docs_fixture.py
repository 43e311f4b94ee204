"""fixtures/docs.yaml: every example of Uniqodo's help articles sent to a mock loaded with the
docs fixture set, and the answer compared with what the article prints, field by field (byte
for byte where the article prints a whole answer), on both databases."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from starlette.testclient import TestClient
from tests.live.servers import mock_server
from tests.mockapp import CODE_API_KEY, MERCHANT_KEY, PROMOTION, REPO, mock_client

from uniqodo_mock.dispatch.sender import build_request

DOCS_FIXTURES = REPO / "fixtures" / "docs.yaml"
DOCS_VAL_KEY = "f458re9we73wd23dwqd23ed32d23123d2ed433d323d3"

# The Code Query article's example response, as printed (owh6k42hi2).
CODE_QUERY_EXAMPLE = """
{"data":{"redemption":{"records":[{"id":1925118,"offer_id":4883,"merchant_id":1,"distributor_id":102,"code":"BF39KD2H","order_id":"1262434SH","order_value":45,"discount_value":11.25,"currency":"GBP","custom_params":null,"redeemed_at":"2019-05-15T08:55:37+0100","tags":[]}],"total":1},
 "offer":{"id":4883,"offer_id":4883,"offer_description":"Unique coupon test promotion","merchant_id":1,"merchant_name":"Uniqodo Test","description":"Test promotion","status":"active","code":"XMAS10","terms":null,"code_remaining":1000,"redemption_per_code":1,"code_type":"unique","start_date":"27-02-2019 00:00:00","end_date":"17-05-2019 23:59:59","code_issue_date":"15-05-2019 08:54:02","code_expiry":""}},
 "errors":[{"code":201,"message":"This code has already been redeemed and can no longer be used.","promotion_specific_error":null}]}
"""
# The same article's unknown-code example, as printed: the whole answer, byte for byte.
UNKNOWN_EXAMPLE = (
    b'{"data":{"redemption":{"records":[],"total":0},"offer":null},"errors":[{"code":204,'
    b'"message":"The code entered is not recognised.","promotion_specific_error":null,'
    b'"reference":"TCJGGJGF"}],"result":"failure"}'
)
VALIDATE_EXAMPLE = (
    f"/validate/{MERCHANT_KEY}/AB12E3GH/1?email=example@email.com&pos=web&locale=en_GB"
    "&baseValidationParam=productId&itemSeparator=;&productId=123ABC;JS123EF&price=50.00;95.99"
    "&quantity=1;2&basketTotal=123.45&customerType=new"
)
REDEEM_EXAMPLE = (
    f"/redeem/{MERCHANT_KEY}/AB12E3GH/1?orderId=145789&orderValue=219.99&discount=50.95"
    f"&valKey={DOCS_VAL_KEY}&currency=GBP"
    "&p1=example1&p2=example2&p3=example3&p4=example4&p5=example5"
)


@pytest.fixture
def docs(db_url: str) -> Iterator[TestClient]:
    with mock_client(db_url, DOCS_FIXTURES) as client:
        yield client


def _get(client: TestClient, url: str) -> dict[str, Any]:
    response = client.get(url)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_code_query_example_answered_as_printed(docs: TestClient) -> None:
    printed = json.loads(CODE_QUERY_EXAMPLE)
    body = _get(docs, f"/publisher/{MERCHANT_KEY}/query/user-redemption/{PROMOTION}?userId=ABC123")
    # The record and the error exactly; the error without a reference, as printed.
    assert body["data"]["redemption"] == printed["data"]["redemption"]
    assert body["errors"] == printed["errors"]
    # Every field the article prints of the offer, with its value (the mock adds a few more:
    # promotion_uuid, url, discount).
    for name, value in printed["data"]["offer"].items():
        assert body["data"]["offer"][name] == value, name
    assert body["data"]["offer"]["end_date"] == "17-05-2019 23:59:59"
    assert body["result"] == "failure"


def test_unknown_code_example_answered_byte_for_byte(docs: TestClient) -> None:
    response = docs.get(f"/publisher/{MERCHANT_KEY}/query/user-redemption/{PROMOTION}?userId=X")
    assert response.status_code == 200
    assert response.content == UNKNOWN_EXAMPLE
    # The reference is the unknown-code answer's own, whatever asks.
    other = _get(docs, f"/validate/{MERCHANT_KEY}/NOSUCHCODE/1")
    assert [(e["code"], e["reference"]) for e in other["errors"]] == [(204, "TCJGGJGF")]


def test_validation_example_answers_the_redemption_examples_val_key(docs: TestClient) -> None:
    body = _get(docs, VALIDATE_EXAMPLE)
    assert body["result"] == "success" and body["errors"] == []
    data = body["data"]
    assert data["val_key"] == DOCS_VAL_KEY
    assert data["code"] == data["trigger_code"] == "XMAS10" and data["offer_id"] == 4883
    # Validating again (and by form POST) answers the same key.
    form = dict(pair.split("=", 1) for pair in VALIDATE_EXAMPLE.split("?", 1)[1].split("&"))
    posted = docs.post(f"/validate/{MERCHANT_KEY}/AB12E3GH/1", data=form).json()
    assert posted["data"]["val_key"] == DOCS_VAL_KEY


@pytest.mark.parametrize("validate_first", [False, True], ids=["redeem-only", "validate-redeem"])
def test_redemption_example_with_the_docs_val_key(docs: TestClient, validate_first: bool) -> None:
    if validate_first:
        _get(docs, VALIDATE_EXAMPLE)
    body = _get(docs, REDEEM_EXAMPLE)
    assert body["errors"] == [] and body["result"] == "success"
    assert isinstance(body["data"]["redemption_key"], str) and body["data"]["redemption_key"]
    assert body["data"]["awc_token"] is None
    assert body["data"]["redemption"] == {
        "id": 1925119,
        "offer_id": 4883,
        "merchant_id": 1,
        "distributor_id": 102,
        "code": "AB12E3GH",
        "order_id": "145789",
        "order_value": 219.99,
        # From the offer's 25%, not from the `discount` sent.
        "discount_value": 55,
        "currency": "GBP",
        "custom_params": (
            '{"p1":"example1","p2":"example2","p3":"example3","p4":"example4","p5":"example5"}'
        ),
        # The docs' moment, frozen.
        "redeemed_at": "2019-05-15T09:12:03+0100",
        "tags": ["SUMMER_OFFER", "ONLINE"],
    }
    again = _get(docs, REDEEM_EXAMPLE)
    assert [e["code"] for e in again["errors"]] == [201]
    assert (
        again["errors"][0]["message"]
        == "This code has already been redeemed and can no longer be used."
    )


def test_a_wrong_val_key_still_fails(docs: TestClient) -> None:
    body = _get(docs, REDEEM_EXAMPLE.replace(DOCS_VAL_KEY, "0" * 44))
    assert [e["code"] for e in body["errors"]] == [308]


def test_code_and_offers_examples(docs: TestClient) -> None:
    first = _get(docs, f"/code/{CODE_API_KEY}/1234?uid=example@email.com")
    assert first["result"] == "success" and first["errors"] == []
    assert first["data"]["endDate"] == "31-12-2099 23:59:59"
    again = _get(docs, f"/code/{CODE_API_KEY}/1234?uid=example@email.com")
    assert again["data"]["code"] == first["data"]["code"]
    listed = _get(docs, f"/offers/{MERCHANT_KEY}/")
    offers = {o["id"]: o for o in listed["data"]["offers"]}
    assert set(offers) == {4883, 1234}
    assert offers[4883]["end_date"] == "17-05-2019 23:59:59"
    assert offers[4883]["start_date"] == "27-02-2019 00:00:00"


def test_distributor_query_totals(docs: TestClient) -> None:
    body = _get(
        docs, f"/distributor/{MERCHANT_KEY}/query/user-redemption/{PROMOTION}?userId=ABC123"
    )
    assert body["data"]["total_discount_value"] == 11.25
    assert body["data"]["total_order_value"] == 45
    assert body["data"]["redemption"]["total"] == 1


def test_callback_example_body(docs: TestClient) -> None:
    """The Redemption Callback article's example: ``code=45THD2L34K&orderId=447518457``."""
    created = docs.post("/__admin/callbacks", json={"url": "http://127.0.0.1:9/hook"})
    assert created.status_code in (200, 201), created.text
    redeemed = _get(docs, f"/redeem/{MERCHANT_KEY}/45THD2L34K/1?orderId=447518457")
    assert redeemed["errors"] == []
    (delivery,) = docs.get("/__admin/deliveries").json()["deliveries"]
    request = build_request(
        httpx.AsyncClient(),
        url=delivery["url"],
        method=delivery["method"],
        payload=delivery["payload"],
        headers={},
        delivery_id="d",
        attempt=1,
    )
    assert request.method == "POST"
    assert request.content == b"code=45THD2L34K&orderId=447518457"


def test_the_clock_is_pinned_at_load_and_reset(docs: TestClient) -> None:
    pinned = {"now": "2019-05-15T08:12:03+00:00", "frozen": True, "real": False}
    clock = docs.get("/__admin/clock").json()
    assert {name: clock[name] for name in pinned} == pinned
    moved = docs.put("/__admin/clock", json={"now": "2019-05-18T00:00:00Z", "frozen": True})
    assert moved.status_code == 200
    # After the offer's end, the same code query also reports the promotion as ended.
    ended = _get(docs, f"/publisher/{MERCHANT_KEY}/query/user-redemption/{PROMOTION}?userId=ABC123")
    assert [e["code"] for e in ended["errors"]] == [201]
    validate = _get(docs, f"/validate/{MERCHANT_KEY}/AB12E3GH/1")
    assert [e["code"] for e in validate["errors"]] == [303]
    reset = docs.post("/__admin/reset").json()
    assert reset["clock"] == "2019-05-15T08:12:03+00:00"
    clock = docs.get("/__admin/clock").json()
    assert {name: clock[name] for name in pinned} == pinned
    assert _get(docs, VALIDATE_EXAMPLE)["errors"] == []


def test_serve_with_the_docs_fixtures(tmp_path: Path) -> None:
    """``uniqodo-mock serve --fixtures fixtures/docs.yaml`` over real HTTP."""
    db_url = f"sqlite:///{tmp_path / 'docs.db'}"
    with mock_server(db_url, "--fixtures", str(DOCS_FIXTURES)) as server:
        unknown = httpx.get(
            f"{server.url}/publisher/{MERCHANT_KEY}/query/user-redemption/{PROMOTION}",
            params={"userId": "nobody"},
        )
        assert unknown.content == UNKNOWN_EXAMPLE
        redeemed = httpx.get(server.url + REDEEM_EXAMPLE).json()
        assert redeemed["errors"] == []
        assert redeemed["data"]["redemption"]["redeemed_at"] == "2019-05-15T09:12:03+0100"


def test_default_fixtures_stay_live(db_url: str) -> None:
    """The default set answers the same examples for today's date: real time, offers open."""
    with mock_client(db_url) as client:
        clock = client.get("/__admin/clock").json()
        assert clock["real"] is True
        body = _get(
            client, f"/publisher/{MERCHANT_KEY}/query/user-redemption/{PROMOTION}?userId=ABC123"
        )
        assert body["data"]["offer"]["end_date"] == "31-12-2099 23:59:59"
        assert body["data"]["redemption"]["records"][0]["tags"] == []
        unknown = client.get(
            f"/publisher/{MERCHANT_KEY}/query/user-redemption/{PROMOTION}?userId=X"
        ).content
        assert orjson.loads(unknown)["errors"][0]["reference"] != "TCJGGJGF"
