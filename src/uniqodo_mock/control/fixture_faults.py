"""Fault rules declared in a fixture document (``faults:``), e.g. the default fixtures' magic
codes that always time out or answer 503. Checked with the document (file:line per problem);
stored in place of every rule in the transaction that loads the document (at a start on an
empty database, a reset, a fixture load: ``store/fixtures.py``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from uniqodo_mock.control.faults import FaultRuleError, parse_rule
from uniqodo_mock.fixtures.loader import register_check

__all__ = ["check_fixture_faults"]


@register_check
def check_fixture_faults(
    data: dict[str, Any], report: Callable[[tuple[Any, ...], str], None]
) -> None:
    for index, rule in enumerate(data.get("faults") or []):
        try:
            parse_rule(rule, 0)
        except FaultRuleError as error:
            report(("faults", index), f"fault rule: {error}")
