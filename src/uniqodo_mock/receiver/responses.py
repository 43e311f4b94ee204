"""What the receiver answers, per path: partners simulate their own endpoint failing or slow.

A rule is written ``PATH=STATUS`` or ``PATH=STATUS:DELAY`` (delay in seconds), e.g.
``/hook=500`` or ``/slow=204:2.5``. ``PATH`` may use ``*`` wildcards (``/hooks/*``). An exact
path wins over a pattern; among patterns the first listed wins. Unmatched paths get 204.
Pure: no web framework.
"""

from __future__ import annotations

import fnmatch
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

__all__ = ["DEFAULT_STATUS", "MAX_DELAY", "ResponseRule", "ResponseTable", "parse_rule"]

DEFAULT_STATUS = 204
MAX_DELAY = 300.0


@dataclass(frozen=True, slots=True)
class ResponseRule:
    path: str
    status: int = DEFAULT_STATUS
    delay: float = 0.0

    def __post_init__(self) -> None:
        if not self.path.startswith("/"):
            raise ValueError(f"path {self.path!r} must start with /")
        if self.path == "/__receiver" or self.path.startswith("/__receiver/"):
            raise ValueError("paths under /__receiver/ are the receiver's own API")
        if not 200 <= self.status <= 599:
            raise ValueError(f"status {self.status} must be between 200 and 599")
        if not (math.isfinite(self.delay) and 0 <= self.delay <= MAX_DELAY):
            raise ValueError(f"delay {self.delay} must be between 0 and {MAX_DELAY:g} seconds")

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "status": self.status, "delay": self.delay}

    @classmethod
    def from_json(cls, data: Any) -> ResponseRule:
        if not isinstance(data, dict) or not isinstance(data.get("path"), str):
            raise ValueError("each rule is an object with a string 'path'")
        unknown = set(data) - {"path", "status", "delay"}
        if unknown:
            raise ValueError(f"unknown rule fields: {', '.join(sorted(unknown))}")
        status = data.get("status", DEFAULT_STATUS)
        delay = data.get("delay", 0.0)
        if isinstance(status, bool) or not isinstance(status, int):
            raise ValueError("'status' must be an integer")
        if isinstance(delay, bool) or not isinstance(delay, int | float):
            raise ValueError("'delay' must be a number of seconds")
        return cls(data["path"], status, float(delay))


def parse_rule(text: str) -> ResponseRule:
    """``/hook=500`` or ``/slow=204:2.5`` → a rule (``ValueError`` with a readable message)."""
    path, sep, answer = text.rpartition("=")
    if not sep or not path:
        raise ValueError(f"{text!r}: write PATH=STATUS or PATH=STATUS:DELAY, e.g. /hook=500")
    status_text, _, delay_text = answer.partition(":")
    try:
        status = int(status_text)
        delay = float(delay_text) if delay_text else 0.0
    except ValueError:
        raise ValueError(f"{text!r}: STATUS must be an integer and DELAY seconds") from None
    return ResponseRule(path, status, delay)


class ResponseTable:
    """The current rules; replaced whole (``PUT /__receiver/responses``)."""

    def __init__(self, rules: Iterable[ResponseRule] = ()) -> None:
        self.replace(rules)

    def replace(self, rules: Iterable[ResponseRule]) -> None:
        rules = list(rules)
        # Build new lookup structures, then swap references: readers never see a half table.
        self._exact = {rule.path: rule for rule in rules if "*" not in rule.path}
        self._patterns = [rule for rule in rules if "*" in rule.path]
        self._rules = rules

    @property
    def rules(self) -> list[ResponseRule]:
        return list(self._rules)

    def match(self, path: str) -> ResponseRule | None:
        rule = self._exact.get(path)
        if rule is not None:
            return rule
        for rule in self._patterns:
            if fnmatch.fnmatchcase(path, rule.path):
                return rule
        return None
