"""Fault rules: make the mock slow, failing, rate-limited or silent on purpose.

A rule has a matcher (``path`` prefix, ``operation``, ``code``: all given must match), one or
more effects, and limits (``probability`` with a ``seed``, ``count``, ``ttl_seconds``). Rules
with ``"target": "callbacks"`` act on redemption callbacks instead (``delay_ms``,
``duplicate``, ``out_of_order``); the dispatcher asks ``FaultBook.fault_for_delivery``.

Rules live in a ``FaultStore``: the database the replicas share (``store/controls.py``), so a
rule set through one replica acts on every replica, and its ``count``, ``ttl_seconds``,
rate-limit window and seeded probability sequence are counted across them all; or this
process's memory (``MemoryFaultStore``) where there is no database. This module decides; the
store only counts.
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
from typing import Any, Protocol

__all__ = [
    "CallbackFault",
    "FaultBook",
    "FaultDecision",
    "FaultRule",
    "FaultRuleError",
    "FaultStore",
    "MemoryFaultStore",
    "RuleRow",
    "parse_rule",
    "rule_of",
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
    """One rule as its store holds it. Times are wall-clock seconds (``time.time()``): the
    replicas sharing a database share the host's clock, so a ``ttl_seconds`` ends for all of
    them at once."""

    id: int
    target: str
    spec: dict[str, Any]
    created: float = field(default_factory=time.time)
    applied: int = 0
    # Per process: latency draws and unseeded probabilities need no sharing (only their
    # distribution is promised); seeded probabilities draw from the shared ``draws`` counter.
    rng: random.Random = field(default_factory=random.Random)
    # This replica saw the store refuse a claim (another replica spent it, or it ran out).
    gone: bool = False

    def get(self, name: str, default: Any = None) -> Any:
        return self.spec.get(name, default)

    @property
    def expires_at(self) -> float | None:
        ttl = self.get("ttl_seconds")
        return None if ttl is None else self.created + ttl

    @property
    def count(self) -> int | None:
        count = self.get("count")
        return None if count is None else int(count)

    @property
    def expired(self) -> bool:
        if self.gone:
            return True
        expires_at = self.expires_at
        if expires_at is not None and time.time() >= expires_at:
            return True
        count = self.count
        return count is not None and self.applied >= count

    def matches(self, operation: str | None, path: str, code: str | None) -> bool:
        if "path" in self.spec and not path.startswith(self.spec["path"]):
            return False
        if "operation" in self.spec and operation != self.spec["operation"]:
            return False
        return "code" not in self.spec or _norm(code) == _norm(self.spec["code"])

    def to_json(self) -> dict[str, Any]:
        expires_at = self.expires_at
        return {
            "id": self.id,
            **self.spec,
            "target": self.target,
            "applied": self.applied,
            "expires_in_seconds": (
                max(0.0, round(expires_at - time.time(), 3)) if expires_at is not None else None
            ),
        }


# A rule as a store keeps it: id, target, spec, created (wall-clock seconds), applied.
RuleRow = tuple[int, str, dict[str, Any], float, int]


def rule_of(row: RuleRow) -> FaultRule:
    rule_id, target, spec, created, applied = row
    return FaultRule(rule_id, target, spec, created, applied, rng=random.Random(spec.get("seed")))


class FaultStore(Protocol):
    """Where the rules, their counts and their rate-limit windows live: this process's memory
    (``MemoryFaultStore``) or the database every replica shares (``store/controls.py``).

    Every write of the rule set (add, delete, clear, prune, a rule used up) changes the
    ``generation``; counts and windows change by single conditional statements, so they are
    exact whichever process makes the change."""

    def known_generation(self) -> int | None:
        """The generation if it is known without asking the database (memory: always; SQLite:
        while its data version is unchanged since the last ``generation()``), else None."""
        ...

    def generation(self) -> int: ...

    def load(self) -> tuple[int, builtins.list[RuleRow]]:
        """The generation and the rules of that generation, in creation order."""
        ...

    def add(self, target: str, spec: dict[str, Any], created: float) -> int:
        """Store a rule; its id."""
        ...

    def delete(self, rule_id: int) -> bool: ...

    def clear(self) -> int: ...

    def prune(self, now: float) -> int:
        """Delete the rules used up or past their ttl; how many."""
        ...

    def claim(self, rule_id: int, now: float) -> int | None:
        """Count one use of a live rule: its ``applied`` after the use, or None when it is
        gone, used up or expired (another replica may have taken the last use)."""
        ...

    def window_hit(self, rule_id: int, now: float, per_seconds: float) -> tuple[float, int] | None:
        """Count one request in the rule's rate-limit window (a new window when the current
        one is over): the window's start and its requests so far; None if the rule is gone."""
        ...

    def draw(self, rule_id: int) -> int | None:
        """The number of this draw of a seeded probability (1, 2, ...); None if gone."""
        ...


