"""The validation lock: while a unique code is locked, only the session that first applied it
may re-validate it (docs: per account, N minutes, unique codes only).

The session identity is what the integration sends back on re-validation: ``journeyId`` (or
``sessionId``), else ``pn`` (the previous ``val_key``). A first validation without either is a
new session identified by the ``val_key`` it receives, which the client sends back as ``pn``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from uniqodo_mock.core.errors import VendorError
from uniqodo_mock.core.model import Code, Offer

__all__ = ["LOCKED_CODE_TYPES", "SESSION_PARAMETERS", "Lock", "lock_for", "session_of"]

# Only unique codes lock: a repeat code is shared by design (secure codes are unique too).
LOCKED_CODE_TYPES = frozenset({"unique", "secure"})
SESSION_PARAMETERS = ("journeyId", "sessionId", "pn")


@dataclass(frozen=True)
class Lock:
    session: str
    until: datetime
    # Set when this validation opened a new session: its val_key identifies it from now on.
    new_val_key: str | None = None


def session_of(params: Mapping[str, str]) -> str | None:
    for name in SESSION_PARAMETERS:
        value = (params.get(name) or "").strip()
        if value:
            return value
    return None


def lock_for(
    code: Code,
    offer: Offer,
    params: Mapping[str, str],
    now: datetime,
    minutes: int | None,
    fresh_val_key: str,
) -> Lock | None:
    """The lock to store after this validation, or None when the offer does not lock.

    Raises ``code_locked`` while another session holds an unexpired lock."""
    if not minutes or offer.code_type not in LOCKED_CODE_TYPES:
        return None
    session = session_of(params)
    if (
        code.lock_session is not None
        and code.lock_until is not None
        and now < code.lock_until
        and (session is None or session != code.lock_session)
    ):
        raise VendorError(
            "code_locked",
            f"code {code.code} is locked by another session until {code.lock_until.isoformat()}",
            rule="validation_lock_minutes",
            looked_up=code.code,
            locked_until=code.lock_until.isoformat(),
        )
    until = now + timedelta(minutes=minutes)
    if session is None:
        # A new session: a fresh val_key, so an earlier session's val_key no longer matches.
        return Lock(fresh_val_key, until, new_val_key=fresh_val_key)
    return Lock(session, until)
