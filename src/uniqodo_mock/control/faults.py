"""Fault rules: make the mock slow, failing, rate-limited or silent on purpose.

A rule has a matcher (``path`` prefix, ``operation``, ``code``: all given must match), one or
more effects, and limits (``probability`` with a ``seed``, ``count``, ``ttl_seconds``). Rules
with ``"target": "callbacks"`` act on redemption callbacks instead (``delay_ms``,
``duplicate``, ``out_of_order``); the dispatcher asks ``FaultBook.fault_for_delivery``.

Rules live in memory per process; counts, probabilities and rate-limit windows are per process.
"""

from __future__ import annotations

import builtins
import functools
import itertools
import math
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "CallbackFault",
    "FaultBook",
    "FaultDecision",
    "FaultRule",
    "FaultRuleError",
    "parse_rule",
]

_API_EFFECTS = ("status", "latency_ms", "error_code", "drop", "rate_limit")
_CALLBACK_EFFECTS = ("delay_ms", "duplicate", "out_of_order")
_MATCHERS = ("path", "operation", "code")
_LIMITS = ("probability", "seed", "count", "ttl_seconds")
_KNOWN = {"target", "description", *_API_EFFECTS, *_CALLBACK_EFFECTS, *_MATCHERS, *_LIMITS}


class FaultRuleError(ValueError):
    """A rule that cannot be used; the message names the field."""


@dataclass
class FaultRule:
    id: int
    target: str
    spec: dict[str, Any]
    created: float = field(default_factory=time.monotonic)
    applied: int = 0
    rng: random.Random = field(default_factory=random.Random)
    window_start: float = 0.0
    window_hits: int = 0

    def get(self, name: str, default: Any = None) -> Any:
        return self.spec.get(name, default)

    @property
    def expired(self) -> bool:
        ttl = self.get("ttl_seconds")
        if ttl is not None and time.monotonic() - self.created >= ttl:
            return True
        count = self.get("count")
        return count is not None and self.applied >= count

    def matches(self, operation: str | None, path: str, code: str | None) -> bool:
        if "path" in self.spec and not path.startswith(self.spec["path"]):
            return False
        if "operation" in self.spec and operation != self.spec["operation"]:
            return False
        return "code" not in self.spec or _norm(code) == _norm(self.spec["code"])

    def to_json(self) -> dict[str, Any]:
        ttl = self.get("ttl_seconds")
        return {
            "id": self.id,
            **self.spec,
            "target": self.target,
            "applied": self.applied,
            "expires_in_seconds": (
                max(0.0, round(ttl - (time.monotonic() - self.created), 3))
                if ttl is not None
                else None
            ),
        }


@dataclass
class FaultDecision:
    """What the fault middleware does with one request."""

    rule: FaultRule
    latency_s: float = 0.0
    status: int | None = None
    error_code: str | int | None = None
    drop: bool = False
    retry_after: int | None = None

    @property
    def answers(self) -> bool:
        return self.drop or self.status is not None or self.error_code is not None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"rule": self.rule.id}
        if self.latency_s:
            out["latency_ms"] = round(self.latency_s * 1000, 3)
        for name in ("status", "error_code", "retry_after"):
            if getattr(self, name) is not None:
                out[name] = getattr(self, name)
        if self.drop:
            out["drop"] = True
        return out


@dataclass
class CallbackFault:
    """What the callback dispatcher does with one delivery."""

    rule: int
    delay_s: float = 0.0
    duplicate: bool = False
    out_of_order: bool = False


@functools.lru_cache(maxsize=4096)
def _norm(code: str | None) -> str:
    # Codes match ignoring case and surrounding blanks, as the API's code lookups do.
    return (code or "").strip().upper()


def _number(spec: dict[str, Any], name: str, *, minimum: float = 0, integer: bool = False) -> None:
    if name not in spec:
        return
    value = spec[name]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise FaultRuleError(f"'{name}' must be a number, got {value!r}")
    if integer and not float(value).is_integer():
        raise FaultRuleError(f"'{name}' must be a whole number, got {value!r}")
    if value < minimum:
        raise FaultRuleError(f"'{name}' must be at least {minimum}, got {value!r}")


