"""Offer tags: ``tags:`` on an offer in fixtures (also through ``PUT /__admin/fixtures``), carried
on each of its redemptions; a fixture record keeps its own."""

from __future__ import annotations

import orjson
import pytest
from starlette.testclient import TestClient
from tests.mockapp import mock_client

from uniqodo_mock.fixtures import FixtureError, load_fixture_text

DOCUMENT = {
    "version": 1,
    "merchants": [{"id": 1, "name": "M", "keys": ["mkey"]}],
    "distributors": [{"id": 2, "name": "D", "keys": ["dkey"]}],
    "offers": [
        {
            "id": 10,
            "promotion_uuid": "0000000000000000000000000000000a",
            "merchant": 1,
            "description": "tagged",
            "master_code": "TAGGED",
            "start_date": "01-01-2020 00:00:00",
            "end_date": "31-12-2099 23:59:59",
            "tags": ["SUMMER_OFFER", "ONLINE"],
            "distributors": [2],
            "codes": [
                {"code": "NEW01", "issued_to": "u1"},
                {
                    "code": "OLD01",
                    "issued_to": "u2",
                    "redemptions": [{"order_id": "O-1", "order_value": 5}],
                },
                {
                    "code": "OWN01",
                    "issued_to": "u3",
                    "redemptions": [{"order_id": "O-2", "order_value": 5, "tags": ["LEGACY"]}],
                },
            ],
        },
        {
            "id": 11,
            "promotion_uuid": "0000000000000000000000000000000b",
            "merchant": 1,
            "description": "untagged",
            "master_code": "PLAIN",
            "start_date": "01-01-2020 00:00:00",
            "end_date": "31-12-2099 23:59:59",
            "codes": [{"code": "PLAIN01", "issued": True}],
        },
    ],
}


def _records(client: TestClient, promotion: str, user: str) -> list[dict[str, object]]:
    body = client.get(f"/publisher/dkey/query/user-redemption/{promotion}?userId={user}").json()
    records: list[dict[str, object]] = body["data"]["redemption"]["records"]
    return records


def test_tags_loaded_through_the_admin_api_are_carried_on_redemptions(db_url: str) -> None:
    with mock_client(db_url) as client:
        loaded = client.put("/__admin/fixtures", json=DOCUMENT)
        assert loaded.status_code == 200, loaded.text
        redeemed = client.get("/redeem/mkey/NEW01/1?orderId=A&orderValue=10").json()
        assert redeemed["errors"] == []
        assert redeemed["data"]["redemption"]["tags"] == ["SUMMER_OFFER", "ONLINE"]
        promotion = "0000000000000000000000000000000a"
        assert [r["tags"] for r in _records(client, promotion, "u1")] == [
            ["SUMMER_OFFER", "ONLINE"]
        ]
        # A fixture record without tags has the offer's; one with its own keeps them.
        assert [r["tags"] for r in _records(client, promotion, "u2")] == [
            ["SUMMER_OFFER", "ONLINE"]
        ]
        assert [r["tags"] for r in _records(client, promotion, "u3")] == [["LEGACY"]]
        plain = client.get("/redeem/mkey/PLAIN01/1?orderId=B&orderValue=10").json()
        assert plain["data"]["redemption"]["tags"] == []
        # The reset returns to the same document, tags and all.
        assert client.post("/__admin/reset").status_code == 200
        again = client.get("/redeem/mkey/NEW01/1?orderId=A&orderValue=10").json()
        assert again["data"]["redemption"]["tags"] == ["SUMMER_OFFER", "ONLINE"]


@pytest.mark.parametrize("tags", ["SUMMER", [1], [""]])
def test_tags_must_be_a_list_of_labels(tags: object) -> None:
    first: dict[str, object] = DOCUMENT["offers"][0]  # type: ignore[index]
    offers = [{**first, "tags": tags}]
    with pytest.raises(FixtureError) as caught:
        load_fixture_text(orjson.dumps({**DOCUMENT, "offers": offers}).decode(), "tags.json")
    assert "offers[0] (id 10)" in str(caught.value) and "tags" in str(caught.value)
