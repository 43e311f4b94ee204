"""Callback body templates end to end: a partner's receiver that takes exactly its own JSON shape
(and answers 400 to anything else) accepts the mock's first delivery, over real HTTP."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from callback_helpers import FAST, deliveries, fixture_with, issue, redeem
from uniqodo_mock.fixtures import FixtureError, load_fixture_file
from uniqodo_mock.mock.runtime import MockConfig
from uniqodo_mock.testing import subscribe_callbacks, wait_until
from uniqodo_mock.testing.mock import running_mock

API_KEY = "partner-secret"
# The partner's shape: these keys and no others, every value a string.
PARTNER_BODY = {
    "code": "{code}",
    "offer_id": "{offerId}",
    "order_value": "{orderValue}",
    "currency": "{currency}",
    "redeemed_at": "{redeemedAt}",
    "member_id": "{distributorId}",
    "merchant_id": "{merchantId}",
}
_FORMATS = {
    "code": r"[A-Z0-9]+",
    "offer_id": r"[0-9]+",
    "order_value": r"[0-9]+\.[0-9]{2}",
    "currency": r"[A-Z]{3}",
    "redeemed_at": r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+0000",
    "member_id": r"[0-9]+",
    "merchant_id": r"[0-9]+",
}


def partner_shape(body: object) -> str | None:
    """Why the partner would refuse ``body`` (None: accepted)."""
    if not isinstance(body, dict) or set(body) != set(_FORMATS):
        return f"keys must be exactly {sorted(_FORMATS)}"
    for key, pattern in _FORMATS.items():
        value = body[key]
        if not isinstance(value, str) or not re.fullmatch(pattern, value):
            return f"{key} must be a string matching {pattern}, not {value!r}"
    return None


@dataclass
class StrictReceiver:
    """A partner's endpoint: POST /partner, JSON, ``x-api-key``, a body ``judge`` accepts."""

    judge: Callable[[object], str | None]
    url: str = ""
    accepted: list[dict[str, Any]] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)

    def verdict(self, handler: BaseHTTPRequestHandler) -> str | None:
        if handler.path != "/partner":
            return f"no such path {handler.path}"
        if handler.headers.get("x-api-key") != API_KEY:
            return "x-api-key missing or wrong"
        if handler.headers.get("content-type") != "application/json":
            return f"content type {handler.headers.get('content-type')!r} is not JSON"
        raw = handler.rfile.read(int(handler.headers.get("content-length") or 0))
        try:
            body = json.loads(raw)
        except ValueError:
            return "not JSON"
        problem = self.judge(body)
        if problem is None:
            self.accepted.append(body)
        return problem


@contextmanager
def strict_receiver(judge: Callable[[object], str | None]) -> Iterator[StrictReceiver]:
    receiver = StrictReceiver(judge)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            problem = receiver.verdict(self)
            if problem is not None:
                receiver.refused.append(problem)
            self.send_response(400 if problem else 204)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_GET(self) -> None:
            receiver.refused.append(f"GET {self.path}")
            self.send_response(400)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/partner"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _delivered(http: Any, subscription_id: int) -> list[dict[str, Any]]:
    return [d for d in deliveries(http, subscription=subscription_id) if d["status"] == "delivered"]


def _attempted(http: Any, subscription_id: int) -> list[dict[str, Any]]:
    return [d for d in deliveries(http, subscription=subscription_id) if d["attempts"]]


def _subscribe(http: Any, body: dict[str, Any]) -> dict[str, Any]:
    created = http.post("/__admin/callbacks", json=body)
    assert created.status_code == 201, created.text
    return created.json()


