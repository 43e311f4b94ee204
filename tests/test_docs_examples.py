"""The docs' own example calls give the docs' answers (issue acceptance), on both databases."""

from __future__ import annotations

import json
import re

import pytest
from tests.mockapp import CODE_API_KEY, MERCHANT_KEY, PROMOTION, mock_client

VALIDATE_QUERY = (
    "email=example@email.com&pos=web&locale=en_GB&baseValidationParam=productId&itemSeparator=;"
    "&productId=123ABC;JS123EF&price=50.00;95.99&quantity=1;2&basketTotal=123.45&customerType=new"
)
REDEEM_QUERY = (
    "orderId=145789&orderValue=219.99&discount=50.95&currency=GBP"
    "&p1=example1&p2=example2&p3=example3&p4=example4&p5=example5"
)


@pytest.fixture
def client(db_url: str):
    with mock_client(db_url) as client:
        yield client


def test_code_api_same_code_for_same_uid_fresh_one_without(client) -> None:
    first = client.get(f"/code/{CODE_API_KEY}/1234?uid=example@email.com").json()
    assert first["result"] == "success" and first["errors"] == []
    assert re.fullmatch(r"[A-Z0-9]{8}", first["data"]["code"])
    assert (
        first["data"]["url"].startswith("https://")
        and first["data"]["code"] in first["data"]["url"]
    )
    assert re.fullmatch(r"\d{2}-\d{2}-\d{4} \d{2}:\d{2}:\d{2}", first["data"]["endDate"])
    again = client.get(f"/code/{CODE_API_KEY}/1234?uid=EXAMPLE@email.com ").json()
    assert again["data"]["code"] == first["data"]["code"]
    anonymous = [client.get(f"/code/{CODE_API_KEY}/1234").json()["data"]["code"] for _ in range(2)]
    assert len({first["data"]["code"], *anonymous}) == 3


def test_code_api_lowers_code_remaining(client) -> None:
    def remaining() -> int:
        offers = client.get(f"/offers/{CODE_API_KEY}/json").json()["data"]["offers"]
        return next(o["code_remaining"] for o in offers if o["id"] == 1234)

    before = remaining()
    client.get(f"/code/{CODE_API_KEY}/1234?uid=someone-new")
    assert remaining() == before - 1


def test_validate_get_and_form_post_then_redeem_then_201(client) -> None:
    validated = client.get(f"/validate/{MERCHANT_KEY}/AB12E3GH/1?{VALIDATE_QUERY}").json()
    assert validated["result"] == "success" and validated["errors"] == []
    assert validated["data"]["code"] == "XMAS10" and validated["data"]["trigger_code"] == "XMAS10"
    assert validated["data"]["offer_id"] == 4883
    val_key = validated["data"]["val_key"]
    assert isinstance(val_key, str) and len(val_key) >= 32

    form = dict(pair.split("=", 1) for pair in VALIDATE_QUERY.split("&"))
    posted = client.post(f"/validate/{MERCHANT_KEY}/AB12E3GH/1", data=form).json()
    assert posted["result"] == "success" and posted["data"]["val_key"] == val_key

    redeemed = client.get(
        f"/redeem/{MERCHANT_KEY}/AB12E3GH/1?{REDEEM_QUERY}&valKey={val_key}"
    ).json()
    assert redeemed["result"] == "success" and redeemed["errors"] == []
    assert redeemed["data"]["redemption_key"]
    assert redeemed["data"]["awc_token"] is None
    record = redeemed["data"]["redemption"]
    assert record["order_id"] == "145789" and record["order_value"] == 219.99
    # discount_value is computed from the offer's 25% discount, not taken from `discount`.
    assert record["discount_value"] == 55
    # Serialised, as the Code Query article shows it: one JSON string, not an object.
    assert record["custom_params"] == (
        '{"p1":"example1","p2":"example2","p3":"example3","p4":"example4","p5":"example5"}'
    )
    assert json.loads(record["custom_params"]) == {f"p{i}": f"example{i}" for i in range(1, 6)}
    # The offer's tags, carried on its redemption.
    assert record["tags"] == ["SUMMER_OFFER", "ONLINE"]

    second = client.get(f"/redeem/{MERCHANT_KEY}/AB12E3GH/1?{REDEEM_QUERY}&valKey={val_key}").json()
    assert second["result"] == "failure" and second["data"] is None
    assert [e["code"] for e in second["errors"]] == [201]
    assert (
        second["errors"][0]["message"]
        == "This code has already been redeemed and can no longer be used."
    )
    revalidated = client.get(f"/validate/{MERCHANT_KEY}/AB12E3GH/1").json()
    assert [e["code"] for e in revalidated["errors"]] == [201]


