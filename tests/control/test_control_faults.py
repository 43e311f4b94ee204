"""Fault rules: POST/GET/DELETE /__admin/faults."""

from __future__ import annotations

import time

import httpx
import pytest

from uniqodo_mock.admin_client import AdminError
from uniqodo_mock.testing.mock import DISTRIBUTOR_KEY, MERCHANT_KEY, RunningMock

REDEEM = f"/redeem/{MERCHANT_KEY}/AB12E3GH/1?orderId=O-1&orderValue=40"
VALIDATE = f"/validate/{MERCHANT_KEY}/AB12E3GH/1"


def test_status_rule_answers_503_in_envelope_until_deleted(sqlite_mock: RunningMock) -> None:
    baseline = sqlite_mock.admin.faults.list()  # the fixtures' magic-code rules
    rule = sqlite_mock.admin.faults.add(path="/redeem/", status=503)
    response = sqlite_mock.get(REDEEM)
    assert response.status_code == 503
    body = response.json()
    assert body["result"] == "failure" and body["data"] is None
    assert body["errors"][0]["code"] == 341  # the catalogue's service_unavailable
    assert body["errors"][0]["reference"]
    # Other paths are untouched.
    assert sqlite_mock.get(VALIDATE).status_code == 200
    [listed] = [r for r in sqlite_mock.admin.faults.list() if r["id"] == rule["id"]]
    assert listed["applied"] == 1

    sqlite_mock.admin.faults.delete(rule["id"])
    assert sqlite_mock.admin.faults.list() == baseline
    response = sqlite_mock.get(REDEEM)
    assert response.status_code == 200 and response.json()["result"] == "success"


def test_latency_rule_delays_the_answer(sqlite_mock: RunningMock) -> None:
    sqlite_mock.admin.faults.add(operation="redeem_code", latency_ms=300)
    started = time.monotonic()
    response = sqlite_mock.get(REDEEM)
    # A lower bound: the answer cannot come sooner than the injected latency.
    assert time.monotonic() - started >= 0.3
    assert response.status_code == 200 and response.json()["result"] == "success"
    entry = sqlite_mock.admin.journal.list(operation="redeem_code", limit=1)[0]
    assert entry["fault"]["latency_ms"] == 300
    assert sqlite_mock.admin.faults.clear() >= 1
    assert sqlite_mock.admin.faults.list() == []


def test_rate_limit_gives_429_with_retry_after_on_the_n_plus_first_call(
    sqlite_mock: RunningMock,
) -> None:
    sqlite_mock.admin.faults.add(path="/validate/", rate_limit={"requests": 3, "per_seconds": 60})
    statuses = [sqlite_mock.get(VALIDATE).status_code for _ in range(3)]
    assert statuses == [200, 200, 200]
    limited = sqlite_mock.get(VALIDATE)
    assert limited.status_code == 429
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    assert limited.json()["result"] == "failure"
    assert limited.json()["errors"][0]["code"] == 340  # rate_limited


def test_error_code_rule_answers_a_catalogue_error_for_one_code(sqlite_mock: RunningMock) -> None:
    sqlite_mock.admin.faults.add(code="ab12e3gh", error_code="code_expired", count=1)
    body = sqlite_mock.get(VALIDATE).json()
    assert body["result"] == "failure" and body["errors"][0]["code"] == 301  # code_expired
    entry = sqlite_mock.admin.journal.list(code="AB12E3GH", limit=1)[0]
    assert entry["errors"][0]["key"] == "code_expired"
    # count=1: used up, the next call is normal.
    assert sqlite_mock.get(VALIDATE).json()["result"] == "success"
    assert all(r["code"] != "ab12e3gh" for r in sqlite_mock.admin.faults.list())


def test_drop_rule_closes_the_connection(sqlite_mock: RunningMock) -> None:
    sqlite_mock.admin.faults.add(path="/offers/", drop=True)
    with pytest.raises(httpx.TransportError):
        sqlite_mock.get(f"/offers/{DISTRIBUTOR_KEY}/json")
    entry = sqlite_mock.admin.journal.list(limit=1)[0]
    assert entry["fault"]["drop"] is True
    assert entry["status"] == 0 and entry["operation"] == "list_offers"


def test_seeded_probability_is_repeatable(sqlite_mock: RunningMock) -> None:
    def run() -> list[int]:
        sqlite_mock.admin.faults.clear()
        sqlite_mock.admin.faults.add(path="/validate/", status=500, probability=0.5, seed=7)
        return [sqlite_mock.get(VALIDATE).status_code for _ in range(12)]

    first, second = run(), run()
    assert first == second
    assert set(first) == {200, 500}


def test_ttl_and_bad_rules(sqlite_mock: RunningMock) -> None:
    rule = sqlite_mock.admin.faults.add(path="/redeem/", status=503, ttl_seconds=3600)
    assert 0 < rule["expires_in_seconds"] <= 3600
    for bad in (
        {"path": "/redeem/"},  # no effect
        {"status": 99},
        {"path": "redeem", "status": 503},
        {"error_code": "no_such_error"},
        {"rate_limit": {"requests": 2}},
        {"status": 503, "probability": 2},
        {"status": 503, "colour": "red"},
        {"target": "callbacks", "status": 503},
    ):
        with pytest.raises(AdminError) as caught:
            sqlite_mock.admin.faults.add(bad)
        assert caught.value.status == 400 and caught.value.problems
    with pytest.raises(AdminError) as caught:
        sqlite_mock.admin.faults.delete(999)
    assert caught.value.status == 404


def test_callback_rules_are_stored_and_offered_to_the_dispatcher(sqlite_mock: RunningMock) -> None:
    rule = sqlite_mock.admin.faults.add(target="callbacks", delay_ms=500, duplicate=True)
    assert rule["target"] == "callbacks"
    # Callback rules never touch API requests.
    assert sqlite_mock.get(VALIDATE).status_code == 200
    fault = sqlite_mock.app.runtime.controls.faults.fault_for_delivery(code="AB12E3GH")  # type: ignore[attr-defined]
    assert fault is not None and fault.delay_s == 0.5 and fault.duplicate and not fault.out_of_order