@dataclass
class _Held:
    rule: FaultRule
    draws: int = 0
    window_start: float = 0.0
    window_hits: int = 0


class MemoryFaultStore:
    """The rules in this process's memory: one process, or unit tests without a database."""

    def __init__(self) -> None:
        self._rules: dict[int, _Held] = {}
        self._ids = itertools.count(1)
        self._generation = 0
        self._lock = threading.Lock()

    def _changed(self) -> None:
        self._generation += 1

    def known_generation(self) -> int | None:
        return self._generation

    def generation(self) -> int:
        return self._generation

    def load(self) -> tuple[int, builtins.list[RuleRow]]:
        with self._lock:
            rules = [
                (rule.id, rule.target, rule.spec, rule.created, rule.applied)
                for rule in (held.rule for held in self._rules.values())
            ]
            return self._generation, rules

    def add(self, target: str, spec: dict[str, Any], created: float) -> int:
        with self._lock:
            rule_id = next(self._ids)
            self._rules[rule_id] = _Held(FaultRule(rule_id, target, spec, created))
            self._changed()
            return rule_id

    def delete(self, rule_id: int) -> bool:
        with self._lock:
            found = self._rules.pop(rule_id, None) is not None
            if found:
                self._changed()
            return found

    def clear(self) -> int:
        with self._lock:
            count = len(self._rules)
            self._rules.clear()
            self._changed()
            return count

    def prune(self, now: float) -> int:
        with self._lock:
            dead = [rule_id for rule_id, held in self._rules.items() if _spent(held.rule, now)]
            for rule_id in dead:
                del self._rules[rule_id]
            if dead:
                self._changed()
            return len(dead)

    def claim(self, rule_id: int, now: float) -> int | None:
        with self._lock:
            held = self._rules.get(rule_id)
            if held is None or _spent(held.rule, now):
                return None
            held.rule.applied += 1
            return held.rule.applied

    def window_hit(self, rule_id: int, now: float, per_seconds: float) -> tuple[float, int] | None:
        with self._lock:
            held = self._rules.get(rule_id)
            if held is None:
                return None
            if now - held.window_start >= per_seconds:
                held.window_start, held.window_hits = now, 0
            held.window_hits += 1
            return held.window_start, held.window_hits

    def draw(self, rule_id: int) -> int | None:
        with self._lock:
            held = self._rules.get(rule_id)
            if held is None:
                return None
            held.draws += 1
            return held.draws


