"""Does a recorded call conform to the redemption callback declared in ``openapi/uniqodo.yaml``?

Pure: it reads the callback's definition from the spec dict it is given (never hard-coded), so a
change to the spec changes the verdicts. What is checked, from the spec:

- the methods the callback declares (``post`` with its request body media types, ``get`` with
  query parameters);
- each declared item that is present: not empty, and parses as its declared type (integer,
  number, boolean) and matches its ``pattern`` / ``enum`` — the values travel as strings;
- ``minProperties`` (at least one item), ``required`` items, and unknown names only when the
  schema says ``additionalProperties: false`` (subscribers may rename items, so extras are
  normally allowed).

A call "looks like" a callback when it carries the dispatcher's ``X-Uniqodo-Delivery-Id``
header or any declared item name.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from uniqodo_mock.receiver.model import Param, Verdict
from uniqodo_mock.specs import resolve_local_ref

__all__ = ["DELIVERY_HEADER", "CallbackContract", "contract_from_spec", "judge"]

DELIVERY_HEADER = "x-uniqodo-delivery-id"
_INTEGER = re.compile(r"^[+-]?\d+$")


@dataclass(frozen=True, slots=True)
class _ItemCheck:
    """One item's schema, prepared once: its pattern compiled, its enum as strings."""

    kind: Any
    pattern: str | None
    compiled: re.Pattern[str] | None
    enum: tuple[str, ...]

    @classmethod
    def of(cls, schema: dict[str, Any]) -> _ItemCheck:
        pattern = schema.get("pattern") or None
        return cls(
            schema.get("type"),
            pattern,
            re.compile(pattern) if pattern else None,
            tuple(str(option) for option in schema.get("enum") or ()),
        )


@dataclass(frozen=True, slots=True)
class CallbackContract:
    """What the spec declares for the callback, flattened for quick checks."""

    methods: dict[str, tuple[str, ...]]  # METHOD -> accepted media types ("" for GET: query)
    items: dict[str, dict[str, Any]]  # item name -> its (resolved) schema
    required: tuple[str, ...] = ()
    min_items: int = 0
    extras_allowed: bool = True
    # Derived from ``items`` at construction: judging runs for every recorded call.
    checks: dict[str, _ItemCheck] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        checks = {name: _ItemCheck.of(schema) for name, schema in self.items.items()}
        object.__setattr__(self, "checks", checks)


def _object_schema(spec: dict[str, Any], schema: Any) -> dict[str, Any] | None:
    schema = resolve_local_ref(spec, schema)
    if isinstance(schema, dict) and ("properties" in schema or schema.get("type") == "object"):
        return schema
    return None


def contract_from_spec(
    spec: dict[str, Any], callback_name: str = "redemptionCallback"
) -> CallbackContract:
    """Find ``callback_name`` under any operation's ``callbacks`` and flatten it."""
    path_item = None
    for methods in spec.get("paths", {}).values():
        for operation in methods.values():
            if not isinstance(operation, dict):
                continue
            callback = resolve_local_ref(spec, operation.get("callbacks", {}).get(callback_name))
            if callback:
                path_item = resolve_local_ref(spec, next(iter(callback.values())))
                break
        if path_item is not None:
            break
    if path_item is None:
        raise LookupError(f"the spec declares no callback named {callback_name!r}")

    methods_out: dict[str, tuple[str, ...]] = {}
    items: dict[str, dict[str, Any]] = {}
    required: list[str] = []
    min_items = 0
    extras_allowed = True

    def take_object(schema: dict[str, Any]) -> None:
        nonlocal min_items, extras_allowed
        for name, prop in schema.get("properties", {}).items():
            items.setdefault(name, resolve_local_ref(spec, prop))
        required.extend(r for r in schema.get("required", []) if r not in required)
        min_items = max(min_items, int(schema.get("minProperties", 0)))
        if schema.get("additionalProperties") is False:
            extras_allowed = False

    for method, operation in path_item.items():
        if method.lower() not in ("get", "post", "put", "patch", "delete"):
            continue
        operation = resolve_local_ref(spec, operation)
        body = resolve_local_ref(spec, operation.get("requestBody"))
        if body:
            content = body.get("content", {})
            methods_out[method.upper()] = tuple(content)
            for media in content.values():
                schema = _object_schema(spec, media.get("schema"))
                if schema:
                    take_object(schema)
        else:
            methods_out[method.upper()] = ("",)
        for parameter in operation.get("parameters", []):
            parameter = resolve_local_ref(spec, parameter)
            if parameter.get("in") != "query":
                continue
            schema = _object_schema(spec, parameter.get("schema"))
            if schema:
                take_object(schema)
            else:
                items.setdefault(
                    parameter["name"], resolve_local_ref(spec, parameter.get("schema", {}))
                )
                if parameter.get("required") and parameter["name"] not in required:
                    required.append(parameter["name"])
    return CallbackContract(methods_out, items, tuple(required), min_items, extras_allowed)


