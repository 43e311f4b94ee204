"""Basket rules (the platform's UQL): per-offer conditions over the data sent at validation.

Rules are written in the ``rule-engine`` expression language (never ``eval``): a rule is a
boolean expression over the *basket context* built here from the validation parameters, for
example ``basketTotal >= 50 and customerType == "new"`` or ``"SKU-1" in skus``.

Context symbols (all optional: a symbol the request did not send is ``null``):

- ``basketTotal`` (float), ``item_count`` (sum of quantities), ``line_count`` (basket lines),
  ``skus`` (list of product ids), ``prices`` (list of floats), ``quantities`` (list of ints),
- ``customerType``, ``pos``, ``email``, ``locale`` (strings),
- ``now`` (the mock's clock, a datetime: compare with ``d"2026-12-24"``), ``today`` ("YYYY-MM-DD"),
- any further parameter the integration sent, by its own name, as a string.
"""

from __future__ import annotations

import decimal
import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from uniqodo_mock.core.errors import VendorError

if TYPE_CHECKING:
    import rule_engine


def _rule_engine() -> Any:
    """rule_engine, imported when the first basket rule is compiled: importing it builds the
    parser of its grammar, which a mock whose offers have no basket rule need not pay for."""
    import rule_engine

    return rule_engine


__all__ = [
    "BasketRule",
    "basket_context",
    "check_basket_rules",
    "compile_rule",
    "parse_rules",
    "rule_message",
]

# Item lists are split by ``itemSeparator``; the docs' example uses ";".
_DEFAULT_SEPARATOR = ";"
_NUMBER_FIELDS = ("basketTotal",)


@dataclass(frozen=True)
class BasketRule:
    name: str
    text: str
    messages: Mapping[str, str]
    compiled: rule_engine.Rule


def _engine_context() -> rule_engine.Context:
    # Unknown symbols are null instead of an error: a basket may omit any field.
    return _rule_engine().Context(default_value=None)


@functools.lru_cache(maxsize=1024)
def compile_rule(text: str) -> rule_engine.Rule:
    """Parse one rule; raises ``ValueError`` with the parser's own message when it does not
    parse. Compiled rules are kept: offers' rules are checked on every validation."""
    engine = _rule_engine()
    try:
        return engine.Rule(text, context=_engine_context())
    except engine.errors.EngineError as error:
        message = getattr(error, "message", None) or str(error) or type(error).__name__
        raise ValueError(f"{type(error).__name__}: {message}") from None


def parse_rules(raw: Sequence[Mapping[str, Any]] | None) -> list[BasketRule]:
    """The offer's ``config.basket_rules`` compiled (fixtures have checked they parse)."""
    return [
        BasketRule(
            name=str(entry.get("name") or f"rule {index + 1}"),
            text=str(entry["rule"]),
            messages=dict(entry.get("messages") or {}),
            compiled=compile_rule(str(entry["rule"])),
        )
        for index, entry in enumerate(raw or [])
    ]


def _split(value: str | None, separator: str) -> list[str]:
    if value is None or value == "":
        return []
    return [part.strip() for part in value.split(separator)]


def _number(name: str, text: str) -> decimal.Decimal:
    try:
        value = decimal.Decimal(text.strip())
    except decimal.InvalidOperation:
        raise VendorError(
            "invalid_parameter",
            f"{name} {text!r} is not a number",
            parameter=name,
            message=f"Parameter '{name}' must be a decimal number.",
        ) from None
    if not value.is_finite():
        raise VendorError(
            "invalid_parameter",
            f"{name} must be finite",
            parameter=name,
            message=f"Parameter '{name}' must be a decimal number.",
        )
    return value


def basket_context(params: Mapping[str, str], now: datetime) -> dict[str, Any]:
    """The typed basket a rule sees, from the validation parameters."""
    context: dict[str, Any] = {key: value for key, value in params.items()}
    for name in _NUMBER_FIELDS:
        if params.get(name) not in (None, ""):
            context[name] = _number(name, params[name])
        else:
            context[name] = None
    separator = params.get("itemSeparator") or _DEFAULT_SEPARATOR
    skus = _split(params.get("productId"), separator)
    prices = [_number("price", p) for p in _split(params.get("price"), separator) if p]
    quantities = [_number("quantity", q) for q in _split(params.get("quantity"), separator) if q]
    context["skus"] = tuple(skus)
    context["prices"] = tuple(prices)
    context["quantities"] = tuple(quantities)
    context["line_count"] = len(skus)
    # Lines without a quantity count once each.
    if quantities:
        context["item_count"] = sum(quantities) + max(0, len(skus) - len(quantities))
    else:
        context["item_count"] = len(skus)
    context["now"] = now
    context["today"] = now.date().isoformat()
    return context


def rule_message(rule: BasketRule, locale: str | None) -> str | None:
    """The rule's own message in the request's language (``en`` as fallback)."""
    if not rule.messages:
        return None
    language = (locale or "en").split("_")[0].split("-")[0].lower()
    return (
        rule.messages.get(language) or rule.messages.get("en") or next(iter(rule.messages.values()))
    )


def check_basket_rules(
    rules: Sequence[BasketRule], params: Mapping[str, str], now: datetime, locale: str | None
) -> None:
    """Raise ``basket_rule_failed`` for the first rule the basket does not meet."""
    if not rules:
        return
    context = basket_context(params, now)
    engine_error = _rule_engine().errors.EngineError
    for rule in rules:
        try:
            met = bool(rule.compiled.matches(context))
            why = f"basket rule {rule.name!r} ({rule.text}) is not met"
        except engine_error as error:
            # Missing or mistyped data (null > 10): the basket cannot meet the rule.
            met = False
            why = f"basket rule {rule.name!r} ({rule.text}) could not be evaluated: {error}"
        if not met:
            raise VendorError(
                "basket_rule_failed",
                why,
                rule=rule.name,
                promotion_specific_error=rule_message(rule, locale),
            )
