"""Path shapes of the spec, to tell "no such operation" (404) from "malformed path parameter"
(400). Connexion routes integer path parameters with an int converter, so ``/code/KEY/abc``
finds no route at all; these shapes find the operation it was meant for and the parameter
that does not fit."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from starlette.convertors import PathConvertor, register_url_convertor

from uniqodo_mock.specs import resolve_local_ref

__all__ = ["PathShape", "PathShapes", "SegmentsConvertor", "route_every_character"]

_PARAM = re.compile(r"\{([^}]+)\}")


@dataclass(frozen=True)
class PathShape:
    template: str
    pattern: re.Pattern[str]
    params: dict[str, dict[str, Any]]
    methods: frozenset[str]
    # method → short operation name (``redeem_code``), for fault matchers and the journal.
    operations: dict[str, str] | None = None


class PathShapes:
    def __init__(self, spec: dict[str, Any]) -> None:
        self._shapes: list[PathShape] = []
        for template, item in (spec.get("paths") or {}).items():
            methods = frozenset(
                m.upper()
                for m in item
                if m in {"get", "post", "put", "delete", "patch", "head", "options"}
            )
            params: dict[str, dict[str, Any]] = {}
            for operation in (item[m.lower()] for m in methods):
                for param in operation.get("parameters", []) + item.get("parameters", []):
                    param = resolve_local_ref(spec, param)
                    if param.get("in") == "path":
                        params[param["name"]] = resolve_local_ref(spec, param.get("schema", {}))
            regex = (
                "^"
                + _PARAM.sub(
                    lambda m: f"(?P<{_group(m.group(1))}>[^/]+)",
                    re.escape(template).replace(r"\{", "{").replace(r"\}", "}"),
                )
                + "/?$"
            )
            operations = {
                m: str(item[m.lower()].get("operationId", "")).rpartition(".")[2] for m in methods
            }
            self._shapes.append(PathShape(template, re.compile(regex), params, methods, operations))

    def malformed_parameter(self, path: str, method: str) -> tuple[str, str] | None:
        """``(parameter, problem)`` when ``path`` fits an operation's shape but a path
        parameter does not fit its schema."""
        for shape in self._shapes:
            match = shape.pattern.match(path)
            if not match or method.upper() not in shape.methods:
                continue
            for name, schema in shape.params.items():
                value = match.group(_group(name))
                problem = _misfit(value, schema)
                if problem:
                    return name, problem
        return None

    def operation(self, path: str, method: str) -> tuple[str | None, dict[str, str]]:
        """The operation a request is meant for and its path parameters (``(None, {})`` if
        no shape fits). Does not check that the parameters are well-formed."""
        method = "GET" if method.upper() == "HEAD" else method.upper()
        for shape in self._shapes:
            match = shape.pattern.match(path)
            if match and method in shape.methods:
                values = {name: match.group(_group(name)) for name in shape.params}
                return (shape.operations or {}).get(method) or None, values
        return None, {}

    def allowed_methods(self, path: str) -> list[str]:
        for shape in self._shapes:
            if shape.pattern.match(path):
                return sorted(shape.methods)
        return []


def _group(name: str) -> str:
    return "p_" + re.sub(r"\W", "_", name)


def _misfit(value: str, schema: dict[str, Any]) -> str | None:
    kind = schema.get("type")
    if kind == "integer":
        if not re.fullmatch(r"-?\d+", value):
            return f"must be an integer, got {value!r}"
        if "minimum" in schema and int(value) < schema["minimum"]:
            return f"must be at least {schema['minimum']}, got {value}"
    if "pattern" in schema and not re.search(schema["pattern"], value):
        return f"must match {schema['pattern']}, got {value!r}"
    return None


class SegmentsConvertor(PathConvertor):
    """starlette's ``path`` convertor, matching line breaks too.

    connexion mounts each API on a starlette ``Mount``, whose ``{path:path}`` is ``.*``: a
    decoded ``%0A`` in any segment (``/offers/KEY/x%0Ay``) then misses the mount, and the
    request is answered "no such path" although it has the spec's shape. With the newline
    matched, it reaches the operation like any other character, whose parameter schemas judge
    it (400 naming the parameter, or the value as sent); a trailing ``%0A`` no longer makes
    the mount and the API's trailing-slash redirect send the client back and forth either.
    """

    regex = r"[\s\S]*"


def route_every_character() -> None:
    """Register ``SegmentsConvertor`` as starlette's ``path`` convertor (its public extension
    point, as connexion registers its ``int`` and ``float``). A mount compiles its pattern
    when it is built, so this runs before the app's APIs are added; it only ever matches more
    paths, never fewer, so other starlette apps of the process keep every route they had."""
    register_url_convertor("path", SegmentsConvertor())