def test_code_query_example_returns_the_documented_record(client) -> None:
    body = client.get(
        f"/publisher/{MERCHANT_KEY}/query/user-redemption/{PROMOTION}?userId=ABC123"
    ).json()
    record = body["data"]["redemption"]["records"][0]
    assert body["data"]["redemption"]["total"] == 1
    assert record == {
        "id": 1925118,
        "offer_id": 4883,
        "merchant_id": 1,
        "distributor_id": 102,
        "code": "BF39KD2H",
        "order_id": "1262434SH",
        "order_value": 45,
        "discount_value": 11.25,
        "currency": "GBP",
        "custom_params": None,
        "redeemed_at": "2019-05-15T08:55:37+0100",
        "tags": [],
    }
    offer = body["data"]["offer"]
    assert offer["id"] == offer["offer_id"] == 4883
    assert offer["offer_description"] == "Unique coupon test promotion"
    assert offer["merchant_name"] == "Uniqodo Test" and offer["code"] == "XMAS10"
    assert offer["code_type"] == "unique" and offer["redemption_per_code"] == 1
    assert offer["code_remaining"] == 1000 and offer["status"] == "active"
    assert offer["code_issue_date"] == "15-05-2019 08:54:02" and offer["code_expiry"] == ""
    assert body["errors"] == [
        {
            "code": 201,
            "message": "This code has already been redeemed and can no longer be used.",
            "promotion_specific_error": None,
            "reference": body["errors"][0]["reference"],
        }
    ]


def test_unknown_user_gets_204_with_documented_defaults(client) -> None:
    body = client.get(
        f"/publisher/{MERCHANT_KEY}/query/user-redemption/{PROMOTION}?userId=nobody"
    ).json()
    assert body["data"] == {"redemption": {"records": [], "total": 0}, "offer": None}
    assert body["result"] == "failure"
    assert body["errors"][0]["code"] == 204
    assert body["errors"][0]["message"] == "The code entered is not recognised."
    assert re.fullmatch(r"[A-Z]{8}", body["errors"][0]["reference"])


def test_unknown_code_gets_204(client) -> None:
    body = client.get(f"/validate/{MERCHANT_KEY}/NOSUCHCODE/1").json()
    assert body["result"] == "failure" and body["errors"][0]["code"] == 204


def test_distributor_query_totals(client) -> None:
    body = client.get(
        f"/distributor/{MERCHANT_KEY}/query/user-redemption/{PROMOTION}?userId=ABC123"
    ).json()
    assert body["result"] == "success"
    assert body["data"]["total_discount_value"] == 11.25 and body["data"]["total_order_value"] == 45
    assert body["data"]["redemption"]["total"] == 1


def test_offers_list_json_xml_and_trailing_slash(client) -> None:
    listed = client.get(f"/offers/{MERCHANT_KEY}/").json()
    assert listed["result"] == "success"
    assert {o["id"] for o in listed["data"]["offers"]} == {4883, 1234}
    assert all("codes" not in o for o in listed["data"]["offers"])
    scoped = client.get(f"/offers/{CODE_API_KEY}/json").json()
    assert [o["id"] for o in scoped["data"]["offers"]] == [1234]
    xml = client.get(f"/offers/{CODE_API_KEY}/xml")
    assert xml.headers["content-type"].startswith("application/xml")
    assert "<offer_id>1234</offer_id>" in xml.text


def test_embeddable_and_user_code_enquiry(client) -> None:
    claimed = client.get(
        f"/embeddable/v2/{MERCHANT_KEY}/{PROMOTION}?email=reader@example.com"
    ).json()
    assert claimed["result"] == "success" and claimed["data"]["discount"]["discount_amount"] == 25
    code = claimed["data"]["code"]
    enquiry = client.get(
        f"/user-code-enquiry/{MERCHANT_KEY}/{PROMOTION}?email=reader@example.com"
    ).json()
    assert enquiry["result"] == "success"
    assert enquiry["data"]["code"] == code and enquiry["data"]["redemption_records"] == []
    nobody = client.get(
        f"/user-code-enquiry/{MERCHANT_KEY}/{PROMOTION}?email=nobody@example.com"
    ).json()
    assert nobody == {"data": None, "errors": [], "result": "success"}
