"""The Reward API's claims, ``POST /v2/claims``: a code of a promotion for a customer, the same
code again for the same customer, keyed by the ``UQD-ACCESS-KEY`` header, answered in the
Reward API's own shapes (201 with the claim, ``{"message": ...}`` for every failure), on SQLite
and PostgreSQL, with the answer cache and the journal in the way."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from starlette.testclient import TestClient
from tests.mockapp import (
    CODE_API_KEY,
    MERCHANT_KEY,
    OTHER_MERCHANT_KEY,
    PROMOTION,
    REPO,
    mock_client,
)

CLAIMS = "/v2/claims"
# Promotion 1234's uuid: distributors 102 (MERCHANT_KEY) and 103 (CODE_API_KEY) promote it.
SHARED_PROMOTION = "5e0a3c1d9b7f4a2e8c6d1f0b3a5e7c9d"
SOLD_OUT_PROMOTION = "90050000000000000000000000000005"
SOLD_OUT_KEY = "4" * 40


def _claim(
    client: TestClient,
    customer: str,
    *,
    key: str | None = MERCHANT_KEY,
    promotion: str = PROMOTION,
    email: str = "customer@example.com",
) -> httpx.Response:
    headers = {"UQD-ACCESS-KEY": key} if key is not None else {}
    body = {"customer": {"id": customer, "email": email}, "promotionId": promotion}
    return client.post(CLAIMS, json=body, headers=headers)


def _iso(text: str) -> datetime:
    assert text.endswith("Z"), text
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_a_claim_is_201_with_the_code_and_the_promotions_end(db_url: str) -> None:
    with mock_client(db_url) as client:
        before = datetime.now(UTC) - timedelta(seconds=5)
        response = _claim(client, "customer-1")
        assert response.status_code == 201, response.text
        assert response.headers["content-type"] == "application/json"
        body = response.json()
        assert set(body) == {"claim", "customer", "promotion"}
        assert set(body["claim"]) == {"code", "createdAt"}
        assert body["customer"] == {"id": "customer-1"}
        assert body["promotion"] == {"id": PROMOTION, "endDate": "2099-12-31T23:59:59.000Z"}
        assert before <= _iso(body["claim"]["createdAt"]) <= datetime.now(UTC)
        code = body["claim"]["code"]
        assert len(code) == 8 and code.isalnum()
        # The Code API's own issuing: the same customer holds that code there too.
        issued = client.get(f"/code/{MERCHANT_KEY}/4883", params={"uid": "customer-1"}).json()
        assert issued["data"]["code"] == code


def test_the_same_customer_gets_the_same_code_and_others_their_own(db_url: str) -> None:
    with mock_client(db_url) as client:
        first = _claim(client, "alice").json()
        again = _claim(client, "alice", email="other@example.com").json()
        assert again == first  # the same code and the same createdAt
        bob = _claim(client, "bob").json()
        carol = _claim(client, "carol").json()
        codes = {first["claim"]["code"], bob["claim"]["code"], carol["claim"]["code"]}
        assert len(codes) == 3
        # A claim of another promotion is another code.
        other = _claim(client, "alice", promotion=SHARED_PROMOTION).json()
        assert other["claim"]["code"] not in codes
        assert other["promotion"]["id"] == SHARED_PROMOTION
        # The Code API issued the same pool: code_remaining counts the three claims.
        offers = client.get(f"/offers/{MERCHANT_KEY}/json").json()["data"]["offers"]
        remaining = {o["offer_id"]: o["code_remaining"] for o in offers}
        assert remaining[4883] == 1000 - 3


def test_the_promotion_id_ignores_case(db_url: str) -> None:
    with mock_client(db_url) as client:
        lower = _claim(client, "dave").json()
        upper = _claim(client, "dave", promotion=PROMOTION.upper())
        assert upper.status_code == 201
        assert upper.json()["claim"] == lower["claim"]


@pytest.mark.parametrize("key", [None, "", "no-such-key", "0" * 40])
def test_a_missing_or_unknown_key_is_401_unauthorized(sqlite_url: str, key: str | None) -> None:
    with mock_client(sqlite_url) as client:
        response = _claim(client, "eve", key=key)
        assert response.status_code == 401
        assert response.json() == {"message": "Unauthorized"}
        assert response.headers["content-type"] == "application/json"


@pytest.mark.parametrize(
    ("key", "promotion", "status", "message"),
    [
        # Distributor 103 promotes offer 1234, not 4883.
        (CODE_API_KEY, PROMOTION, 403, "Forbidden"),
        # A merchant's key.
        (OTHER_MERCHANT_KEY, PROMOTION, 403, "Forbidden"),
        ("64a287ae534cf1bd58f45f3e23de9d433caec669", "f" * 32, 404, "Promotion not found"),
        (SOLD_OUT_KEY, SOLD_OUT_PROMOTION, 409, "Promotion sold out"),
    ],
)
def test_a_key_that_may_not_claim_the_promotion(
    db_url: str, key: str, promotion: str, status: int, message: str
) -> None:
    with mock_client(db_url) as client:
        response = _claim(client, "frank", key=key, promotion=promotion)
        assert response.status_code == status
        assert response.json() == {"message": message}
        # The key authorised for it may: distributor 103 for the shared promotion.
        assert _claim(client, "frank", key=CODE_API_KEY, promotion=SHARED_PROMOTION).is_success


def test_a_promotion_past_its_end_is_422(sqlite_url: str) -> None:
    with mock_client(sqlite_url) as client:
        assert _claim(client, "grace").status_code == 201
        moved = client.put("/__admin/clock", json={"now": "2100-06-01T00:00:00Z", "frozen": True})
        assert moved.status_code == 200
        response = _claim(client, "grace")
        assert (response.status_code, response.json()) == (422, {"message": "Promotion not active"})


@pytest.mark.parametrize(
    ("content", "headers"),
    [
        (b"{not json", {"content-type": "application/json"}),
        (b'{"customer": {"id": "x"}}', {"content-type": "application/json"}),
        (
            b'{"customer": {"id": "x"}, "promotionId": "short"}',
            {"content-type": "application/json"},
        ),
        (
            b'{"customer": {}, "promotionId": "' + PROMOTION.encode() + b'"}',
            {"content-type": "application/json"},
        ),
        (b"[]", {"content-type": "application/json"}),
    ],
)
def test_a_body_that_is_not_a_claim_is_400_in_the_reward_shape(
    sqlite_url: str, content: bytes, headers: dict[str, str]
) -> None:
    with mock_client(sqlite_url) as client:
        response = client.post(
            CLAIMS, content=content, headers={"UQD-ACCESS-KEY": MERCHANT_KEY, **headers}
        )
        assert response.status_code == 400, response.text
        body = response.json()
        assert set(body) == {"message"} and body["message"].startswith("Bad Request")


def test_a_wrong_method_keeps_the_reward_shape(sqlite_url: str) -> None:
    with mock_client(sqlite_url) as client:
        response = client.get(CLAIMS, headers={"UQD-ACCESS-KEY": MERCHANT_KEY})
        assert response.status_code == 405
        assert response.json() == {"message": "Method Not Allowed"}
        assert response.headers["allow"] == "POST"


def test_kept_answers_never_cross_customers_keys_or_promotions(sqlite_url: str) -> None:
    """The answer cache keys on the body's fields and the header: a kept answer of one
    customer, key or promotion is never another's."""
    with mock_client(sqlite_url) as client:
        cache = client.app_ref.answers  # type: ignore[attr-defined]
        alice = _claim(client, "alice").json()
        assert _claim(client, "alice").json() == alice  # the customer's code, kept now
        hits = cache.hits
        assert _claim(client, "alice").json() == alice
        assert cache.hits == hits + 1
        bob = _claim(client, "bob")
        assert bob.status_code == 201 and bob.json()["claim"] != alice["claim"]
        assert _claim(client, "alice", key="unknown").status_code == 401
        assert _claim(client, "alice", key=CODE_API_KEY).status_code == 403
        shared = _claim(client, "alice", promotion=SHARED_PROMOTION).json()
        assert shared["claim"]["code"] != alice["claim"]["code"]


