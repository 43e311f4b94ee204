"""Fault rules declared in a fixture document (``faults:``), e.g. the default fixtures' magic
codes that always time out or answer 503. Checked with the document (file:line per problem)
and seeded into the fault book whenever the document is loaded or the mock is reset."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from uniqodo_mock.control.faults import FaultBook, FaultRuleError, parse_rule
from uniqodo_mock.fixtures.loader import register_check

__all__ = ["check_fixture_faults", "seed_fixture_faults"]


@register_check
def check_fixture_faults(
    data: dict[str, Any], report: Callable[[tuple[Any, ...], str], None]
) -> None:
    for index, rule in enumerate(data.get("faults") or []):
        try:
            parse_rule(rule, 0)
        except FaultRuleError as error:
            report(("faults", index), f"fault rule: {error}")


def seed_fixture_faults(book: FaultBook, data: dict[str, Any]) -> int:
    """Add the document's rules to ``book`` (after it was cleared); returns how many."""
    rules = data.get("faults") or []
    for rule in rules:
        book.add(rule)
    return len(rules)
