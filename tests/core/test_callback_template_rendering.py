"""Callback body templates, the pure part: checking a template and rendering it for a redemption."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from uniqodo_mock.core.callbacks import (
    CALLBACK_ITEMS,
    MAX_TEMPLATE_DEPTH,
    Subscription,
    payload_for,
    render_template,
    template_problems,
)

ITEMS: dict[str, Any] = {
    "id": 126478,
    "offerId": 1256,
    "merchantId": 56,
    "distributorId": 23,
    "code": "XY23T4DF",
    "orderValue": 219.99,
    "orderId": "ABC123456",
    "currency": "USD",
    "redeemedAt": "2015-05-29T10:39:17+0000",
}


def test_placeholders_in_strings_at_any_depth_are_replaced_as_text() -> None:
    template = {
        "code": "{code}",
        "order": {"id": "{orderId}", "lines": [{"ref": "order {orderId} of {merchantId}"}]},
        "ids": ["{id}", "{offerId}"],
    }
    assert template_problems(template) == []
    assert render_template(template, ITEMS) == {
        "code": "XY23T4DF",
        "order": {"id": "ABC123456", "lines": [{"ref": "order ABC123456 of 56"}]},
        "ids": ["126478", "1256"],
    }


def test_every_item_renders_as_text_the_way_a_form_sends_it() -> None:
    template = {name: f"{{{name}}}" for name in CALLBACK_ITEMS}
    rendered = render_template(template, {**ITEMS, "orderValue": 45.0})
    assert rendered == {
        "id": "126478",
        "offerId": "1256",
        "merchantId": "56",
        "distributorId": "23",
        "code": "XY23T4DF",
        "orderValue": "45.00",
        "orderId": "ABC123456",
        "currency": "USD",
        "redeemedAt": "2015-05-29T10:39:17+0000",
    }


def test_constants_keys_and_non_string_values_are_kept_as_written() -> None:
    template = {
        "source": "uniqodo",
        "version": 2,
        "live": False,
        "ratio": 0.5,
        "nothing": None,
        "{code}": "key is not a placeholder",
        "empty": {},
        "list": [1, "two", None],
    }
    assert template_problems(template) == []
    assert render_template(template, ITEMS) == template


@pytest.mark.parametrize(
    ("item", "value", "sent"),
    [
        ("orderValue", 219.99, 219.99),
        ("orderValue", 45.0, 45.0),
        ("id", 126478, 126478),
        ("distributorId", None, None),
    ],
    ids=["decimal", "whole-amount", "integer", "missing"],
)
def test_a_whole_number_placeholder_becomes_a_json_number(
    item: str, value: object, sent: object
) -> None:
    rendered = render_template({"n": f"{{{item}:number}}"}, {**ITEMS, item: value})
    assert rendered == {"n": sent}
    assert type(rendered["n"]) is type(sent)  # type: ignore[index]


@pytest.mark.parametrize(("amount", "text"), [(219.99, "219.99"), (45.0, "45.00"), (12.5, "12.50")])
def test_an_amount_as_text_has_two_decimals(amount: float, text: str) -> None:
    assert render_template({"v": "{orderValue}"}, {**ITEMS, "orderValue": amount}) == {"v": text}


def test_a_missing_value_is_an_empty_string_as_text() -> None:
    rendered = render_template(
        {"member": "{distributorId}", "m": "m-{distributorId}"}, ITEMS | {"distributorId": None}
    )
    assert rendered == {"member": "", "m": "m-"}


def test_doubled_braces_are_literal_braces() -> None:
    template = {
        "a": "{{code}}",
        "b": "{{{code}}}",
        "c": "}}{{",
        "d": "{{orderValue:number}}",
        "e": "plain text",
    }
    assert template_problems(template) == []
    assert render_template(template, ITEMS) == {
        "a": "{code}",
        "b": "{XY23T4DF}",
        "c": "}{",
        "d": "{orderValue:number}",
        "e": "plain text",
    }


@pytest.mark.parametrize(
    ("template", "where", "says"),
    [
        ({"a": "{orderid}"}, "body.a", "unknown placeholder {orderid}"),
        ({"a": {"b": ["ok", "{colour}"]}}, "body.a.b[1]", "'colour' is not a callback item"),
        ({"a": "{}"}, "body.a", "unknown placeholder {}"),
        ({"a": "x { y"}, "body.a", "write '{{' for a literal brace"),
        ({"a": "x } y"}, "body.a", "write '}}' for a literal brace"),
        ({"a": "{code:number}"}, "body.a", "code is not a number"),
        ({"a": "total {orderValue:number}"}, "body.a", "must be the whole string"),
        ({"a": "{orderValue:money}"}, "body.a", "unknown format {orderValue:money}"),
    ],
)
def test_template_mistakes_are_named_with_their_place(
    template: dict[str, Any], where: str, says: str
) -> None:
    [problem] = template_problems(template)
    assert problem.where() == where
    assert says in problem.message


def test_every_mistake_is_listed_and_a_non_object_is_refused() -> None:
    problems = template_problems({"a": "{x}", "b": "{code}", "c": ["{y}"]})
    assert [p.where() for p in problems] == ["body.a", "body.c[0]"]
    assert [str(p) for p in template_problems(["{code}"])] == ["body: must be a JSON object"]


def test_a_subscription_with_a_body_sends_the_rendered_body_not_its_params() -> None:
    subscription = Subscription.from_mapping(
        {
            "id": 1,
            "url": "http://127.0.0.1:1/x",
            "method": "JSON",
            "params": {"code": "code", "orderId": "orderId"},
            "headers": {},
            "body": {"voucher": "{code}", "at": datetime(2020, 1, 1, tzinfo=UTC).isoformat()},
            "owner_merchant_id": None,
            "owner_distributor_id": None,
        }
    )
    assert payload_for(subscription, ITEMS) == {
        "voucher": "XY23T4DF",
        "at": "2020-01-01T00:00:00+00:00",
    }


def test_the_partner_example_of_the_docs_renders_as_printed() -> None:
    template = {
        "code": "{code}",
        "offer_id": "{offerId}",
        "order_value": "{orderValue}",
        "currency": "{currency}",
        "redeemed_at": "{redeemedAt}",
        "member_id": "{distributorId}",
        "merchant_id": "{merchantId}",
    }
    # docs/callbacks.md, "Body templates".
    assert render_template(template, ITEMS) == {
        "code": "XY23T4DF",
        "offer_id": "1256",
        "order_value": "219.99",
        "currency": "USD",
        "redeemed_at": "2015-05-29T10:39:17+0000",
        "member_id": "23",
        "merchant_id": "56",
    }


def test_a_template_nested_too_deep_is_refused_once() -> None:
    deep: dict[str, object] = {"code": "{code}"}
    for _ in range(MAX_TEMPLATE_DEPTH):
        deep = {"a": deep}
    [problem] = template_problems(deep)
    assert problem.message == f"nested deeper than {MAX_TEMPLATE_DEPTH} levels"
    assert len(problem.path) == MAX_TEMPLATE_DEPTH
    assert template_problems(deep["a"]) == []