def test_the_journal_records_claims_with_their_key_and_customer(sqlite_url: str) -> None:
    with mock_client(sqlite_url) as client:
        code = _claim(client, "heidi", email="heidi@example.com").json()["claim"]["code"]
        assert _claim(client, "heidi", key=CODE_API_KEY).status_code == 403
        assert _claim(client, "heidi", key=None).status_code == 401
        journal = client.get("/__admin/journal", params={"operation": "create_claim"}).json()
        entries = sorted(journal["entries"], key=lambda e: e["id"])
        assert [e["status"] for e in entries] == [201, 403, 401]
        first, refused, keyless = entries
        assert first["path"] == CLAIMS and first["api_key"] == MERCHANT_KEY
        assert first["params"]["customer.email"] == "heidi@example.com"
        assert first["params"]["promotionId"] == PROMOTION
        assert first["errors"] == [] and code
        assert refused["api_key"] == CODE_API_KEY
        assert refused["errors"][0]["key"] == "offer_not_authorised"
        assert refused["errors"][0]["message"] == "Forbidden"
        assert keyless["api_key"] is None


def test_the_fixtures_choose_the_simulators_statuses(tmp_path: Path) -> None:
    document: dict[str, Any] = yaml.safe_load((REPO / "fixtures" / "default.yaml").read_text())
    document["settings"]["reward_errors"] = {
        "sold_out": {"status": 410, "message": "Gone"},
        "unknown_api_key": {"message": "Invalid access key"},
    }
    fixtures = tmp_path / "fixtures.yaml"
    fixtures.write_text(yaml.safe_dump(document))
    with mock_client(f"sqlite:///{tmp_path / 'mock.db'}", fixtures) as client:
        sold_out = _claim(client, "ivan", key=SOLD_OUT_KEY, promotion=SOLD_OUT_PROMOTION)
        assert (sold_out.status_code, sold_out.json()) == (410, {"message": "Gone"})
        for key in ("unknown", None):
            refused = _claim(client, "ivan", key=key)
            assert (refused.status_code, refused.json()) == (401, {"message": "Invalid access key"})


