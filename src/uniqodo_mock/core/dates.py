"""Date formats of the API.

Offer dates travel as ``DD-MM-YYYY HH:MM:SS`` with no zone, in the platform's local time;
``redeemed_at`` as ISO-8601 with a ``+0100``-style offset; callback ``redeemedAt`` in UTC
(``+0000``). The database keeps naive UTC.
"""

from __future__ import annotations

import functools
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

__all__ = [
    "OFFER_DATE_FORMAT",
    "format_iso_offset",
    "format_iso_utc",
    "format_offer_date",
    "from_db",
    "parse_duration",
    "parse_offer_date",
    "to_db",
]

OFFER_DATE_FORMAT = "%d-%m-%Y %H:%M:%S"
_DURATION = re.compile(r"^\s*(\d+)\s*([smhdw]?)\s*$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def to_db(moment: datetime) -> datetime:
    """An aware datetime as the naive UTC value the database stores."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime given where an aware one is needed")
    return moment.astimezone(UTC).replace(tzinfo=None)


def from_db(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC)


def parse_offer_date(text: str, zone: ZoneInfo) -> datetime:
    """``DD-MM-YYYY HH:MM:SS`` in the platform's zone, or ISO-8601 with an offset."""
    text = text.strip()
    try:
        return datetime.strptime(text, OFFER_DATE_FORMAT).replace(tzinfo=zone)
    except ValueError:
        pass
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)


def format_offer_date(moment: datetime | None, zone: ZoneInfo) -> str:
    if not moment:
        return ""
    return _formatted_offer_date(moment, zone)


# Answers repeat the same few dates (an offer's end, a code's expiry) on every request: a
# lookup is much cheaper than converting and formatting again.
@functools.lru_cache(maxsize=4096)
def _formatted_offer_date(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime(OFFER_DATE_FORMAT)


def format_iso_offset(moment: datetime, zone: ZoneInfo | None) -> str:
    """``2019-05-15T08:55:37+0100``: in ``zone``, or in UTC (``+0000``) when ``zone`` is None."""
    local = moment.astimezone(zone or UTC)
    return local.strftime("%Y-%m-%dT%H:%M:%S%z")


def parse_duration(value: int | str) -> timedelta:
    """``3600``, ``"90m"``, ``"12h"``, ``"30d"``, ``"2w"`` → a timedelta."""
    if isinstance(value, int):
        return timedelta(seconds=value)
    match = _DURATION.match(value)
    if not match:
        raise ValueError(f"{value!r} is not a duration (examples: 3600, 90m, 12h, 30d, 2w)")
    return timedelta(seconds=int(match.group(1)) * _UNITS[match.group(2)])


def format_iso_utc(moment: datetime) -> str:
    """``2019-05-15T07:55:37.000Z``: ISO-8601 in UTC with milliseconds, as JavaScript's
    ``Date.prototype.toISOString`` writes it (the Reward API's dates, simulator)."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"
