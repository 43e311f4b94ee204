"""Request parameter validation for the vendor API, plugged into connexion's validator map.

connexion's own parameter validator is built per request: it deep-copies each parameter's
definition, builds a JSON Schema validator per parameter and resolves the query through a URI
parser whose schema table is rebuilt per lookup. ``VendorParameters`` compiles each operation's
parameters once (on the operation's first request, with jsonschema-rs) and parses the query
once. It reads a
parameter as the platform does, by its first value, validates exactly that value, and leaves
the parsed parameters in the request scope for the operation (``mock/operations.py``), so no
layer parses the query again. Messages name the parameter, as the envelope's 400 must.

No parameter holds a NUL character, which PostgreSQL cannot store (SQLite can): a NUL in any
path or query parameter, declared or not, is a 400 naming the parameter, checked here before any
handler runs, so every operation answers it the same on SQLite and PostgreSQL. Declared text
parameters say so in the spec too (the pattern ``^[^\u0000]*$``); form fields are checked by
``mock/limits.py``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, MutableMapping
from typing import Any
from urllib.parse import parse_qsl

import jsonschema_rs
from connexion.exceptions import BadRequestProblem
from connexion.uri_parsing import OpenAPIURIParser
from connexion.validators.parameter import draft4_format_checker
from jsonschema import Draft4Validator

__all__ = [
    "MAX_FIELDS",
    "PARSED",
    "CompiledParameters",
    "TooManyFields",
    "VendorParameters",
    "VendorURIParsers",
    "first_values",
    "nul_parameter",
    "query_values",
]

# Where the parsed parameters wait in the scope's extensions for the operation.
PARSED = "uniqodo_mock.parameters"
# Where the query string, parsed once, waits in the scope's extensions.
_QUERY = "uniqodo_mock.query"
# A request carries at most this many query or form fields (x-source: simulator).
MAX_FIELDS = 1000


class TooManyFields(ValueError):
    """More fields than ``MAX_FIELDS`` (413 for a body, 400 for a query string)."""


def first_values(text: str, *, what: str, encoding: str = "utf-8") -> dict[str, str]:
    """``name=value&...`` (percent-decoded, UTF-8) as a dict of each name's first value.
    Raises ``UnicodeDecodeError`` for bytes that are not UTF-8 and ``TooManyFields``."""
    if not text:
        return {}
    try:
        pairs = parse_qsl(
            text,
            keep_blank_values=True,
            encoding=encoding,
            errors="strict",
            max_num_fields=MAX_FIELDS,
        )
    except ValueError as error:
        if isinstance(error, UnicodeDecodeError):
            raise
        raise TooManyFields(f"The {what} may hold at most {MAX_FIELDS} fields.") from None
    values: dict[str, str] = {}
    for name, value in pairs:
        values.setdefault(name, value)
    return values


def query_values(scope: MutableMapping[str, Any]) -> dict[str, str]:
    """The request's query string as ``first_values`` gives it, parsed once per request
    (the fault rules look for a ``uid`` before the parameters are checked); raises as
    ``first_values`` does. Callers read it, never change it."""
    extensions = scope.setdefault("extensions", {})
    values: dict[str, str] | None = extensions.get(_QUERY)
    if values is None:
        query = scope.get("query_string", b"").decode("latin-1")
        values = extensions[_QUERY] = first_values(query, what="query")
    return values


def nul_parameter(pairs: Iterable[tuple[str, object]]) -> str | None:
    """The first name among ``(name, value)`` pairs whose name or text value holds a NUL
    character, shown with the NUL as ``\\0``; None when there is none."""
    for name, value in pairs:
        if "\x00" in name or (isinstance(value, str) and "\x00" in value):
            return name.replace("\x00", "\\0")
    return None


def _nul_problem(kind: str, name: str) -> BadRequestProblem:
    return BadRequestProblem(detail=f"{kind} parameter '{name}' must not contain NUL characters")


def _describe(error: Any) -> str:
    kind = error.validator
    schema = error.schema
    if kind == "type":
        return f"must be of type {schema['type']}, got {error.instance!r}"
    if kind == "pattern":
        return f"must match {schema['pattern']}, got {error.instance!r}"
    if kind == "enum":
        return f"must be one of {', '.join(map(str, schema['enum']))}, got {error.instance!r}"
    if kind in ("minLength", "maxLength"):
        bound = "at least" if kind == "minLength" else "at most"
        return f"must be {bound} {schema[kind]} characters long"
    if kind in ("minimum", "maximum"):
        bound = "at least" if kind == "minimum" else "at most"
        return f"must be {bound} {schema[kind]}, got {error.instance!r}"
    return str(error.message)


class _Check:
    """One parameter's schema: checked with jsonschema-rs (compiled, in Rust); a value that
    fails is described with jsonschema's own error, for the message."""

    def __init__(self, schema: dict[str, Any]) -> None:
        self.schema = schema
        self.is_valid = jsonschema_rs.Draft4Validator(schema).is_valid

    def first_error(self, value: Any) -> Any:
        validator = Draft4Validator(self.schema, format_checker=draft4_format_checker)
        return next(iter(validator.iter_errors(value)), None)


