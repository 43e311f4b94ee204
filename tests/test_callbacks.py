"""Redemption callbacks end to end: a live mock delivers to a live receiver over real HTTP."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from callback_helpers import (
    FAST,
    deliveries,
    header,
    redeem,
)
from uniqodo_mock.mock.runtime import MockConfig
from uniqodo_mock.receiver.settings import ReceiverSettings
from uniqodo_mock.testing import wait_until
from uniqodo_mock.testing.mock import running_mock
from uniqodo_mock.testing.receiver import running_receiver


@pytest.fixture
def receiver(tmp_path: Path):
    with running_receiver(ReceiverSettings(db_url=f"sqlite:///{tmp_path / 'calls.db'}")) as r:
        yield r


def test_redemption_is_posted_to_the_receiver_as_a_form(db_url: str, receiver) -> None:
    config = MockConfig(db_url=db_url, receiver_url=f"{receiver.url}/callback", dispatch=FAST)
    with running_mock(config) as mock, mock.client() as http, receiver.client() as calls:
        data = redeem(http, "AB12E3GH", "145789")
        call = calls.wait(timeout=10, after=0, param="code:AB12E3GH")
        assert call["method"] == "POST" and call["path"] == "/callback"
        assert call["body_text"] == "code=AB12E3GH&orderId=145789"
        assert call["content_type"] == "application/x-www-form-urlencoded; charset=utf-8"
        assert header(call, "user-agent").startswith("uniqodo-mock-callbacks/")
        [delivery] = wait_until(
            lambda: [
                d
                for d in deliveries(http, redemption=data["redemption"]["id"])
                if d["status"] == "delivered"
            ],
            what="the delivery to be marked delivered",
        )
        assert header(call, "x-uniqodo-delivery-id") == delivery["delivery_id"]
        assert [a["outcome"] for a in delivery["attempts"]] == ["delivered"]
        assert delivery["attempts"][0]["status_code"] == 204


def test_runtime_get_subscription_sends_exactly_the_chosen_names(sqlite_url: str, receiver) -> None:
    with running_mock(MockConfig(db_url=sqlite_url, dispatch=FAST)) as mock, mock.client() as http:
        created = http.post(
            "/__admin/callbacks",
            json={
                "url": f"{receiver.url}/hook?token=abc",
                "method": "GET",
                "params": {"code": "voucher", "orderId": "order", "offerId": "campaign"},
                "headers": {"X-Partner": "acme"},
                "owner": {"merchant": 1},
            },
        )
        assert created.status_code == 201, created.text
        assert created.json()["origin"] == "runtime"
        assert http.get("/__admin/callbacks").json()["subscriptions"] == [created.json()]
        redeem(http, "AB12E3GH", "145789")
        with receiver.client() as calls:
            call = calls.wait(timeout=10, after=0, path="/hook")
        assert call["method"] == "GET"
        assert call["query"] == "token=abc&voucher=AB12E3GH&order=145789&campaign=4883"
        assert header(call, "x-partner") == "acme"


def test_json_mode_sends_typed_values(sqlite_url: str, receiver) -> None:
    with running_mock(MockConfig(db_url=sqlite_url, dispatch=FAST)) as mock, mock.client() as http:
        http.post(
            "/__admin/callbacks",
            json={
                "url": f"{receiver.url}/json",
                "method": "JSON",
                "params": {"code": "code", "offerId": "offer", "distributorId": "dist"},
            },
        ).raise_for_status()
        redeem(http, "AB12E3GH", "145789")
        with receiver.client() as calls:
            call = calls.wait(timeout=10, after=0, path="/json")
        assert call["content_type"] == "application/json"
        assert json.loads(call["body_text"]) == {"code": "AB12E3GH", "offer": 4883, "dist": None}


def test_deleted_subscription_gets_nothing_new(sqlite_url: str, receiver) -> None:
    with running_mock(MockConfig(db_url=sqlite_url, dispatch=FAST)) as mock, mock.client() as http:
        sub = http.post("/__admin/callbacks", json={"url": f"{receiver.url}/gone"}).json()
        assert http.delete(f"/__admin/callbacks/{sub['id']}").status_code == 204
        missing = http.delete(f"/__admin/callbacks/{sub['id']}")
        assert missing.status_code == 404
        assert missing.json()["result"] == "failure"
        redeem(http, "AB12E3GH", "145789")
        assert deliveries(http) == []


BAD_BODIES = [
    ({}, "url"),
    ({"url": "http://x/y", "method": "PUT"}, "method"),
    ({"url": "http://x/y", "params": {"colour": "c"}}, "colour"),
    ({"url": "ftp://x/y"}, "url"),
    ({"url": "http://x/y", "owner": {"merchant": 999}}, "owner.merchant"),
    ({"url": "http://x/y", "owner": {"distributor": 999}}, "owner.distributor"),
    ({"url": "http://x/y", "params": {"code": "a", "orderId": "a"}}, "params"),
    ({"url": "http://x/y", "headers": {"X-A": 1}}, "headers"),
]


def test_bad_subscription_bodies_are_refused_naming_the_field(sqlite_url: str) -> None:
    with running_mock(MockConfig(db_url=sqlite_url)) as mock, mock.client() as http:
        for body, named in BAD_BODIES:
            response = http.post("/__admin/callbacks", json=body)
            assert response.status_code == 400, (body, response.text)
            envelope = response.json()
            assert envelope["result"] == "failure" and envelope["data"] is None
            assert named in envelope["errors"][0]["message"], (body, envelope)
        assert http.get("/__admin/callbacks").json()["subscriptions"] == []
        not_json = http.post(
            "/__admin/callbacks", content=b"{oops", headers={"Content-Type": "application/json"}
        )
        assert not_json.status_code == 400 and not_json.json()["result"] == "failure"