def test_the_partner_receiver_accepts_the_first_delivery_of_its_string_shape(
    db_url: str,
) -> None:
    with (
        strict_receiver(partner_shape) as partner,
        running_mock(MockConfig(db_url=db_url, dispatch=FAST)) as mock,
        mock.client() as http,
    ):
        sub = _subscribe(
            http,
            {
                "url": partner.url,
                "method": "JSON",
                "headers": {"x-api-key": API_KEY},
                "body": PARTNER_BODY,
            },
        )
        assert sub["body"] == PARTNER_BODY and sub["params"] is None
        # Issued by distributor 102, so the redemption has a member (distributor) id.
        code = issue(http, 4883, "shopper-1")
        data = redeem(http, code, "ABC123456", orderValue="219.99", currency="USD")
        [delivery] = wait_until(
            lambda: _delivered(http, sub["id"]), what="the partner to accept the callback"
        )
        # Accepted at the first attempt: the partner refused nothing.
        assert [a["status_code"] for a in delivery["attempts"]] == [204]
        assert partner.refused == []
        redemption = data["redemption"]
        [body] = partner.accepted
        redeemed_at = datetime.strptime(body.pop("redeemed_at"), "%Y-%m-%dT%H:%M:%S%z")
        assert redeemed_at == datetime.strptime(redemption["redeemed_at"], "%Y-%m-%dT%H:%M:%S%z")
        assert body == {
            "code": code,
            "offer_id": "4883",
            "order_value": "219.99",
            "currency": "USD",
            "member_id": "102",
            "merchant_id": "1",
        }


def test_the_partner_receiver_refuses_the_typed_json_of_params(sqlite_url: str) -> None:
    # The control: the same receiver does refuse what the mock sent before templates existed.
    with (
        strict_receiver(partner_shape) as partner,
        running_mock(MockConfig(db_url=sqlite_url, dispatch=FAST)) as mock,
        mock.client() as http,
    ):
        params = {
            "code": "code",
            "offerId": "offer_id",
            "orderValue": "order_value",
            "currency": "currency",
            "redeemedAt": "redeemed_at",
            "distributorId": "member_id",
            "merchantId": "merchant_id",
        }
        sub = _subscribe(
            http,
            {
                "url": partner.url,
                "method": "JSON",
                "headers": {"x-api-key": API_KEY},
                "params": params,
            },
        )
        redeem(http, issue(http, 4883, "shopper-2"), "ABC123456", orderValue="219.99")
        [delivery] = wait_until(lambda: _attempted(http, sub["id"]), what="a first attempt")
        assert delivery["attempts"][0]["status_code"] == 400
        assert delivery["status"] == "pending"
        assert partner.accepted == []
        assert partner.refused[0] == "offer_id must be a string matching [0-9]+, not 4883"


NESTED_BODY = {
    "source": "uniqodo-mock",
    "schema": 2,
    "test": True,
    "order": {
        "id": "{orderId}",
        "total": "{orderValue:number}",
        "total_text": "{orderValue} {currency}",
        "lines": [{"code": "{code}", "note": "{{not a placeholder}}"}],
    },
    "member": {"id": "{distributorId:number}", "label": "member {distributorId}"},
}


def nested_shape(code: str) -> Callable[[object], str | None]:
    expected = {
        "source": "uniqodo-mock",
        "schema": 2,
        "test": True,
        "order": {
            "id": "ORDER-77",
            "total": 45.5,
            "total_text": "45.50 GBP",
            "lines": [{"code": code, "note": "{not a placeholder}"}],
        },
        "member": {"id": 102, "label": "member 102"},
    }

    def judge(body: object) -> str | None:
        return None if body == expected else f"expected {expected!r}, got {body!r}"

    return judge


def test_a_nested_template_with_constants_and_numbers_arrives_exactly(sqlite_url: str) -> None:
    with running_mock(MockConfig(db_url=sqlite_url, dispatch=FAST)) as mock, mock.client() as http:
        code = issue(http, 4883, "shopper-3")
        with strict_receiver(nested_shape(code)) as partner:
            # Through the harness helper, as a partner's test suite would subscribe.
            sub = subscribe_callbacks(
                mock, partner.url, headers={"x-api-key": API_KEY}, body=NESTED_BODY
            )
            assert sub["method"] == "JSON" and sub["body"] == NESTED_BODY
            redeem(http, code, "ORDER-77", orderValue="45.50", currency="GBP")
            [delivery] = wait_until(lambda: _delivered(http, sub["id"]), what="acceptance")
            assert [a["status_code"] for a in delivery["attempts"]] == [204]
            assert partner.refused == [] and len(partner.accepted) == 1


