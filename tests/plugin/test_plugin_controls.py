"""The pytest plugin's test controls (``uniqodo_mock.clock``/``.faults``/``.journal``/
``.snapshot()``) and their per-test isolation."""

from __future__ import annotations

import httpx
import pytest

KEY = "64a287ae534cf1bd58f45f3e23de9d433caec669"

pytest_plugins = ["pytester"]


def test_controls_act_on_the_running_mock(uniqodo_mock) -> None:
    shown = uniqodo_mock.clock.freeze("2100-01-01T00:00:00Z")
    assert shown["frozen"] is True and shown["now"].startswith("2100-01-01")
    body = httpx.get(f"{uniqodo_mock.url}/validate/{KEY}/AB12E3GH/1").json()
    assert body["errors"][0]["code"] == 303  # promotion_ended

    rule = uniqodo_mock.faults.add(path="/redeem/", status=503)
    assert rule["id"] in [r["id"] for r in uniqodo_mock.faults.list()]
    redeem = f"{uniqodo_mock.url}/redeem/{KEY}/AB12E3GH/1?orderId=P-1&orderValue=20"
    assert httpx.get(redeem).status_code == 503

    [entry] = uniqodo_mock.journal.list(operation="validate_code")
    assert entry["code"] == "AB12E3GH"


def test_snapshot_and_restore(uniqodo_mock) -> None:
    saved = uniqodo_mock.snapshot()
    redeem = f"{uniqodo_mock.url}/redeem/{KEY}/AB12E3GH/1?orderId=P-2&orderValue=20"
    assert httpx.get(redeem).json()["result"] == "success"
    assert httpx.get(redeem).json()["result"] == "failure"  # used up
    uniqodo_mock.restore(saved)
    assert httpx.get(redeem).json()["result"] == "success"


def test_clock_and_faults_do_not_leak_into_the_next_test(pytester: pytest.Pytester) -> None:
    # Its own session so that the order is certain: the first test moves the clock, adds a
    # fault rule and leaves a journal entry; the second must see none of it.
    pytester.makepyfile(
        test_partner=f"""
import httpx
from datetime import UTC, datetime, timedelta

REDEEM = "/redeem/{KEY}/AB12E3GH/1?orderId=X-1&orderValue=20"

def test_a_changes_everything(uniqodo_mock):
    uniqodo_mock.clock.freeze("2100-01-01T00:00:00Z")
    uniqodo_mock.faults.add(path="/redeem/", status=503, description="leak?")
    assert httpx.get(uniqodo_mock.url + REDEEM).status_code == 503

def test_b_sees_real_time_and_no_faults(uniqodo_mock):
    clock = uniqodo_mock.clock.show()
    assert clock["real"] is True and clock["frozen"] is False
    now = datetime.fromisoformat(clock["now"])
    assert abs(now - datetime.now(UTC)) < timedelta(minutes=5)
    assert [r for r in uniqodo_mock.faults.list() if r.get("description") == "leak?"] == []
    assert uniqodo_mock.journal.list() == []
    assert httpx.get(uniqodo_mock.url + REDEEM).json()["result"] == "success"
"""
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:randomly")
    result.assert_outcomes(passed=2)
