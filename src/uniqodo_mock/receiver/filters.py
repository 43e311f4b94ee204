"""Filters over recorded calls, parsed from query parameters. Pure: no database, no web.

Syntax (all optional, combined with AND):

- ``method=POST`` (comma-separated for several: ``method=GET,POST``; case-insensitive);
- ``path=/hook`` exact, or with ``*`` wildcards: ``path=/hooks/*``;
- ``since=`` / ``until=`` ISO-8601 (``2024-05-01T10:00:00Z``, offset allowed; a naive time is
  UTC); ``since`` is inclusive, ``until`` exclusive;
- ``param=NAME:VALUE`` (repeatable, up to ``MAX_PARAM_FILTERS`` times): some query, form or
  JSON field ``NAME`` equals ``VALUE``; ``param=NAME`` alone: the field is present. Only the
  first ``:`` splits, so values may hold colons (``param=redeemedAt:2015-05-29T10:39:17+0000``);
- ``callback=true|false``: looks like a Uniqodo callback; ``conforms=true|false``;
- ``after=ID``: the cursor, calls with a greater id only; ``limit=N`` page size.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime

__all__ = [
    "DEFAULT_LIMIT",
    "MAX_ID",
    "MAX_LIMIT",
    "MAX_PARAM_FILTERS",
    "CallFilter",
    "FilterError",
    "parse_filter",
    "parse_time",
]

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
MAX_ID = 2**63 - 1
# Each ``param`` filter is one EXISTS subquery: thousands of them overflow SQLite's expression
# depth and take PostgreSQL's planner minutes. QA filters on a few fields.
MAX_PARAM_FILTERS = 20
_INTEGER = re.compile(r"^[+-]?[0-9]+$")
_LEAP_SECOND = re.compile(r"(T\d{2}:\d{2}):60")
_METHOD = re.compile(r"^[A-Za-z]{1,20}$")
FILTER_KEYS = (
    "method",
    "path",
    "since",
    "until",
    "param",
    "callback",
    "conforms",
    "after",
    "limit",
)


class FilterError(ValueError):
    """A filter parameter could not be understood; ``parameter`` names it for the 400 answer."""

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(f"{parameter}: {message}")
        self.parameter = parameter
        self.message = message


@dataclass(frozen=True, slots=True)
class CallFilter:
    """A parsed filter. Times are integer microseconds since the epoch, like the store's."""

    methods: tuple[str, ...] = ()
    path: str | None = None
    since: int | None = None
    until: int | None = None
    params: tuple[tuple[str, str | None], ...] = ()
    callback: bool | None = None
    conforms: bool | None = None
    after: int | None = None
    limit: int = DEFAULT_LIMIT

    def with_after(self, after: int | None) -> CallFilter:
        return replace(self, after=after)

    def path_is_pattern(self) -> bool:
        return self.path is not None and "*" in self.path

    def is_empty(self) -> bool:
        """True when nothing but the page parameters is set (``DELETE`` then means "all")."""
        return not (
            self.methods
            or self.path is not None
            or self.since is not None
            or self.until is not None
            or self.params
            or self.callback is not None
            or self.conforms is not None
            or self.after is not None
        )


def parse_time(parameter: str, text: str) -> int:
    """ISO-8601 (RFC 3339) → microseconds since the epoch."""
    text = text.strip()
    if not text:
        raise FilterError(parameter, "is empty; give an ISO-8601 time")
    iso = text.replace("Z", "+00:00").replace("z", "+00:00")
    iso = _LEAP_SECOND.sub(r"\1:59", iso)  # RFC 3339 allows :60; Python does not
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        raise FilterError(
            parameter, f"{text!r} is not an ISO-8601 time (2024-05-01T10:00:00Z)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return round(moment.timestamp() * 1_000_000)


def _parse_bool(parameter: str, text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("true", "1", "yes"):
        return True
    if lowered in ("false", "0", "no"):
        return False
    raise FilterError(parameter, f"{text!r} is not true or false")


def _parse_int(parameter: str, text: str, *, minimum: int, maximum: int | None = None) -> int:
    # ASCII digits only: int() would also take "1_000" and other scripts' digits.
    if not _INTEGER.match(text.strip()):
        raise FilterError(parameter, f"{text!r} is not an integer")
    value = int(text.strip())
    if value < minimum or (maximum is not None and value > maximum):
        bound = f"between {minimum} and {maximum}" if maximum is not None else f">= {minimum}"
        raise FilterError(parameter, f"{value} is out of range (must be {bound})")
    if value > MAX_ID:
        raise FilterError(parameter, f"{value} is out of range (must be <= {MAX_ID})")
    return value


def _parse_param(text: str) -> tuple[str, str | None]:
    name, sep, value = text.partition(":")
    if not name:
        raise FilterError("param", f"{text!r} has no name; write param=NAME:VALUE or param=NAME")
    return (name, value if sep else None)


def parse_filter(
    items: Iterable[tuple[str, str]] | Mapping[str, str],
    *,
    ignore: Iterable[str] = (),
    max_limit: int = MAX_LIMIT,
) -> CallFilter:
    """Build a filter from query items (a multi-dict's ``multi_items()`` or pairs).

    Unknown keys raise ``FilterError`` unless listed in ``ignore`` (the caller's own parameters,
    e.g. ``timeout``, ``format``, ``token``), so a typo never silently widens a ``DELETE``.
    """
    pairs = list(items.items()) if isinstance(items, Mapping) else list(items)
    ignored = set(ignore)
    methods: list[str] = []
    params: list[tuple[str, str | None]] = []
    values: dict[str, object] = {}
    for key, raw in pairs:
        if key in ignored:
            continue
        if key == "method":
            for part in raw.split(","):
                part = part.strip()
                if not _METHOD.match(part):
                    raise FilterError("method", f"{part!r} is not an HTTP method name")
                methods.append(part.upper())
        elif key == "param":
            if len(params) == MAX_PARAM_FILTERS:
                raise FilterError("param", f"is given more than {MAX_PARAM_FILTERS} times")
            params.append(_parse_param(raw))
        elif key in values:
            raise FilterError(key, "is given more than once")
        elif key == "path":
            if not raw.startswith("/"):
                raise FilterError("path", f"{raw!r} must start with /")
            values[key] = raw
        elif key in ("since", "until"):
            values[key] = parse_time(key, raw)
        elif key in ("callback", "conforms"):
            values[key] = _parse_bool(key, raw)
        elif key == "after":
            values[key] = _parse_int(key, raw, minimum=0)
        elif key == "limit":
            values[key] = _parse_int(key, raw, minimum=1, maximum=max_limit)
        else:
            raise FilterError(key, f"unknown parameter; filters are {', '.join(FILTER_KEYS)}")
    return CallFilter(
        methods=tuple(dict.fromkeys(methods)),
        params=tuple(params),
        **values,  # type: ignore[arg-type]
    )
