"""Vendor errors and the error catalogue.

The core raises ``VendorError(key, ...)`` with a symbolic key; the catalogue turns the key into
the vendor's number, HTTP status and localised message. The catalogue's defaults live in
``default_errors.yaml``; a fixture file can override any entry, so a partner who learns the real
platform's numbers changes them without code.
"""

from __future__ import annotations

import copy
import functools
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

__all__ = ["CatalogueEntry", "ErrorCatalogue", "ErrorDetail", "VendorError", "default_catalogue"]

_DEFAULTS = Path(__file__).with_name("default_errors.yaml")


@dataclass(frozen=True)
class CatalogueEntry:
    key: str
    code: int
    http_status: int
    source: str
    messages: dict[str, str]
    # A reference every answer with this error carries (fixtures: the docs' TCJGGJGF on
    # unknown_code); "" answers it without a reference; None derives it from the request.
    reference: str | None = None

    def message(self, locale: str | None) -> str:
        language = (locale or "en").split("_")[0].split("-")[0].lower()
        return (
            self.messages.get(language)
            or self.messages.get("en")
            or next(iter(self.messages.values()), self.key)
        )


@dataclass
class ErrorDetail:
    """Why an error happened, for the request journal: never sent to the client as-is."""

    reason: str
    parameter: str | None = None
    rule: str | None = None
    looked_up: str | None = None
    nearest: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"reason": self.reason}
        for name in ("parameter", "rule", "looked_up", "nearest"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        if self.extra:
            out.update(self.extra)
        return out


class VendorError(Exception):
    """A failure the API reports in ``errors[]``."""

    def __init__(
        self,
        key: str,
        reason: str,
        *,
        parameter: str | None = None,
        rule: str | None = None,
        looked_up: str | None = None,
        nearest: str | None = None,
        promotion_specific_error: str | None = None,
        message: str | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(f"{key}: {reason}")
        self.key = key
        self.detail = ErrorDetail(reason, parameter, rule, looked_up, nearest, extra)
        self.promotion_specific_error = promotion_specific_error
        # A message that replaces the catalogue's (e.g. naming the malformed parameter).
        self.message = message
        # The reference of the code the error is about, when fixtures gave it one (see
        # ``CatalogueEntry.reference``): set by the service where it knows the code.
        self.reference: str | None = None
        # Set by read-only operations: until when (on the mock's clock) the same request meets
        # the same error while the stored state is unchanged; None: the answer is not kept.
        self.keep_until: datetime | None = None


class ErrorCatalogue:
    """Symbolic error keys → vendor numbers, HTTP statuses and messages per locale."""

    def __init__(self, entries: dict[str, CatalogueEntry]) -> None:
        self._entries = entries

    @classmethod
    def from_mapping(cls, raw: dict[str, dict[str, Any]]) -> ErrorCatalogue:
        return cls(
            {
                key: CatalogueEntry(
                    key=key,
                    code=int(value["code"]),
                    http_status=int(value.get("http_status", 200)),
                    source=str(value.get("source", "simulator")),
                    messages=dict(value.get("messages") or {}),
                    reference=(value["reference"] or "") if "reference" in value else None,
                )
                for key, value in raw.items()
            }
        )

    def with_overrides(self, overrides: dict[str, dict[str, Any]] | None) -> ErrorCatalogue:
        """A copy with ``overrides`` merged in (per key: any of code, http_status, messages)."""
        if not overrides:
            return self
        raw = self.to_mapping()
        for key, change in overrides.items():
            entry = raw.setdefault(key, {"code": 0, "http_status": 200, "source": "simulator"})
            for name in ("code", "http_status", "source", "reference"):
                if name in change:
                    entry[name] = change[name]
            if "messages" in change:
                entry["messages"] = {**entry.get("messages", {}), **change["messages"]}
        return ErrorCatalogue.from_mapping(raw)

    def to_mapping(self) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for key, entry in self._entries.items():
            out[key] = {
                "code": entry.code,
                "http_status": entry.http_status,
                "source": entry.source,
                "messages": dict(entry.messages),
            }
            if entry.reference is not None:
                out[key]["reference"] = entry.reference
        return out

    def __getitem__(self, key: str) -> CatalogueEntry:
        return self._entries[key]

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._entries.values())

    def keys(self) -> list[str]:
        return list(self._entries)


@functools.cache
def _default_mapping() -> dict[str, dict[str, Any]]:
    with _DEFAULTS.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def default_catalogue() -> ErrorCatalogue:
    return ErrorCatalogue.from_mapping(copy.deepcopy(_default_mapping()))