def _check_latency(value: Any) -> None:
    if isinstance(value, dict):
        kinds = {"min", "max"} if "min" in value or "max" in value else {"mean", "stddev"}
        missing = kinds - value.keys()
        if missing or set(value) - kinds:
            raise FaultRuleError(
                '\'latency_ms\' must be a number, {"min": A, "max": B} (uniform) or '
                '{"mean": M, "stddev": S} (normal)'
            )
        for name in kinds:
            _number(value, name)
        if "min" in value and value["min"] > value["max"]:
            raise FaultRuleError("'latency_ms': min must not exceed max")
        return
    _number({"latency_ms": value}, "latency_ms")


def parse_rule(
    body: Any, rule_id: int, is_error_code: Callable[[str | int], bool] | None = None
) -> FaultRule:
    """Check a rule as posted to ``/__admin/faults`` and build it."""
    if not isinstance(body, dict):
        raise FaultRuleError("a fault rule is a JSON object")
    unknown = sorted(set(body) - _KNOWN)
    if unknown:
        raise FaultRuleError(f"unknown field(s): {', '.join(unknown)}")
    target = body.get("target", "api")
    if target not in ("api", "callbacks"):
        raise FaultRuleError("'target' must be 'api' or 'callbacks'")
    effects = _API_EFFECTS if target == "api" else _CALLBACK_EFFECTS
    others = _CALLBACK_EFFECTS if target == "api" else _API_EFFECTS
    misplaced = [name for name in others if name in body]
    if misplaced:
        raise FaultRuleError(f"{', '.join(misplaced)} do not apply to target '{target}'")
    if not any(name in body for name in effects):
        raise FaultRuleError(f"a rule needs an effect: one of {', '.join(effects)}")
    for name in ("path", "operation", "code"):
        if name in body and (not isinstance(body[name], str) or not body[name]):
            raise FaultRuleError(f"'{name}' must be a non-empty string")
    if "path" in body and not body["path"].startswith("/"):
        raise FaultRuleError("'path' is a path prefix and starts with '/'")
    if "status" in body:
        status = body["status"]
        if isinstance(status, bool) or not isinstance(status, int) or not 200 <= status <= 599:
            raise FaultRuleError(f"'status' must be an HTTP status 200-599, got {status!r}")
    if "latency_ms" in body:
        _check_latency(body["latency_ms"])
    if "error_code" in body and is_error_code is not None and not is_error_code(body["error_code"]):
        raise FaultRuleError(
            f"'error_code' {body['error_code']!r} is neither a catalogue key nor a vendor number"
        )
    for flag in ("drop", "duplicate", "out_of_order"):
        if flag in body and not isinstance(body[flag], bool):
            raise FaultRuleError(f"'{flag}' must be true or false")
    if "rate_limit" in body:
        limit = body["rate_limit"]
        if not isinstance(limit, dict) or set(limit) != {"requests", "per_seconds"}:
            raise FaultRuleError('\'rate_limit\' must be {"requests": N, "per_seconds": S}')
        _number(limit, "requests", integer=True)
        _number(limit, "per_seconds", minimum=0.001)
    _number(body, "delay_ms")
    _number(body, "count", minimum=1, integer=True)
    _number(body, "ttl_seconds", minimum=0.001)
    _number(body, "seed", integer=True, minimum=-(2**63))
    if "probability" in body:
        _number(body, "probability")
        if body["probability"] > 1:
            raise FaultRuleError("'probability' must be between 0 and 1")
    spec = {k: v for k, v in body.items() if k != "target"}
    return FaultRule(id=rule_id, target=target, spec=spec, rng=random.Random(body.get("seed")))


def _latency(rule: FaultRule) -> float:
    value = rule.get("latency_ms")
    if value is None:
        return 0.0
    if isinstance(value, dict):
        if "min" in value:
            ms = rule.rng.uniform(value["min"], value["max"])
        else:
            ms = max(0.0, rule.rng.gauss(value["mean"], value["stddev"]))
        return ms / 1000
    return float(value) / 1000


