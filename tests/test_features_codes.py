"""Code generation, code kinds, mystery discounts and the promotion lifecycle, as a partner's
integration sees them through HTTP."""

from __future__ import annotations

import re

import pytest
from tests.features_helpers import DIST, DIST103, MERCHANT, features_app


@pytest.fixture
def client(tmp_path):
    with features_app(f"sqlite:///{tmp_path / 'mock.db'}").test_client() as c:
        yield c


def code_for(client, offer: int, uid: str | None = None, key: str = DIST) -> dict:
    query = f"?uid={uid}" if uid else ""
    return client.get(f"/code/{key}/{offer}{query}").json()


def test_vanity_codes_carry_prefix_suffix_and_alphabet(client):
    first = code_for(client, 7001, "ann@example.com")
    second = code_for(client, 7001, "bob@example.com")
    assert first["result"] == "success" and first["errors"] == []
    for body in (first, second):
        assert re.fullmatch(r"HELLO[ABCDEFGHJK2345]{6}-X", body["data"]["code"])
    assert first["data"]["code"] != second["data"]["code"]
    assert first["data"]["url"] == f"https://shop.example/vanity?code={first['data']['code']}"
    # The same customer gets the same code again.
    assert code_for(client, 7001, "ann@example.com")["data"]["code"] == first["data"]["code"]


def test_repeat_code_is_shared_and_reusable(client):
    assert code_for(client, 7002, "a")["data"]["code"] == "SUMMER15"
    assert code_for(client, 7002, "b")["data"]["code"] == "SUMMER15"
    for order in ("o1", "o2", "o3"):
        body = client.get(f"/redeem/{MERCHANT}/SUMMER15/1?orderId={order}&orderValue=100").json()
        assert body["result"] == "success", body


def test_secure_code_needs_uid_and_matching_email(client):
    missing = code_for(client, 7003)
    assert missing["result"] == "failure"
    assert missing["errors"][0]["code"] == 310
    code = code_for(client, 7003, "Secure@Example.com")["data"]["code"]
    wrong = client.get(f"/validate/{MERCHANT}/{code}/1?email=other@example.com").json()
    assert wrong["errors"][0]["code"] == 305
    assert wrong["errors"][0]["message"] == "This code is not valid for this email address."
    ok = client.get(f"/validate/{MERCHANT}/{code}/1?email=secure@example.com").json()
    assert ok["result"] == "success" and ok["data"]["code"] == "SECURE20"


def test_mystery_discount_shows_everywhere(client):
    issued = code_for(client, 7008, "lucky@example.com", key=DIST103)["data"]
    drawn = issued["discount"]["discount_amount"]
    assert drawn in (10, 25, 50)
    code = issued["code"]
    validated = client.get(f"/validate/{MERCHANT}/{code}/1").json()["data"]
    assert validated["discount"]["discount_amount"] == drawn
    redeemed = client.get(
        f"/redeem/{MERCHANT}/{code}/1?orderId=M1&orderValue=200&valKey={validated['val_key']}"
    ).json()["data"]
    assert redeemed["redemption"]["discount_value"] == pytest.approx(200 * drawn / 100)
    uuid = "f0000000000000000000000000007008"
    query = client.get(
        f"/publisher/{DIST103}/query/user-redemption/{uuid}?userId=lucky@example.com"
    )
    assert query.json()["data"]["offer"]["discount"]["discount_amount"] == drawn
    totals = client.get(
        f"/distributor/{DIST103}/query/user-redemption/{uuid}?userId=lucky@example.com"
    ).json()["data"]
    assert totals["total_discount_value"] == pytest.approx(200 * drawn / 100)


def test_mystery_draws_follow_the_weights(client):
    drawn = [
        code_for(client, 7008, f"user{i}@example.com")["data"]["discount"]["discount_amount"]
        for i in range(60)
    ]
    assert set(drawn) <= {10, 25, 50}
    # 70% weight on 10: most draws are 10, and the set is not constant.
    assert drawn.count(10) > len(drawn) / 2 and len(set(drawn)) > 1


@pytest.mark.parametrize(
    ("code", "number", "message"),
    [
        ("PAUSED-0001", 304, "This promotion is not currently active."),
        ("ENDED-0001", 303, "This promotion has ended."),
        ("LATER-0001", 302, "This promotion has not started yet."),
    ],
)
def test_lifecycle_status_and_window(client, code, number, message):
    body = client.get(f"/validate/{MERCHANT}/{code}/1").json()
    assert body["result"] == "failure"
    assert body["errors"][0]["code"] == number and body["errors"][0]["message"] == message


def test_code_expires_relative_to_issue_on_the_virtual_clock(client):
    code = code_for(client, 7012, "soon@example.com")["data"]["code"]
    assert client.get(f"/validate/{MERCHANT}/{code}/1").json()["result"] == "success"
    client.app.runtime.clock.offset_by(2 * 3600)
    expired = client.get(f"/validate/{MERCHANT}/{code}/1").json()
    assert expired["errors"][0]["code"] == 301
    assert expired["errors"][0]["message"] == "This code has expired."


def test_sold_out_pool_answers_206(client):
    assert code_for(client, 7013, "first")["result"] == "success"
    body = code_for(client, 7013, "second")
    assert body["result"] == "failure" and body["data"] is None
    assert body["errors"][0]["code"] == 206
    assert body["errors"][0]["message"] == "This offer has now sold out."


def test_codes_per_customer(client):
    first = code_for(client, 7014, "twice@example.com")["data"]["code"]
    assert code_for(client, 7014, "twice@example.com")["data"]["code"] == first
    client.get(f"/redeem/{MERCHANT}/{first}/1?orderId=T1&orderValue=10")
    second = code_for(client, 7014, "twice@example.com")["data"]["code"]
    assert second != first
    client.get(f"/redeem/{MERCHANT}/{second}/1?orderId=T2&orderValue=10")
    # The customer has had their two codes: the last one again, no third.
    assert code_for(client, 7014, "twice@example.com")["data"]["code"] == second