def _spent(rule: FaultRule, now: float) -> bool:
    expires_at, count = rule.expires_at, rule.count
    return (expires_at is not None and now >= expires_at) or (
        count is not None and rule.applied >= count
    )


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
    """The rules in force, as this process sees them: a copy of the store's rules indexed for
    the hot path, re-read whenever the store's generation changed. The decisions (which rule
    matches, whether it fires, what it answers) are made here; the counts they rest on are the
    store's, so they hold across every process sharing it."""

    def __init__(
        self,
        is_error_code: Callable[[str | int], bool] | None = None,
        store: FaultStore | None = None,
    ) -> None:
        self.store: FaultStore = store if store is not None else MemoryFaultStore()
        self.is_error_code = is_error_code
        self._lock = threading.Lock()
        self._generation: int | None = None
        self._rules: builtins.list[FaultRule] = []
        # Every request asks decide(); most rules (the fixtures' magic codes) match one code
        # only. Indexing them by normalised code makes a request that carries no magic code
        # look at the code-less rules alone, instead of testing every rule.
        self._by_code: dict[str, builtins.list[FaultRule]] = {}
        self._codeless: builtins.list[FaultRule] = []

    # -- the local copy --------------------------------------------------------------------
    def fresh(self) -> bool:
        """Whether the local copy is certainly the rule set in force, known without a query
        (then ``may_apply`` can be trusted as it is)."""
        known = self.store.known_generation()
        return known is not None and known == self._generation

    def refresh(self) -> None:
        """Re-read the rules if the store's generation moved (one small read when it did not)."""
        if self.store.generation() == self._generation:
            return
        generation, rows = self.store.load()
        self._install(generation, [rule_of(row) for row in rows])

    def _install(self, generation: int, rules: builtins.list[FaultRule]) -> None:
        by_code: dict[str, builtins.list[FaultRule]] = {}
        codeless: builtins.list[FaultRule] = []
        for rule in rules:  # creation order: lists stay sorted by id
            if rule.target != "api":
                continue
            if "code" in rule.spec:
                by_code.setdefault(_norm(rule.spec["code"]), []).append(rule)
            else:
                codeless.append(rule)
        with self._lock:
            # Replaced whole: lock-free readers (may_apply) never see a half index.
            self._rules, self._by_code, self._codeless = rules, by_code, codeless
            self._generation = generation

    # -- the admin side --------------------------------------------------------------------
    def add(self, body: Any) -> FaultRule:
        rule = parse_rule(body, 0, self.is_error_code)
        rule.id = self.store.add(rule.target, rule.spec, rule.created)
        self.refresh()
        return rule

    def list(self) -> builtins.list[FaultRule]:
        self.store.prune(time.time())
        generation, rows = self.store.load()
        rules = [rule_of(row) for row in rows]
        self._install(generation, rules)
        return rules

    def delete(self, rule_id: int) -> bool:
        found = self.store.delete(rule_id)
        self.refresh()
        return found

    def clear(self) -> int:
        count = self.store.clear()
        self.refresh()
        return count

    # -- the request side ------------------------------------------------------------------
    def _candidates(self, code: str | None) -> builtins.list[FaultRule]:
        """The API rules that may match a request carrying ``code``, in creation order."""
        coded = self._by_code.get(_norm(code)) if code else None
        codeless = self._codeless
        if not coded:
            return codeless
        if not codeless:
            return coded
        return sorted((*codeless, *coded), key=lambda rule: rule.id)

    def _fires(self, rule: FaultRule) -> bool | None:
        """Whether a rule with a probability fires this time; None when it is gone. Seeded
        rules draw the n-th number of their seed's sequence, n counted by the store, so the
        sequence is the same whichever replicas the requests reach."""
        probability = rule.get("probability")
        if probability is None:
            return True
        seed = rule.get("seed")
        if seed is None:
            return rule.rng.random() < probability
        draw = self.store.draw(rule.id)
        if draw is None:
            return None
        return random.Random(f"{seed}:{draw}").random() < probability

    def _claim(self, rule: FaultRule) -> bool:
        applied = self.store.claim(rule.id, time.time())
        if applied is None:
            rule.gone = True  # this copy skips it until the next re-read
            return False
        rule.applied = applied
        if rule.count is not None and applied >= rule.count:
            # Used up: out of the rule set for everyone (the generation moves).
            self.store.prune(time.time())
        return True

    def has_api_rules(self) -> bool:
        """Whether any API rule is in force (lock-free, as ``may_apply``)."""
        return bool(self._codeless or self._by_code)

    def may_apply(self, code: str | None) -> bool:
        """Whether some API rule could match a request carrying ``code``: when not (and the
        copy is ``fresh``), ``decide`` is certain to answer None. Lock-free (the index is
        replaced whole on every change), so the hot routes can ask it first."""
        if self._codeless:
            return True
        return code is not None and bool(code) and _norm(code) in self._by_code

    def decide(
        self, operation: str | None, path: str, code: str | None, *, refresh: bool = True
    ) -> FaultDecision | None:
        """The first live API rule that matches and fires (rules are tried in creation order).
        Blocking when the store is a database: call it off the event loop. ``refresh=False``:
        the caller has just made sure the copy is current."""
        if refresh:
            self.refresh()
        for rule in self._candidates(code):
            if rule.expired or not rule.matches(operation, path, code):
                continue
            limit = rule.get("rate_limit")
            if limit:
                window = self.store.window_hit(rule.id, time.time(), limit["per_seconds"])
                if window is None:
                    rule.gone = True
                    continue
                start, hits = window
                if hits <= limit["requests"]:
                    continue  # within the limit: this rule lets the request through
                if not self._claim(rule):
                    continue
                retry = max(1, math.ceil(start + limit["per_seconds"] - time.time()))
                return FaultDecision(rule, latency_s=_latency(rule), status=429, retry_after=retry)
            fires = self._fires(rule)
            if fires is None:
                rule.gone = True
            if not fires or not self._claim(rule):
                continue
            return FaultDecision(
                rule,
                latency_s=_latency(rule),
                status=rule.get("status"),
                error_code=rule.get("error_code"),
                drop=bool(rule.get("drop")),
            )
        return None

    def fault_for_delivery(
        self, *, operation: str | None = "redeem_code", path: str = "", code: str | None = None
    ) -> CallbackFault | None:
        """Hook for the callback dispatcher: the fault to apply to one delivery, if any.
        Blocking when the store is a database: call it off the event loop."""
        self.refresh()
        for rule in self._rules:
            if rule.target != "callbacks" or rule.expired:
                continue
            if not rule.matches(operation, path, code):
                continue
            fires = self._fires(rule)
            if not fires or not self._claim(rule):
                continue
            return CallbackFault(
                rule=rule.id,
                delay_s=float(rule.get("delay_ms", 0)) / 1000,
                duplicate=bool(rule.get("duplicate")),
                out_of_order=bool(rule.get("out_of_order")),
            )
        return None