class CompiledParameters:
    """One operation's parameters, with a validator compiled per parameter."""

    def __init__(self, parameters: list[dict[str, Any]]) -> None:
        self.parameters = parameters  # held: the cache is keyed by its identity
        self.path: list[tuple[str, _Check]] = []
        self.query: list[tuple[str, _Check, bool]] = []
        for param in parameters:
            check = _Check(param.get("schema", param))
            if param["in"] == "path":
                self.path.append((param["name"], check))
            elif param["in"] == "query":
                self.query.append((param["name"], check, bool(param.get("required"))))

    def validate(self, scope: MutableMapping[str, Any]) -> None:
        """Raise connexion's ``BadRequestProblem`` (rendered as the envelope's 400) for the
        first parameter that does not fit; keep the parsed query in the scope."""
        try:
            query = query_values(scope)
        except UnicodeDecodeError:
            raise BadRequestProblem(detail="The query string is not valid UTF-8") from None
        except TooManyFields as error:
            raise BadRequestProblem(detail=str(error)) from None
        path_params: Mapping[str, Any] = scope.get("path_params", {})
        # Before the schemas, for every parameter alike (undeclared ones are kept by some
        # operations, such as a redemption's custom parameters).
        for kind, values in (("Path", path_params), ("Query", query)):
            nul = nul_parameter(values.items())
            if nul is not None:
                raise _nul_problem(kind, nul)
        for name, check in self.path:
            _check("Path", name, path_params.get(name), check, required=True)
        for name, check, required in self.query:
            _check("Query", name, query.get(name), check, required=required)
        scope.setdefault("extensions", {})[PARSED] = query


def _check(kind: str, name: str, value: Any, check: _Check, *, required: bool) -> None:
    if value is None:
        if required:
            raise BadRequestProblem(detail=f"Missing {kind.lower()} parameter '{name}'")
        return
    if check.is_valid(value):
        return
    error = check.first_error(value)
    detail = _describe(error) if error is not None else "does not fit its schema"
    raise BadRequestProblem(detail=f"{kind} parameter '{name}' {detail}")


class VendorParameters:
    """The ``validator_map["parameter"]`` entry: connexion calls it per request with the
    operation's parameter list; it answers that operation's compiled parameters."""

    def __init__(self) -> None:
        self._compiled: dict[int, CompiledParameters] = {}

    def __call__(
        self, parameters: list[dict[str, Any]], *_args: Any, **_kwargs: Any
    ) -> CompiledParameters:
        compiled = self._compiled.get(id(parameters))
        if compiled is None or compiled.parameters is not parameters:
            compiled = self._compiled[id(parameters)] = CompiledParameters(parameters)
        return compiled


class VendorURIParsers:
    """The ``uri_parser_class`` entry of the vendor API: connexion builds a URI parser per
    request for its parameter validator, which for this API (``VendorParameters``) reads the
    query itself. One parser per operation, built once, answers connexion's request."""

    def __init__(self) -> None:
        self._parsers: dict[int, tuple[list[dict[str, Any]], OpenAPIURIParser]] = {}

    def __call__(self, parameters: list[dict[str, Any]], body: dict[str, Any]) -> Any:
        found = self._parsers.get(id(parameters))
        if found is None or found[0] is not parameters:
            found = self._parsers[id(parameters)] = (parameters, OpenAPIURIParser(parameters, body))
        return found[1]
