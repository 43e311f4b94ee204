"""Callback fault rules (``"target": "callbacks"``) over real HTTP: a delayed delivery, a
duplicated one (same delivery id twice), one held until a later one overtakes it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from tests.callback_helpers import FAST, deliveries, fields, issue, redeem

from uniqodo_mock.mock.runtime import MockConfig
from uniqodo_mock.receiver.settings import ReceiverSettings
from uniqodo_mock.testing import wait_until
from uniqodo_mock.testing.mock import running_mock
from uniqodo_mock.testing.receiver import running_receiver


@pytest.fixture
def wired(db_url: str, tmp_path: Path) -> Iterator[tuple[Any, Any]]:
    """(mock HTTP client, receiver client), every redemption posted to the receiver."""
    with ExitStack() as stack:
        receiver = stack.enter_context(
            running_receiver(ReceiverSettings(db_url=f"sqlite:///{tmp_path / 'calls.db'}"))
        )
        mock = stack.enter_context(running_mock(MockConfig(db_url=db_url, dispatch=FAST)))
        http = stack.enter_context(mock.client())
        calls = stack.enter_context(receiver.client())
        response = http.post("/__admin/callbacks", json={"url": f"{receiver.url}/hook"})
        assert response.status_code == 201, response.text
        yield http, calls


def _fault(http: Any, **rule: Any) -> dict[str, Any]:
    response = http.post("/__admin/faults", json={"target": "callbacks", **rule})
    assert response.status_code in (200, 201), response.text
    return response.json()


def _codes_in_arrival_order(calls: Any) -> list[str]:
    return [fields(call)["code"] for call in calls.iter_calls(after=0)]


def _delivery_id(call: dict[str, Any]) -> str:
    return next(v for k, v in call["headers"] if k.lower() == "x-uniqodo-delivery-id")


def test_delayed_delivery_is_overtaken_by_an_undelayed_one(wired) -> None:
    http, calls = wired
    rule = _fault(http, code="AB12E3GH", delay_ms=1500, count=1)
    redeem(http, "AB12E3GH", "slow-1")
    other = issue(http, 1234, "fast@example.com")
    redeem(http, other, "fast-1")
    wait_until(lambda: calls.count() == 2, what="both callbacks")
    assert _codes_in_arrival_order(calls) == [other, "AB12E3GH"]
    # count 1: used up by that one delivery, so the rule is gone.
    assert rule["id"] not in [r["id"] for r in http.get("/__admin/faults").json()["faults"]]
    wait_until(lambda: all(d["status"] == "delivered" for d in deliveries(http)), what="delivered")


def test_duplicate_delivery_sends_the_same_delivery_id_twice(wired) -> None:
    http, calls = wired
    _fault(http, code="AB12E3GH", duplicate=True)
    redeem(http, "AB12E3GH", "dup-1")
    wait_until(lambda: calls.count(param=["code:AB12E3GH"]) == 2, what="two deliveries")
    first, second = calls.iter_calls(after=0)
    assert fields(first) == fields(second)
    assert fields(first)["orderId"] == "dup-1"
    assert _delivery_id(first) == _delivery_id(second)
    # One delivery in the outbox, delivered once as far as its record goes.
    [delivery] = wait_until(
        lambda: [d for d in deliveries(http) if d["status"] == "delivered"], what="delivered"
    )
    assert delivery["delivery_id"] == _delivery_id(first)


def test_out_of_order_delivery_waits_for_a_later_one(wired) -> None:
    http, calls = wired
    # The hold limit is long: the later redemption, not the limit, must release it.
    _fault(http, code="AB12E3GH", out_of_order=True, delay_ms=60_000)
    redeem(http, "AB12E3GH", "first-1")
    later = issue(http, 1234, "later@example.com")
    redeem(http, later, "second-1")
    wait_until(lambda: calls.count() == 2, timeout=30, what="both callbacks")
    assert _codes_in_arrival_order(calls) == [later, "AB12E3GH"]


def test_out_of_order_delivery_goes_out_when_nothing_overtakes_it(wired) -> None:
    http, calls = wired
    _fault(http, code="AB12E3GH", out_of_order=True, delay_ms=200)
    redeem(http, "AB12E3GH", "alone-1")
    call = calls.wait(timeout=15, after=0, param=["code:AB12E3GH"])
    assert fields(call)["orderId"] == "alone-1"


def test_a_held_delivery_survives_a_stop_and_goes_out_after_restart(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'state.db'}"
    config = MockConfig(db_url=db, dispatch=FAST)
    with running_receiver(ReceiverSettings(db_url=f"sqlite:///{tmp_path / 'c.db'}")) as receiver:
        with running_mock(config) as mock, mock.client() as http:
            response = http.post("/__admin/callbacks", json={"url": f"{receiver.url}/hook"})
            assert response.status_code == 201, response.text
            # Ten minutes, once: the rule is in the database and outlives the restart, but its
            # one use went to this delivery's first attempt.
            _fault(http, code="AB12E3GH", delay_ms=600_000, count=1)
            redeem(http, "AB12E3GH", "held-1")
            dispatcher = mock.runtime.dispatcher
            assert dispatcher is not None
            wait_until(lambda: dispatcher.in_flight == 1, what="the delivery being held")
            mock.stop()  # must not wait out the hold
            assert not mock.thread.is_alive()
        # Restarted (the rule's one use is spent): the delivery was kept and goes out.
        with running_mock(MockConfig(db_url=db, dispatch=FAST)), receiver.client() as calls:
            call = calls.wait(timeout=15, after=0, param=["code:AB12E3GH"])
            assert fields(call)["orderId"] == "held-1"