def test_the_served_spec_names_the_mock_first_for_the_reward_api(sqlite_url: str) -> None:
    with mock_client(sqlite_url) as client:
        spec = client.get("/openapi.json").json()
        servers = spec["paths"][CLAIMS]["servers"]
        assert servers[0] == {"url": "http://testserver", "description": "this mock"}
        assert [server["url"] for server in servers[1:]] == ["https://reward.uniqodo.io"]
        # The document's own servers too: the mock first, the live platform after.
        assert spec["servers"][0]["url"] == "http://testserver"


def test_a_page_of_another_origin_may_claim(sqlite_url: str) -> None:
    """The browser's preflight for a JSON POST with the key header is answered, and the
    answer carries the CORS header the page needs to read it."""
    origin = {"Origin": "http://localhost:3000"}
    with mock_client(sqlite_url) as client:
        preflight = client.options(
            CLAIMS,
            headers={
                **origin,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type, uqd-access-key",
            },
        )
        assert preflight.status_code == 200
        allowed = preflight.headers["access-control-allow-headers"].lower()
        assert "uqd-access-key" in allowed and "content-type" in allowed
        body = {"customer": {"id": "judy"}, "promotionId": PROMOTION}
        answer = client.post(CLAIMS, json=body, headers={**origin, "UQD-ACCESS-KEY": MERCHANT_KEY})
        assert answer.status_code == 201
        assert answer.headers["access-control-allow-origin"] in ("*", origin["Origin"])


def test_fault_rules_answer_claims_in_the_reward_shape(sqlite_url: str) -> None:
    with mock_client(sqlite_url) as client:
        added = client.post("/__admin/faults", json={"operation": "create_claim", "status": 503})
        assert added.status_code == 201
        response = _claim(client, "mallory")
        assert response.status_code == 503
        assert response.json() == {"message": "Service Unavailable"}
        # Other operations are not touched by the rule.
        assert client.get(f"/code/{MERCHANT_KEY}/4883", params={"uid": "m"}).status_code == 200


def test_a_body_too_large_keeps_the_reward_shape(sqlite_url: str) -> None:
    with mock_client(sqlite_url) as client:
        padding = "x" * (2 * 1_048_576)
        body = {"customer": {"id": "oscar", "email": padding}, "promotionId": PROMOTION}
        response = client.post(CLAIMS, json=body, headers={"UQD-ACCESS-KEY": MERCHANT_KEY})
        assert response.status_code == 413
        assert set(response.json()) == {"message"}
        assert response.json()["message"].startswith("Payload Too Large: ")


def test_a_form_body_is_415_in_the_reward_shape(sqlite_url: str) -> None:
    with mock_client(sqlite_url) as client:
        response = client.post(
            CLAIMS,
            content=b"promotionId=" + PROMOTION.encode(),
            headers={
                "UQD-ACCESS-KEY": MERCHANT_KEY,
                "content-type": "application/x-www-form-urlencoded",
            },
        )
        assert response.status_code == 415
        assert response.json()["message"].startswith("Unsupported Media Type: ")
