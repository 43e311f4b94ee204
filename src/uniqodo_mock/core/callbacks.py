"""Redemption callbacks, the pure part: which subscriptions a redemption goes to, and what
each is sent (the reference's nine items, under the names the subscriber chose, or a JSON body
template with ``{item}`` placeholders)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from uniqodo_mock.core.dates import format_iso_offset
from uniqodo_mock.core.model import Redemption

__all__ = [
    "CALLBACK_ITEMS",
    "DEFAULT_PARAMS",
    "MAX_TEMPLATE_DEPTH",
    "NUMERIC_ITEMS",
    "Subscription",
    "TemplateProblem",
    "callback_items",
    "matches",
    "payload_for",
    "render_template",
    "template_problems",
]

CALLBACK_ITEMS = (
    "id",
    "offerId",
    "merchantId",
    "distributorId",
    "code",
    "orderValue",
    "orderId",
    "currency",
    "redeemedAt",
)
# The items a ``{item:number}`` placeholder may send as a JSON number (the others are text:
# an order id such as ``ABC123456`` has no number to give).
NUMERIC_ITEMS = frozenset({"id", "offerId", "merchantId", "distributorId", "orderValue"})
# The docs' example sends ``code=45THD2L34K&orderId=447518457``.
DEFAULT_PARAMS: Mapping[str, str] = {"code": "code", "orderId": "orderId"}


@dataclass(frozen=True)
class Subscription:
    id: int
    url: str
    method: str
    params: Mapping[str, str]
    headers: Mapping[str, str]
    owner_merchant_id: int | None
    owner_distributor_id: int | None
    # A JSON body template (method JSON only); when set, ``params`` are not used.
    body: Mapping[str, Any] | None = None

    @classmethod
    def from_mapping(cls, row: Mapping[str, Any]) -> Subscription:
        return cls(
            id=row["id"],
            url=row["url"],
            method=row["method"],
            params=row["params"] or DEFAULT_PARAMS,
            headers=row["headers"] or {},
            owner_merchant_id=row["owner_merchant_id"],
            owner_distributor_id=row["owner_distributor_id"],
            body=row.get("body"),
        )


def callback_items(redemption: Redemption) -> dict[str, Any]:
    """The nine items, by their documented names; ``redeemedAt`` in UTC (``+0000``)."""
    return {
        "id": redemption.id,
        "offerId": redemption.offer_id,
        "merchantId": redemption.merchant_id,
        "distributorId": redemption.distributor_id,
        "code": redemption.code,
        # A float even when the database hands back a whole amount as an integer, so that it
        # is sent as money text ("10.00") like any other amount.
        "orderValue": float(redemption.order_value),
        "orderId": redemption.order_id,
        "currency": redemption.currency,
        "redeemedAt": format_iso_offset(redemption.redeemed_at, None),
    }


def matches(
    subscription: Subscription,
    redemption: Redemption,
    *,
    distributor_may_see: Callable[[int], bool],
) -> bool:
    """A merchant gets its own redemptions; a distributor only those of offers it is authorised
    for and whose merchant shares data; a subscription without owner gets every redemption."""
    if subscription.owner_merchant_id is not None:
        return subscription.owner_merchant_id == redemption.merchant_id
    if subscription.owner_distributor_id is not None:
        return distributor_may_see(subscription.owner_distributor_id)
    return True


def payload_for(subscription: Subscription, items: Mapping[str, Any]) -> dict[str, Any]:
    """The parameters sent: each chosen item under its chosen name. Missing values (a null
    ``distributorId``) are sent as empty strings in forms and query strings, null in JSON.
    A subscription with a body template is sent the template, rendered."""
    if subscription.body is not None:
        rendered = render_template(subscription.body, items)
        assert isinstance(rendered, dict)
        return rendered
    out: dict[str, Any] = {}
    for item, name in subscription.params.items():
        if item not in items:
            continue
        value = items[item]
        if subscription.method != "JSON":
            value = "" if value is None else _text(value)
        out[name] = value
    return out


def _text(value: Any) -> str:
    # The one float item is orderValue, an amount rounded to the cent: always two decimals
    # ("219.99", "45.00", "12.50"), as amounts are written.
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


# -- body templates ---------------------------------------------------------------------------
# A template is any JSON object. Its strings (values at any depth, not keys) may hold
# placeholders: ``{item}`` is replaced by the item as text (as a form POST sends it; a missing
# value is the empty string); a string that is exactly ``{item:number}`` becomes the item as a
# JSON number (null when missing). ``{{`` and ``}}`` stand for literal braces, as in Python's
# str.format; any other brace is a mistake, refused when the template is created, because a
# typo such as ``{orderid}`` would otherwise reach the partner as text.

# Deeper templates are refused: rendering recurses, and no receiver's shape needs more.
MAX_TEMPLATE_DEPTH = 32
_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")
_NUMBER_SUFFIX = ":number"

JsonPath = tuple[str | int, ...]


@dataclass(frozen=True)
class TemplateProblem:
    """One mistake in a body template: where (keys and list indexes from the body) and what."""

    path: JsonPath
    message: str

    def where(self, prefix: str = "body") -> str:
        out = prefix
        for part in self.path:
            out += f"[{part}]" if isinstance(part, int) else f".{part}"
        return out

    def __str__(self) -> str:
        return f"{self.where()}: {self.message}"


def template_problems(template: object) -> list[TemplateProblem]:
    """Every mistake in ``template``, in document order; empty when it can be rendered."""
    problems: list[TemplateProblem] = []
    if not isinstance(template, dict):
        return [TemplateProblem((), "must be a JSON object")]
    _check_value(template, (), problems)
    return problems


def _check_value(value: object, path: JsonPath, problems: list[TemplateProblem]) -> None:
    if isinstance(value, dict | list) and len(path) >= MAX_TEMPLATE_DEPTH:
        problems.append(TemplateProblem(path, f"nested deeper than {MAX_TEMPLATE_DEPTH} levels"))
    elif isinstance(value, dict):
        for key, inner in value.items():
            _check_value(inner, (*path, key), problems)
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            _check_value(inner, (*path, index), problems)
    elif isinstance(value, str):
        message = _string_problem(value)
        if message:
            problems.append(TemplateProblem(path, message))


def _string_problem(text: str) -> str | None:
    for match in _TOKEN.finditer(text):
        token = match.group(0)
        if token in ("{{", "}}"):
            continue
        inner = match.group(1)
        if inner is None:
            return f"a lone {token!r} in {text!r}: write {token * 2!r} for a literal brace"
        item, _, kind = inner.partition(":")
        if item not in CALLBACK_ITEMS:
            return (
                f"unknown placeholder {{{inner}}}: {item!r} is not a callback item "
                f"({', '.join(CALLBACK_ITEMS)})"
            )
        if not kind:
            continue
        if kind != "number":
            return f"unknown format {{{inner}}}: the only format is {{{item}{_NUMBER_SUFFIX}}}"
        if token != text:
            return f"{{{inner}}} must be the whole string, to send the item as a JSON number"
        if item not in NUMERIC_ITEMS:
            return f"{{{inner}}}: {item} is not a number ({', '.join(sorted(NUMERIC_ITEMS))} are)"
    return None


def render_template(template: object, items: Mapping[str, Any]) -> object:
    """``template`` with its placeholders replaced by ``items`` (a checked template: see
    ``template_problems``). Keys, constants and nesting are kept as written."""
    if isinstance(template, dict):
        return {key: render_template(value, items) for key, value in template.items()}
    if isinstance(template, list):
        return [render_template(value, items) for value in template]
    if isinstance(template, str):
        return _render_string(template, items)
    return template


def _render_string(text: str, items: Mapping[str, Any]) -> object:
    if text.endswith(_NUMBER_SUFFIX + "}") and text.startswith("{") and "{" not in text[1:]:
        return items.get(text[1 : -len(_NUMBER_SUFFIX) - 1])

    def replace(match: re.Match[str]) -> str:
        token = match.group(0)
        if token in ("{{", "}}"):
            return token[0]
        value = items.get(match.group(1) or "")
        return "" if value is None else _text(value)

    return _TOKEN.sub(replace, text)
