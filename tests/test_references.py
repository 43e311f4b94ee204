"""Error references: derived from the fixtures' seed and the request (the same state and the
same request sequence give the same bytes), or fixed by the fixtures for a code or an error,
or none at all."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient
from tests.mockapp import MERCHANT_KEY, PROMOTION, mock_client

from uniqodo_mock.fixtures import FixtureError, load_fixture_text

SEQUENCE = (
    f"/validate/{MERCHANT_KEY}/NOSUCHCODE/1",
    f"/validate/{MERCHANT_KEY}/AB12E3GH/1",
    f"/redeem/{MERCHANT_KEY}/AB12E3GH/1?orderId=A1&orderValue=10&p1=x",
    f"/redeem/{MERCHANT_KEY}/AB12E3GH/1?orderId=A1&orderValue=10&p1=x",
    f"/redeem/{MERCHANT_KEY}/AB12E3GH/1?orderId=A2&orderValue=10",
    f"/publisher/{MERCHANT_KEY}/query/user-redemption/{PROMOTION}?userId=nobody",
    f"/publisher/{MERCHANT_KEY}/query/user-redemption/{PROMOTION}?userId=somebody",
    f"/validate/{MERCHANT_KEY}/EXPIRED01/1",
)

FIXTURES = """
version: 1
settings: {seed: 7, clock: {now: "2030-01-01T12:00:00Z"}}
errors:
  already_redeemed: {reference: ""}
  code_expired: {reference: CATALOG1}
merchants: [{id: 1, name: M, keys: [mkey]}]
offers:
  - id: 1
    promotion_uuid: "00000000000000000000000000000001"
    merchant: 1
    description: one
    master_code: ONE
    start_date: "01-01-2020 00:00:00"
    end_date: "31-12-2099 23:59:59"
    codes:
      - {code: FIXED01, issued: true, reference: FIXEDREF, uses: 1}
      - {code: NONE01, issued: true, reference: null, expires_at: "01-01-2021 00:00:00"}
      - {code: EMPTY01, issued: true, reference: "", expires_at: "01-01-2021 00:00:00"}
      - {code: USED01, issued: true, uses: 1}
      - {code: OLD01, issued: true, expires_at: "01-01-2021 00:00:00"}
faults:
  - {code: FAULT01, error_code: code_expired}
"""


def _bodies(db_url: str) -> list[bytes]:
    with mock_client(db_url) as client:
        # The same state includes the same moment: redemptions record the clock's time.
        frozen = {"now": "2031-01-01T00:00:00Z", "frozen": True}
        assert client.put("/__admin/clock", json=frozen).status_code == 200
        return [client.get(url).content for url in SEQUENCE]


def test_same_sequence_on_fresh_state_gives_the_same_bytes(tmp_path: Path) -> None:
    first = _bodies(f"sqlite:///{tmp_path / 'one.db'}")
    second = _bodies(f"sqlite:///{tmp_path / 'two.db'}")
    assert first == second
    # The sequence met errors, and each carries a reference.
    assert first[0].count(b'"reference":"') == 1 and first[3].count(b'"reference":"') == 1


def test_different_requests_get_different_references(db_url: str) -> None:
    with mock_client(db_url) as client:
        references = {
            client.get(f"/validate/{MERCHANT_KEY}/NOSUCH{i}/1").json()["errors"][0]["reference"]
            for i in range(20)
        }
    assert len(references) == 20
    assert all(len(reference) == 8 and reference.isupper() for reference in references)


@pytest.fixture
def fixed(db_url: str, tmp_path: Path) -> Iterator[TestClient]:
    path = tmp_path / "refs.yaml"
    path.write_text(FIXTURES, encoding="utf-8")
    with mock_client(db_url, path) as client:
        yield client


def _error(client: TestClient, code: str) -> dict[str, object]:
    body = client.get(f"/validate/mkey/{code}/1").json()
    assert body["result"] == "failure"
    (error,) = body["errors"]
    return error


def test_a_codes_fixed_reference_wins(fixed: TestClient) -> None:
    # FIXED01 is used up (201), whose catalogue entry has no reference: the code's own wins.
    error = _error(fixed, "FIXED01")
    assert error["code"] == 201 and error["reference"] == "FIXEDREF"
    assert fixed.get("/redeem/mkey/FIXED01/1?orderId=9").json()["errors"][0]["reference"] == (
        "FIXEDREF"
    )


def test_no_reference_for_a_code_or_an_error(fixed: TestClient) -> None:
    # null and "" on the code: the error has no reference field at all.
    for code in ("NONE01", "EMPTY01"):
        error = _error(fixed, code)
        assert error["code"] == 301 and "reference" not in error, code
    # "" on the catalogue entry (already_redeemed): none either.
    assert "reference" not in _error(fixed, "USED01")


def test_a_catalogue_reference_and_a_derived_one(fixed: TestClient) -> None:
    assert _error(fixed, "OLD01")["reference"] == "CATALOG1"
    # An error no fixture gives a reference (unknown_code here): derived, the same each time.
    derived = _error(fixed, "NOSUCH01")["reference"]
    assert isinstance(derived, str) and len(derived) == 8 and derived != "FIXEDREF"
    assert _error(fixed, "NOSUCH01")["reference"] == derived


def test_a_fault_rules_answer_has_the_catalogue_reference_too(fixed: TestClient) -> None:
    error = _error(fixed, "FAULT01")
    assert error["code"] == 301 and error["reference"] == "CATALOG1"


def test_fixture_clock_is_checked() -> None:
    with pytest.raises(FixtureError) as caught:
        load_fixture_text(FIXTURES.replace("2030-01-01T12:00:00Z", "next tuesday"), "refs.yaml")
    assert "settings clock: now 'next tuesday' is not a date" in str(caught.value)
