"""Each error of the catalogue, as a partner's integration receives it: in the envelope, with
the catalogue's number and HTTP status. Transport errors keep the envelope too."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from starlette.testclient import TestClient
from tests.mockapp import MERCHANT_KEY, mock_client

from uniqodo_mock.core.errors import default_catalogue
from uniqodo_mock.mock.app import create_app
from uniqodo_mock.mock.runtime import MockConfig

ERRORS_FIXTURES = Path(__file__).with_name("data") / "errors.yaml"
OTHER_MERCHANT = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
UNAUTHORISED_DISTRIBUTOR = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
CATALOGUE = default_catalogue()


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory):
    db = tmp_path_factory.mktemp("errors") / "state.db"
    with mock_client(f"sqlite:///{db}", ERRORS_FIXTURES) as client:
        yield client


def assert_error(response, key: str, *, status: int | None = None) -> dict:
    entry = CATALOGUE[key]
    assert response.status_code == (status or entry.http_status), response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"data", "errors", "result"}
    assert body["result"] == "failure"
    assert body["errors"][0]["code"] == entry.code, body
    assert body["errors"][0]["message"].startswith(entry.messages["en"])
    return body


@pytest.mark.parametrize(
    ("path", "key"),
    [
        (f"/validate/{MERCHANT_KEY}/NOPE/1", "unknown_code"),
        (f"/validate/{MERCHANT_KEY}/USED01/1", "already_redeemed"),
        (f"/validate/{MERCHANT_KEY}/EXPIRED01/1", "code_expired"),
        (f"/validate/{MERCHANT_KEY}/NOTSTARTED01/1", "promotion_not_started"),
        (f"/validate/{MERCHANT_KEY}/ENDED01/1", "promotion_ended"),
        (f"/validate/{MERCHANT_KEY}/PAUSED01/1", "promotion_paused"),
        (f"/validate/{MERCHANT_KEY}/SECURE01/1?email=mallory@example.com", "secure_email_mismatch"),
        (f"/validate/{MERCHANT_KEY}/OTHERSHOP01/1", "wrong_merchant"),
        (f"/redeem/{MERCHANT_KEY}/SECURE01/1?orderId=1&valKey=not-the-key", "invalid_val_key"),
        (f"/code/{MERCHANT_KEY}/14", "uid_required"),
        (f"/code/{MERCHANT_KEY}/999", "unknown_offer"),
        (f"/code/{UNAUTHORISED_DISTRIBUTOR}/10", "offer_not_authorised"),
        ("/code/0000000000000000000000000000000000000000/10", "unknown_api_key"),
        (f"/code/{OTHER_MERCHANT}/10", "wrong_key_kind"),
        (f"/validate/{UNAUTHORISED_DISTRIBUTOR}/USED01/1", "wrong_key_kind"),
        (f"/validate/{OTHER_MERCHANT}/USED01/1", "wrong_key_kind"),
        (f"/code/{MERCHANT_KEY}/not-a-number", "invalid_parameter"),
        (f"/redeem/{MERCHANT_KEY}/USED01/1", "invalid_parameter"),
        (f"/redeem/{MERCHANT_KEY}/USED01/1?orderId=1&orderValue=lots", "invalid_parameter"),
        ("/no/such/path", "not_found"),
    ],
)
def test_business_and_transport_errors(client, path: str, key: str) -> None:
    assert_error(client.get(path), key)


def test_sold_out_after_the_pool_is_empty(client) -> None:
    assert client.get(f"/code/{MERCHANT_KEY}/10?uid=first").json()["result"] == "success"
    body = assert_error(client.get(f"/code/{MERCHANT_KEY}/10?uid=second"), "sold_out")
    assert body["errors"][0]["message"] == "This offer has now sold out."


def test_malformed_parameter_is_named(client) -> None:
    body = assert_error(
        client.get(f"/redeem/{MERCHANT_KEY}/USED01/1?orderId=1&orderValue=lots"),
        "invalid_parameter",
    )
    assert "orderValue" in body["errors"][0]["message"]
    body = assert_error(client.get(f"/code/{MERCHANT_KEY}/x1"), "invalid_parameter")
    assert "offer_id" in body["errors"][0]["message"]


def test_wrong_method_is_405_with_allow(client) -> None:
    response = client.delete(f"/validate/{MERCHANT_KEY}/USED01/1")
    assert_error(response, "method_not_allowed")
    assert set(response.headers["allow"].replace(" ", "").split(",")) == {"GET", "HEAD", "POST"}


def test_unparsable_form_body_is_a_4xx_in_the_envelope(client) -> None:
    response = client.post(
        f"/validate/{MERCHANT_KEY}/USED01/1",
        content=b'{"json": true}',
        headers={"content-type": "application/json"},
    )
    assert_error(response, "unsupported_body", status=415)


def test_french_messages(client) -> None:
    body = client.get(f"/validate/{MERCHANT_KEY}/NOPE/1?locale=fr").json()
    assert body["errors"][0]["message"] == CATALOGUE["unknown_code"].messages["fr"]
    body = client.get(f"/validate/{MERCHANT_KEY}/NOPE/1?locale=en_GB").json()
    assert body["errors"][0]["message"] == "The code entered is not recognised."


def test_unexpected_failure_is_a_500_envelope(client, monkeypatch: pytest.MonkeyPatch) -> None:
    service = client.app_ref.runtime.service

    def broken(*_args, **_kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(service, "list_offers", broken)
    body = assert_error(client.get(f"/offers/{MERCHANT_KEY}/json"), "internal_error")
    assert "boom" not in str(body)


def test_fixture_errors_override_the_catalogue(tmp_path: Path) -> None:
    text = ERRORS_FIXTURES.read_text().replace(
        "settings: {timezone: Europe/London, seed: 7}",
        "settings: {timezone: Europe/London, seed: 7}\nerrors:\n  unknown_code: {code: 404, messages: {en: Nope.}}",
    )
    custom = tmp_path / "custom.yaml"
    custom.write_text(text)
    with mock_client(f"sqlite:///{tmp_path / 'db.sqlite'}", custom) as client:
        body = client.get(f"/validate/{MERCHANT_KEY}/NOPE/1").json()
    assert body["errors"][0]["code"] == 404 and body["errors"][0]["message"] == "Nope."


def test_a_refused_form_body_is_no_error_in_the_server_log(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # Answered 400 in the envelope and journaled: the client's mistake, not the server's.
    app = create_app(MockConfig(db_url=f"sqlite:///{tmp_path / 'state.db'}"))
    with caplog.at_level(logging.INFO), TestClient(app) as client:
        answer = client.post(
            "/validate/64a287ae534cf1bd58f45f3e23de9d433caec669/AB12E3GH/1",
            data={"isValidation": "AAA"},
        )
        assert answer.status_code == 400
        assert answer.json()["result"] == "failure"
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
    with caplog.at_level(logging.DEBUG), TestClient(app) as client:
        client.post(
            "/validate/64a287ae534cf1bd58f45f3e23de9d433caec669/AB12E3GH/1",
            data={"isValidation": "AAA"},
        )
    assert any("isValidation" in r.getMessage() for r in caplog.records)
    app.runtime.close()


def test_default_locale_of_the_fixtures_applies_when_a_request_names_none(tmp_path: Path) -> None:
    import yaml

    document = yaml.safe_load(ERRORS_FIXTURES.read_text())
    document["settings"]["default_locale"] = "fr"
    fixtures = tmp_path / "french.yaml"
    fixtures.write_text(yaml.safe_dump(document))
    french = CATALOGUE["unknown_code"].messages["fr"]
    with mock_client(f"sqlite:///{tmp_path / 'state.db'}", fixtures) as client:
        body = client.get(f"/validate/{MERCHANT_KEY}/NOPE/1").json()
        assert body["errors"][0]["message"] == french
        # a request that names its language still gets it
        body = client.get(f"/validate/{MERCHANT_KEY}/NOPE/1?locale=en").json()
        assert body["errors"][0]["message"] == CATALOGUE["unknown_code"].messages["en"]
        # errors rendered before any operation runs (a path that is no route) follow it too
        response = client.get("/no/such/route")
        assert response.status_code == 404
        message = response.json()["errors"][0]["message"]
        assert message.startswith(CATALOGUE["not_found"].messages["fr"])
