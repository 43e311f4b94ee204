"""Basket rules (UQL) and the validation lock, as a partner's integration sees them."""

from __future__ import annotations

import pytest
from tests.features_helpers import MERCHANT, MERCHANT2, features_app

from uniqodo_mock.fixtures import FixtureError, load_fixture_text


@pytest.fixture
def client(tmp_path):
    with features_app(f"sqlite:///{tmp_path / 'mock.db'}").test_client() as c:
        yield c


GOOD = "basketTotal=80&customerType=new&productId=A1;B2&price=40;20&quantity=1;2&itemSeparator=;"


def validate(client, code: str, query: str, key: str = MERCHANT, merchant: int = 1) -> dict:
    return client.get(f"/validate/{key}/{code}/{merchant}?{query}").json()


def test_basket_meeting_every_rule_validates(client):
    body = validate(client, "BASKET-0001", GOOD)
    assert body["result"] == "success" and body["errors"] == []
    assert body["data"]["code"] == "BASKET25"


@pytest.mark.parametrize(
    ("change", "locale", "message"),
    [
        ("basketTotal=20", "en_GB", "Spend at least £50 to use this code."),
        ("basketTotal=20", "fr", "Dépensez au moins 50 £ pour utiliser ce code."),
        ("customerType=returning", "en", "This code is for new customers only."),
        ("productId=A1&price=40&quantity=1", "en", "Add at least two items to your basket."),
        (
            "productId=A1;GIFTCARD",
            "fr",
            "Les cartes cadeaux ne peuvent pas être achetées avec ce code.",
        ),
    ],
)
def test_failed_rule_answers_its_own_message(client, change, locale, message):
    params = dict(part.split("=") for part in GOOD.split("&"))
    params.update(part.split("=") for part in change.split("&"))
    query = "&".join(f"{k}={v}" for k, v in params.items()) + f"&locale={locale}"
    body = validate(client, "BASKET-0001", query)
    assert body["result"] == "failure"
    error = body["errors"][0]
    assert error["code"] == 306
    assert error["promotion_specific_error"] == message


def test_missing_basket_data_fails_the_rule_not_the_server(client):
    body = validate(client, "BASKET-0001", "")
    assert body["errors"][0]["code"] == 306
    assert body["errors"][0]["promotion_specific_error"] == "Spend at least £50 to use this code."


def test_malformed_basket_total_is_a_clear_400(client):
    response = client.get(f"/validate/{MERCHANT}/BASKET-0001/1?basketTotal=lots")
    assert response.status_code == 400
    body = response.json()
    assert body["result"] == "failure" and body["errors"][0]["code"] == 330
    assert "basketTotal" in body["errors"][0]["message"]


def test_rule_that_does_not_parse_is_a_fixture_error():
    text = """
version: 1
merchants: [{id: 1, name: M}]
offers:
  - id: 9
    promotion_uuid: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
    merchant: 1
    description: d
    master_code: X
    start_date: "01-01-2020 00:00:00"
    end_date: "01-01-2030 00:00:00"
    config:
      basket_rules:
        - name: broken
          rule: "basketTotal >= "
"""
    with pytest.raises(FixtureError) as caught:
        load_fixture_text(text, "bad.yaml")
    message = str(caught.value)
    assert "bad.yaml:" in message and "offers[0] (id 9)" in message
    assert "basket rule 'broken' does not parse" in message


def test_lock_keeps_other_sessions_out_until_it_lapses(client):
    first = validate(client, "LOCK-0001", "journeyId=J1", key=MERCHANT2, merchant=2)
    assert first["result"] == "success"
    # The same session may re-validate.
    assert validate(client, "LOCK-0001", "journeyId=J1", MERCHANT2, 2)["result"] == "success"
    other = validate(client, "LOCK-0001", "journeyId=J2", MERCHANT2, 2)
    assert other["result"] == "failure" and other["errors"][0]["code"] == 309
    assert other["errors"][0]["message"].startswith("This code is being used in another session")
    # Another code of the same merchant is not locked.
    assert validate(client, "LOCK-0002", "journeyId=J2", MERCHANT2, 2)["result"] == "success"
    # The virtual clock moves past the 15 minutes: the lock has lapsed.
    client.app.runtime.clock.offset_by(16 * 60)
    assert validate(client, "LOCK-0001", "journeyId=J2", MERCHANT2, 2)["result"] == "success"
    assert validate(client, "LOCK-0001", "journeyId=J1", MERCHANT2, 2)["errors"][0]["code"] == 309


def test_lock_session_by_val_key_sent_back_as_pn(client):
    first = validate(client, "LOCK-0001", "", MERCHANT2, 2)
    val_key = first["data"]["val_key"]
    assert validate(client, "LOCK-0001", f"pn={val_key}", MERCHANT2, 2)["result"] == "success"
    stranger = validate(client, "LOCK-0001", "", MERCHANT2, 2)
    assert stranger["errors"][0]["code"] == 309


def test_repeat_codes_and_unlocked_merchants_never_lock(client):
    assert validate(client, "BASKET-0002", GOOD + "&journeyId=J1")["result"] == "success"
    assert validate(client, "BASKET-0002", GOOD + "&journeyId=J2")["result"] == "success"
