"""The callback conformance verdict, read from the callback declared in openapi/uniqodo.yaml."""

from __future__ import annotations

from urllib.parse import parse_qsl

import pytest

from uniqodo_mock.receiver.conformance import contract_from_spec, judge
from uniqodo_mock.receiver.model import Param
from uniqodo_mock.specs import load_spec

GOOD = {
    "id": "126478",
    "offerId": "1256",
    "merchantId": "56",
    "distributorId": "23",
    "code": "XY23T4DF",
    "orderValue": "219.99",
    "orderId": "ABC123456",
    "currency": "USD",
    "redeemedAt": "2015-05-29T10:39:17+0000",
}
FORM = "application/x-www-form-urlencoded"


@pytest.fixture(scope="module")
def contract():  # type: ignore[no-untyped-def]
    return contract_from_spec(load_spec("uniqodo.yaml"))


def _form(items: dict[str, str], source: str = "form") -> list[Param]:
    return [Param(source, k, v) for k, v in items.items()]


def test_spec_declares_post_form_and_get(contract) -> None:  # type: ignore[no-untyped-def]
    assert FORM in contract.methods["POST"]
    assert "GET" in contract.methods
    assert set(GOOD) <= set(contract.items)


def test_full_form_post_conforms(contract) -> None:  # type: ignore[no-untyped-def]
    verdict = judge(contract, method="POST", content_type=FORM, headers=[], params=_form(GOOD))
    assert verdict.looks_like_callback and verdict.conforms and not verdict.problems


def test_get_with_query_items_conforms(contract) -> None:  # type: ignore[no-untyped-def]
    params = _form({"code": "XY23T4DF", "orderId": "A1"}, "query")
    assert judge(contract, method="GET", content_type=None, headers=[], params=params).conforms


def test_docs_example_subset_conforms(contract) -> None:  # type: ignore[no-untyped-def]
    params = _form(dict(parse_qsl("code=45THD2L34K&orderId=447518457")))
    assert judge(contract, method="POST", content_type=FORM, headers=[], params=params).conforms


def test_renamed_items_are_allowed(contract) -> None:  # type: ignore[no-untyped-def]
    params = _form({"code": "XY23T4DF", "voucher_order": "X"})
    assert judge(contract, method="POST", content_type=FORM, headers=[], params=params).conforms


def test_each_violation_is_reported_in_words(contract) -> None:  # type: ignore[no-untyped-def]
    bad = {**GOOD, "orderValue": "abc", "id": "12.5", "redeemedAt": "2015-05-29 10:39", "code": ""}
    verdict = judge(contract, method="POST", content_type=FORM, headers=[], params=_form(bad))
    assert verdict.conforms is False
    assert "orderValue 'abc' is not a number" in verdict.problems
    assert "id '12.5' is not an integer" in verdict.problems
    assert "code is empty" in verdict.problems
    assert any(
        p.startswith("redeemedAt '2015-05-29 10:39' does not match") for p in verdict.problems
    )


def test_json_body_is_not_the_declared_content_type(contract) -> None:  # type: ignore[no-untyped-def]
    verdict = judge(
        contract,
        method="POST",
        content_type="application/json",
        headers=[],
        params=_form({"code": "X"}, "json"),
    )
    assert verdict.conforms is False
    assert any("content type 'application/json'" in p for p in verdict.problems)


def test_undeclared_method(contract) -> None:  # type: ignore[no-untyped-def]
    verdict = judge(contract, method="PUT", content_type=FORM, headers=[], params=_form(GOOD))
    assert verdict.conforms is False
    assert any("method PUT is not declared" in p for p in verdict.problems)


def test_delivery_header_without_items(contract) -> None:  # type: ignore[no-untyped-def]
    verdict = judge(
        contract,
        method="POST",
        content_type=FORM,
        headers=[("X-Uniqodo-Delivery-Id", "d1")],
        params=[],
    )
    assert verdict.looks_like_callback and verdict.conforms is False
    assert any("none of the callback items" in p for p in verdict.problems)


def test_unrelated_call_is_not_judged(contract) -> None:  # type: ignore[no-untyped-def]
    verdict = judge(
        contract, method="POST", content_type=FORM, headers=[], params=_form({"hello": "world"})
    )
    assert verdict.looks_like_callback is False and verdict.conforms is None


def test_the_checker_reads_the_spec_not_a_copy() -> None:
    spec = load_spec("uniqodo.yaml")
    import copy

    changed = copy.deepcopy(spec)
    changed["components"]["schemas"]["RedemptionCallbackItems"]["properties"]["currency"] = {
        "type": "string",
        "enum": ["GBP"],
    }
    verdict = judge(
        contract_from_spec(changed),
        method="POST",
        content_type=FORM,
        headers=[],
        params=_form({"currency": "USD"}),
    )
    assert verdict.problems == ("currency 'USD' is not one of GBP",)
