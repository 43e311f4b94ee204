"""The platform's rules, as pure checks: each raises ``VendorError`` or returns quietly.

The service calls them in the order the platform applies them, so the first failing rule is
the error a partner sees.
"""

from __future__ import annotations

from datetime import UTC, datetime

from uniqodo_mock.core.codes import normalise_user
from uniqodo_mock.core.errors import VendorError
from uniqodo_mock.core.model import Account, Code, Offer

__all__ = [
    "NEVER",
    "check_code_expiry",
    "check_code_uses",
    "check_distributor_may_promote",
    "check_merchant_key",
    "check_secure_email",
    "check_window",
    "expiry_changes_at",
    "redemption_limit_reached",
    "window_changes_at",
]

# A moment no clock reaches: "time alone never changes this answer".
NEVER = datetime.max.replace(tzinfo=UTC)


def check_merchant_key(account: Account, merchant_id: int) -> None:
    """The key must be a merchant key, of the merchant named in the path."""
    if account.merchant_id is None:
        raise VendorError(
            "wrong_key_kind", "a distributor key was used where a merchant key is needed"
        )
    if account.merchant_id != merchant_id:
        raise VendorError(
            "wrong_key_kind",
            f"the key belongs to merchant {account.merchant_id}, not merchant {merchant_id}",
            parameter="merchant_id",
        )


def check_distributor_may_promote(account: Account, offer: Offer, authorised: bool) -> None:
    if not authorised:
        raise VendorError(
            "offer_not_authorised",
            f"distributor {account.distributor_id} is not authorised to promote offer {offer.id}",
            looked_up=str(offer.id),
        )


def check_window(offer: Offer, now: datetime) -> None:
    """Status first, then the promotion window ``start_date``..``end_date``."""
    if offer.status == "paused":
        raise VendorError("promotion_paused", f"offer {offer.id} is paused", rule="status")
    if offer.status == "ended":
        raise VendorError("promotion_ended", f"offer {offer.id} has status 'ended'", rule="status")
    if now < offer.start_at:
        raise VendorError(
            "promotion_not_started",
            f"offer {offer.id} starts at {offer.start_at.isoformat()}, now is {now.isoformat()}",
            rule="start_date",
        )
    if now > offer.end_at:
        raise VendorError(
            "promotion_ended",
            f"offer {offer.id} ended at {offer.end_at.isoformat()}, now is {now.isoformat()}",
            rule="end_date",
        )


def check_code_expiry(code: Code, now: datetime) -> None:
    if code.expires_at is not None and now > code.expires_at:
        raise VendorError(
            "code_expired",
            f"code {code.code} expired at {code.expires_at.isoformat()}",
            rule="code_expiry",
            looked_up=code.code,
        )


def redemption_limit_reached(code: Code, offer: Offer) -> bool:
    return offer.redemption_per_code is not None and code.uses >= offer.redemption_per_code


def check_code_uses(code: Code, offer: Offer) -> None:
    if redemption_limit_reached(code, offer):
        raise VendorError(
            "already_redeemed",
            f"code {code.code} has been redeemed {code.uses} time(s); "
            f"redemption_per_code is {offer.redemption_per_code}",
            rule="redemption_per_code",
            looked_up=code.code,
        )


def check_secure_email(code: Code, offer: Offer, email: str | None) -> None:
    """A secure code is bound to the customer it was issued to; validation needs that email."""
    if offer.code_type != "secure":
        return
    if not email:
        raise VendorError(
            "secure_email_mismatch",
            f"code {code.code} is secure: the email it was issued to is required",
            parameter="email",
        )
    if code.issued_to is None or normalise_user(email) != normalise_user(code.issued_to):
        raise VendorError(
            "secure_email_mismatch",
            f"code {code.code} is bound to another customer than {email!r}",
            parameter="email",
        )


def window_changes_at(offer: Offer, now: datetime) -> datetime:
    """The next moment ``check_window``'s verdict for the offer can change: its start, its
    end, or never (paused and ended offers, and a window already over)."""
    if offer.status in ("paused", "ended"):
        return NEVER
    if now < offer.start_at:
        return offer.start_at
    if now <= offer.end_at:
        return offer.end_at
    return NEVER


def expiry_changes_at(code: Code | None, now: datetime) -> datetime:
    """The moment ``check_code_expiry``'s verdict for the code changes (or never)."""
    if code is None or code.expires_at is None or now > code.expires_at:
        return NEVER
    return code.expires_at
