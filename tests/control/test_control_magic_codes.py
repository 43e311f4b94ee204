"""The default fixtures' magic codes (docs/magic-codes.md): each always gets its answer."""

from __future__ import annotations

import time

import httpx
import pytest
import yaml

from uniqodo_mock.core.errors import default_catalogue
from uniqodo_mock.testing.mock import MERCHANT_KEY, RunningMock

MAGIC_PUBLISHER_KEY = "4444444444444444444444444444444444444444"
STATE_CODES = {
    # code: (vendor error number, catalogue key)
    "EXPIRED01": (301, "code_expired"),
    "REDEEMED01": (201, "already_redeemed"),
    "PAUSED01": (304, "promotion_paused"),
    "NOTSTARTED01": (302, "promotion_not_started"),
    "ENDED01": (303, "promotion_ended"),
    "WRONGMERCHANT01": (307, "wrong_merchant"),
}


def validate(mock: RunningMock, code: str, **kwargs: object) -> httpx.Response:
    return mock.get(f"/validate/{MERCHANT_KEY}/{code}/1", **kwargs)  # type: ignore[arg-type]


def test_state_codes_answer_their_error(sqlite_mock: RunningMock) -> None:
    for code, (number, key) in STATE_CODES.items():
        body = validate(sqlite_mock, code).json()
        assert [e["code"] for e in body["errors"]] == [number], code
        [entry] = sqlite_mock.admin.journal.list(code=code)
        assert entry["errors"][0]["key"] == key


def test_sold_out_offer_has_no_code_to_give(sqlite_mock: RunningMock) -> None:
    body = sqlite_mock.get(f"/code/{MAGIC_PUBLISHER_KEY}/9005?uid=QA-1").json()
    assert body["result"] == "failure"
    assert sqlite_mock.admin.journal.list(limit=1)[0]["errors"][0]["key"] == "sold_out"
    # The documented accounts' offer lists do not show the magic offers.
    from uniqodo_mock.testing.mock import DISTRIBUTOR_KEY

    offers = sqlite_mock.get(f"/offers/{DISTRIBUTOR_KEY}/json").json()["data"]["offers"]
    assert [offer["offer_id"] for offer in offers] == [1234]


def test_every_catalogue_error_has_an_err_code(sqlite_mock: RunningMock) -> None:
    for entry in default_catalogue():
        response = validate(sqlite_mock, f"ERR{entry.code}")
        assert response.status_code == entry.http_status, entry.key
        assert [e["code"] for e in response.json()["errors"]] == [entry.code], entry.key


def test_fault_codes(sqlite_mock: RunningMock) -> None:
    assert validate(sqlite_mock, "ERROR503").status_code == 503
    limited = validate(sqlite_mock, "RATELIMIT01")
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
    with pytest.raises(httpx.TransportError):
        validate(sqlite_mock, "DROP01")
    with pytest.raises(httpx.ReadTimeout):
        validate(sqlite_mock, "TIMEOUT01", timeout=1.0)
    started = time.monotonic()
    assert validate(sqlite_mock, "SLOW01").json()["result"] == "success"
    assert time.monotonic() - started >= 2.0  # lower bound: the injected latency


def test_magic_codes_survive_reset_and_are_documented(sqlite_mock: RunningMock) -> None:
    sqlite_mock.admin.faults.clear()
    assert validate(sqlite_mock, "ERROR503").status_code == 200
    sqlite_mock.admin.reset()
    assert validate(sqlite_mock, "ERROR503").status_code == 503
    from uniqodo_mock.fixtures import DEFAULT_FIXTURES

    doc = (DEFAULT_FIXTURES.parents[1] / "docs" / "magic-codes.md").read_text()
    data = yaml.safe_load(DEFAULT_FIXTURES.read_text())
    for rule in data["faults"]:
        assert f"`{rule['code']}`" in doc, rule["code"]
    for code in STATE_CODES:
        assert f"`{code}`" in doc, code


def test_feature_magic_codes_answer_their_error(mock: RunningMock) -> None:
    # Secure code bound to owner@example.com: no email or another email is 305.
    for params in ({}, {"email": "someone@example.com"}):
        body = validate(mock, "SECURE01", params=params).json()
        assert [e["code"] for e in body["errors"]] == [305], params
    assert validate(mock, "SECURE01", params={"email": "Owner@Example.com"}).json()["result"] == (
        "success"
    )

    # A basket rule no basket meets: 306 with the rule's own message.
    for params in ({}, {"basketTotal": "50"}):
        body = validate(mock, "BASKET01", params=params).json()
        assert [e["code"] for e in body["errors"]] == [306], params
        assert body["errors"][0]["promotion_specific_error"] == (
            "Spend at least £1,000,000 to use this code."
        )

    # Locked by another checkout session: 309 for any other session, success for that one.
    for params in ({}, {"journeyId": "my-checkout"}):
        body = validate(mock, "LOCKED01", params=params).json()
        assert [e["code"] for e in body["errors"]] == [309], params
    assert mock.admin.journal.list(code="LOCKED01")[0]["errors"][0]["key"] == "code_locked"
    owner = validate(mock, "LOCKED01", params={"journeyId": "another-checkout"}).json()
    assert owner["result"] == "success", owner

    # Redeem needs the valKey of a validation: none or a wrong one is 308.
    redeem = f"/redeem/{MERCHANT_KEY}/VALKEY01/1"
    for extra in ({}, {"valKey": "not-the-right-one"}):
        body = mock.get(redeem, params={"orderId": "V-1", "orderValue": "10", **extra}).json()
        assert [e["code"] for e in body["errors"]] == [308], extra
    val_key = validate(mock, "VALKEY01").json()["data"]["val_key"]
    done = mock.get(redeem, params={"orderId": "V-1", "orderValue": "10", "valKey": val_key})
    assert done.json()["result"] == "success", done.json()