def test_a_fixture_subscription_sends_its_template(sqlite_url: str, tmp_path: Path) -> None:
    with strict_receiver(partner_shape) as partner:

        def subscribe(data: dict[str, Any]) -> None:
            data["subscriptions"] = [
                {
                    "url": partner.url,
                    "method": "JSON",
                    "headers": {"x-api-key": API_KEY},
                    "body": PARTNER_BODY,
                    "owner": {"merchant": 1},
                }
            ]

        config = MockConfig(
            db_url=sqlite_url, fixtures=fixture_with(tmp_path, subscribe), dispatch=FAST
        )
        with running_mock(config) as mock, mock.client() as http:
            [sub] = http.get("/__admin/callbacks").json()["subscriptions"]
            assert sub["origin"] == "fixture" and sub["body"] == PARTNER_BODY
            redeem(http, issue(http, 4883, "shopper-4"), "F-1", orderValue="10", currency="GBP")
            [delivery] = wait_until(lambda: _delivered(http, sub["id"]), what="acceptance")
            assert [a["status_code"] for a in delivery["attempts"]] == [204]
            [body] = partner.accepted
            assert body["order_value"] == "10.00" and body["member_id"] == "102"


def _nested(depth: int) -> dict[str, Any]:
    body: dict[str, Any] = {"code": "{code}"}
    for _ in range(depth):
        body = {"a": body}
    return body


BAD_TEMPLATES = [
    ({"method": "JSON", "body": {"code": "{voucher}"}}, "body.code: unknown placeholder {voucher}"),
    ({"method": "JSON", "body": {"a": {"b": ["{x}"]}}}, "body.a.b[0]: unknown placeholder {x}"),
    ({"method": "JSON", "body": {"a": "50% {"}}, "write '{{' for a literal brace"),
    ({"method": "JSON", "body": {"a": "{code:number}"}}, "body.a: {code:number}: code is not"),
    ({"method": "POST", "body": {"code": "{code}"}}, "body: a body template is sent as JSON"),
    ({"body": {"code": "{code}"}}, "give method JSON, not POST"),
    (
        {"method": "JSON", "body": {"code": "{code}"}, "params": {"code": "code"}},
        "params and body exclude each other",
    ),
    ({"method": "JSON", "body": ["{code}"]}, "body"),
    ({"method": "JSON", "body": _nested(40)}, "nested deeper than 32 levels"),
]


@pytest.mark.parametrize(("extra", "says"), BAD_TEMPLATES)
def test_bad_templates_are_refused_in_the_envelope_naming_the_place(
    sqlite_url: str, extra: dict[str, Any], says: str
) -> None:
    with running_mock(MockConfig(db_url=sqlite_url)) as mock, mock.client() as http:
        response = http.post("/__admin/callbacks", json={"url": "http://x/y", **extra})
        assert response.status_code == 400, response.text
        envelope = response.json()
        assert envelope["result"] == "failure" and envelope["data"] is None
        assert says in envelope["errors"][0]["message"], envelope
        assert http.get("/__admin/callbacks").json()["subscriptions"] == []


def test_a_bad_fixture_template_names_the_file_and_line(tmp_path: Path) -> None:
    def subscribe(data: dict[str, Any]) -> None:
        data["subscriptions"] = [
            {"url": "http://x/y", "method": "JSON", "body": {"ok": "{code}", "bad": "{colour}"}},
            {"url": "http://x/z", "body": {"code": "{code}"}},
        ]

    path = fixture_with(tmp_path, subscribe)
    with pytest.raises(FixtureError) as caught:
        load_fixture_file(path)
    lines = path.read_text().splitlines()
    problems = {str(p) for p in caught.value.problems}
    bad_line = next(i for i, line in enumerate(lines, 1) if "{colour}" in line)
    method_line = next(i for i, line in enumerate(lines, 1) if "http://x/z" in line)
    assert any(
        p.startswith(f"{path}:{bad_line}: ") and "body.bad: unknown placeholder {colour}" in p
        for p in problems
    ), problems
    assert any(
        p.startswith(f"{path}:{method_line}: ") and "give method: JSON" in p for p in problems
    ), problems
