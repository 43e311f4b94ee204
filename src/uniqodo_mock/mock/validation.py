"""Request parameter validation for connexion: validators compiled once per parameter (connexion's
own deep-copies the schema and builds a validator on every request), and messages that name the
parameter, as the vendor envelope's 400 must."""

from __future__ import annotations

from typing import Any

from connexion.utils import is_null, is_nullable
from connexion.validators.parameter import ParameterValidator, draft4_format_checker
from jsonschema import Draft4Validator

__all__ = ["NamedParameterValidator"]


class NamedParameterValidator(ParameterValidator):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._compiled: dict[int, Any] = {}

    def _validator_for(self, param: dict[str, Any]) -> Any:
        compiled = self._compiled.get(id(param))
        if compiled is None:
            schema = param.get("schema", param)
            compiled = Draft4Validator(schema, format_checker=draft4_format_checker)
            self._compiled[id(param)] = compiled
        return compiled

    def validate_parameter(  # type: ignore[override]
        self, parameter_type: str, value: Any, param: dict[str, Any], param_name: str | None = None
    ) -> str | None:
        name = param.get("name", param_name)
        if is_nullable(param) and is_null(value):
            return None
        if value is None:
            if param.get("required"):
                return f"Missing {parameter_type} parameter '{name}'"
            return None
        error = next(iter(self._validator_for(param).iter_errors(value)), None)
        if error is None:
            return None
        return f"{parameter_type.capitalize()} parameter '{name}' {_describe(error)}"


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
        return f"must be {'at least' if kind == 'minLength' else 'at most'} {schema[kind]} characters long"
    if kind in ("minimum", "maximum"):
        return f"must be {'at least' if kind == 'minimum' else 'at most'} {schema[kind]}, got {error.instance!r}"
    return error.message
