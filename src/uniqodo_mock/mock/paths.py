"""Path shapes of the spec, to tell "no such operation" (404) from "malformed path parameter"
(400). Connexion routes integer path parameters with an int converter, so ``/code/KEY/abc``
finds no route at all; these shapes find the operation it was meant for and the parameter
that does not fit."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

__all__ = ["PathShape", "PathShapes"]

_PARAM = re.compile(r"\{([^}]+)\}")


@dataclass(frozen=True)
class PathShape:
    template: str
    pattern: re.Pattern[str]
    params: dict[str, dict[str, Any]]
    methods: frozenset[str]


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
                    param = _deref(spec, param)
                    if param.get("in") == "path":
                        params[param["name"]] = _deref(spec, param.get("schema", {}))
            regex = (
                "^"
                + _PARAM.sub(
                    lambda m: f"(?P<{_group(m.group(1))}>[^/]+)",
                    re.escape(template).replace(r"\{", "{").replace(r"\}", "}"),
                )
                + "/?$"
            )
            self._shapes.append(PathShape(template, re.compile(regex), params, methods))

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

    def allowed_methods(self, path: str) -> list[str]:
        for shape in self._shapes:
            if shape.pattern.match(path):
                return sorted(shape.methods)
        return []


def _group(name: str) -> str:
    return "p_" + re.sub(r"\W", "_", name)


def _deref(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while isinstance(node, dict) and "$ref" in node:
        target: Any = spec
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part]
        node = target
    return node


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
