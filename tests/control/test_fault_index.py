"""The fault book's code index gives the same answers as testing every rule in creation order."""

from __future__ import annotations

from uniqodo_mock.control.faults import FaultBook
from uniqodo_mock.testing import wait_until


def test_first_matching_rule_in_creation_order_across_coded_and_codeless_rules() -> None:
    book = FaultBook()
    slow_code = book.add({"code": "SLOW01", "latency_ms": 5})
    any_validate = book.add({"operation": "validate_code", "status": 503})
    error_code = book.add({"code": " slow01 ", "status": 500})
    # A coded rule created before a code-less one wins for its code...
    decision = book.decide("validate_code", "/validate/k/SLOW01/1", "slow01")
    assert decision is not None and decision.rule.id == slow_code.id
    # ... and the code-less rule wins for any other code.
    decision = book.decide("validate_code", "/validate/k/OTHER/1", "OTHER")
    assert decision is not None and decision.rule.id == any_validate.id
    # Codes match ignoring case and blanks; other operations skip the code-less rule.
    decision = book.decide("redeem_code", "/redeem/k/slow01/1", " SLOW01")
    assert decision is not None and decision.rule.id == slow_code.id
    assert book.decide("redeem_code", "/redeem/k/NONE/1", "NONE") is None
    assert book.decide("redeem_code", "/redeem/k/", None) is None
    # Deleting the first coded rule lets the later one with the same code answer.
    assert book.delete(slow_code.id)
    decision = book.decide("redeem_code", "/redeem/k/slow01/1", "SLOW01")
    assert decision is not None and decision.rule.id == error_code.id


def test_spent_and_expired_rules_stop_matching_and_leave_the_list() -> None:
    book = FaultBook()
    once = book.add({"code": "ONCE", "status": 503, "count": 1})
    short = book.add({"status": 500, "ttl_seconds": 0.05})
    assert book.decide("get_code", "/code/k/1", "ONCE").rule.id == once.id  # type: ignore[union-attr]
    # Spent: the code-less rule (still live) answers now.
    assert book.decide("get_code", "/code/k/1", "ONCE").rule.id == short.id  # type: ignore[union-attr]
    # Waiting for the rule's own ttl to run out, not for a race.
    wait_until(
        lambda: book.decide("get_code", "/code/k/1", "ONCE") is None, what="the ttl to run out"
    )
    assert book.list() == []


def test_callback_rules_are_not_api_rules() -> None:
    book = FaultBook()
    book.add({"target": "callbacks", "code": "CB", "delay_ms": 10})
    assert book.decide("redeem_code", "/redeem/k/CB/1", "CB") is None
    assert book.fault_for_delivery(code="CB") is not None