def _type_problem(name: str, value: str, check: _ItemCheck) -> str | None:
    kind = check.kind
    if kind == "integer" and not _INTEGER.match(value):
        return f"{name} {value!r} is not an integer"
    if kind == "number":
        try:
            number = float(value)
        except ValueError:
            return f"{name} {value!r} is not a number"
        if not math.isfinite(number) or value.strip().lower() in ("nan", "inf", "infinity"):
            return f"{name} {value!r} is not a finite number"
    if kind == "boolean" and value not in ("true", "false"):
        return f"{name} {value!r} is not true or false"
    if check.compiled is not None and not check.compiled.search(value):
        return f"{name} {value!r} does not match the pattern {check.pattern}"
    if check.enum and value not in check.enum:
        return f"{name} {value!r} is not one of {', '.join(check.enum)}"
    return None


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def judge(
    contract: CallbackContract,
    *,
    method: str,
    content_type: str | None,
    headers: Sequence[tuple[str, str]],
    params: Sequence[Param],
) -> Verdict:
    """The verdict for one call. Items are read from where the method carries them: the body
    for a method with a request body, the query string for GET."""
    has_header = any(name.lower() == DELIVERY_HEADER for name, _ in headers)
    named = any(param.name in contract.items for param in params)
    if not (has_header or named):
        return Verdict(False, None)

    problems: list[str] = []
    method = method.upper()
    accepted = contract.methods.get(method)
    if accepted is None:
        declared = " or ".join(sorted(contract.methods)) or "nothing"
        problems.append(f"method {method} is not declared for the callback (declared: {declared})")
        carried = list(params)
    elif accepted == ("",):
        carried = [p for p in params if p.source == "query"]
    else:
        media = _media_type(content_type)
        if media not in accepted:
            problems.append(
                f"content type {media or '(none)'!r} is not declared for {method} "
                f"(declared: {', '.join(accepted)})"
            )
        carried = [p for p in params if p.source != "query"]

    seen: dict[str, list[str]] = {}
    for param in carried:
        seen.setdefault(param.name, []).append(param.value)
    present = 0
    for name, values in seen.items():
        check = contract.checks.get(name)
        if check is None:
            if not contract.extras_allowed:
                problems.append(f"{name} is not a declared callback item")
            continue
        present += 1
        if len(values) > 1:
            problems.append(f"{name} is sent {len(values)} times")
        for value in values:
            if value == "":
                problems.append(f"{name} is empty")
                continue
            problem = _type_problem(name, value, check)
            if problem:
                problems.append(problem)
    for name in contract.required:
        if name not in seen:
            problems.append(f"{name} is required but missing")
    if present < max(contract.min_items, 1 if contract.min_items else 0):
        problems.append(
            f"carries none of the callback items ({', '.join(contract.items)})"
            if present == 0
            else f"carries {present} callback items, fewer than {contract.min_items}"
        )
    return Verdict(True, not problems, tuple(problems))