class FaultBook:
    """The rules in force in this process."""

    def __init__(self, is_error_code: Callable[[str | int], bool] | None = None) -> None:
        self._rules: dict[int, FaultRule] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self.is_error_code = is_error_code
        # Every request asks decide(); most rules (the fixtures' magic codes) match one code
        # only. Indexing them by normalised code makes a request that carries no magic code
        # look at the code-less rules alone, instead of testing every rule (~50 µs with 30).
        self._by_code: dict[str, list[FaultRule]] = {}
        self._codeless: list[FaultRule] = []

    def _reindex(self) -> None:
        """Rebuild the index after any change to the rule set (called under the lock)."""
        by_code: dict[str, list[FaultRule]] = {}
        codeless: list[FaultRule] = []
        for rule in self._rules.values():  # creation order: lists stay sorted by id
            if rule.target != "api":
                continue
            if "code" in rule.spec:
                by_code.setdefault(_norm(rule.spec["code"]), []).append(rule)
            else:
                codeless.append(rule)
        self._by_code, self._codeless = by_code, codeless

    def add(self, body: Any) -> FaultRule:
        rule = parse_rule(body, 0, self.is_error_code)
        with self._lock:
            rule.id = next(self._ids)
            self._rules[rule.id] = rule
            self._reindex()
        return rule

    def list(self) -> list[FaultRule]:
        with self._lock:
            self._prune()
            return list(self._rules.values())

    def delete(self, rule_id: int) -> bool:
        with self._lock:
            found = self._rules.pop(rule_id, None) is not None
            self._reindex()
            return found

    def clear(self) -> int:
        with self._lock:
            count = len(self._rules)
            self._rules.clear()
            self._reindex()
            return count

    def _prune(self) -> None:
        expired = [r.id for r in self._rules.values() if r.expired]
        for rule_id in expired:
            del self._rules[rule_id]
        if expired:
            self._reindex()

    def _candidates(self, code: str | None) -> builtins.list[FaultRule]:
        """The API rules that may match a request carrying ``code``, in creation order."""
        coded = self._by_code.get(_norm(code)) if code else None
        if not coded:
            return self._codeless
        if not self._codeless:
            return coded
        return sorted((*self._codeless, *coded), key=lambda rule: rule.id)

    def _fires(self, rule: FaultRule) -> bool:
        probability = rule.get("probability")
        return probability is None or rule.rng.random() < probability

    def has_api_rules(self) -> bool:
        """Whether any API rule is in force (lock-free, as ``may_apply``)."""
        return bool(self._codeless or self._by_code)

    def may_apply(self, code: str | None) -> bool:
        """Whether some API rule could match a request carrying ``code``: when not, ``decide``
        is certain to answer None. Lock-free (the index is replaced whole on every change), so
        the hot routes can ask it first."""
        if self._codeless:
            return True
        return code is not None and bool(code) and _norm(code) in self._by_code

    def decide(self, operation: str | None, path: str, code: str | None) -> FaultDecision | None:
        """The first live API rule that matches and fires (rules are tried in creation order)."""
        with self._lock:
            if not self._rules:
                return None
            candidates = self._candidates(code)
            if any(rule.expired for rule in candidates):
                # Expired rules never match: drop every expired rule (and re-index).
                self._prune()
                candidates = self._candidates(code)
            for rule in candidates:
                if not rule.matches(operation, path, code):
                    continue
                decision = self._rate_limit(rule)
                if decision is False:
                    continue  # within the limit: this rule lets the request through
                if decision is None:
                    if not self._fires(rule):
                        continue
                    decision = FaultDecision(
                        rule,
                        latency_s=_latency(rule),
                        status=rule.get("status"),
                        error_code=rule.get("error_code"),
                        drop=bool(rule.get("drop")),
                    )
                rule.applied += 1
                return decision
        return None

    @staticmethod
    def _rate_limit(rule: FaultRule) -> FaultDecision | Literal[False] | None:
        limit = rule.get("rate_limit")
        if not limit:
            return None
        now = time.monotonic()
        if now - rule.window_start >= limit["per_seconds"]:
            rule.window_start, rule.window_hits = now, 0
        rule.window_hits += 1
        if rule.window_hits <= limit["requests"]:
            return False
        retry = max(1, math.ceil(rule.window_start + limit["per_seconds"] - now))
        return FaultDecision(rule, latency_s=_latency(rule), status=429, retry_after=retry)

    def fault_for_delivery(
        self, *, operation: str | None = "redeem_code", path: str = "", code: str | None = None
    ) -> CallbackFault | None:
        """Hook for the callback dispatcher: the fault to apply to one delivery, if any."""
        with self._lock:
            self._prune()
            for rule in self._rules.values():
                if rule.target != "callbacks" or not rule.matches(operation, path, code):
                    continue
                if not self._fires(rule):
                    continue
                rule.applied += 1
                return CallbackFault(
                    rule=rule.id,
                    delay_s=float(rule.get("delay_ms", 0)) / 1000,
                    duplicate=bool(rule.get("duplicate")),
                    out_of_order=bool(rule.get("out_of_order")),
                )
        return None
