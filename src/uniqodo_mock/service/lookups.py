"""The checks every operation starts with: the key's account and role, the offer it names,
and the code a merchant sent. Each raises the vendor error a partner would see."""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from contextlib import contextmanager

from uniqodo_mock.core import rules
from uniqodo_mock.core.codes import normalise_code
from uniqodo_mock.core.errors import VendorError
from uniqodo_mock.core.model import Account, Code, Offer
from uniqodo_mock.store.repository import Connection, KeyAndOffer, Repository

__all__ = [
    "about_code",
    "distributor_and_offer",
    "find_code",
    "require_account",
    "require_distributor",
    "require_merchant_account",
    "require_offer_by_uuid",
]


@contextmanager
def about_code(code: Code) -> Iterator[None]:
    """Vendor errors raised inside are about ``code``: they carry the reference fixtures gave
    it (``codes[].reference``), if any."""
    try:
        yield
    except VendorError as error:
        if error.reference is None:
            error.reference = code.reference
        raise


def require_account(account: Account | None, key: str, parameter: str = "api_key") -> Account:
    if account is None:
        raise VendorError(
            "unknown_api_key",
            f"no account has the key {key!r}",
            parameter=parameter,
            looked_up=key,
        )
    return account


def require_distributor(account: Account | None, key: str) -> Account:
    account = require_account(account, key)
    if account.distributor_id is None:
        raise VendorError(
            "wrong_key_kind",
            "a merchant key was used where a distributor key is needed",
            parameter="api_key",
        )
    return account


def require_merchant_account(repo: Repository, conn: Connection, key: str) -> Account:
    return require_account(repo.account(conn, key), key)


def distributor_and_offer(
    found: KeyAndOffer, key: str, *, offer_id: int | None = None, promotion_uuid: str | None = None
) -> tuple[Account, Offer]:
    """A distributor key and the offer it names, authorised for it (in that order of checks)."""
    account = require_distributor(found.account, key)
    offer = found.offer
    if offer is None:
        if offer_id is not None:
            raise VendorError(
                "unknown_offer",
                f"no offer has id {offer_id}",
                parameter="offer_id",
                looked_up=str(offer_id),
            )
        raise VendorError(
            "unknown_offer",
            f"no promotion has uuid {promotion_uuid}",
            parameter="promotion_uuid",
            looked_up=str(promotion_uuid),
        )
    rules.check_distributor_may_promote(account, offer, found.authorised)
    return account, offer


def require_offer_by_uuid(repo: Repository, conn: Connection, promotion_uuid: str) -> Offer:
    """The offer whose promotion uuid is ``promotion_uuid`` (the embeddable and enquiry paths)."""
    offer = repo.offer_by_uuid(conn, promotion_uuid)
    if offer is None:
        raise VendorError(
            "unknown_offer",
            f"no promotion has uuid {promotion_uuid}",
            parameter="promotion_uuid",
            looked_up=promotion_uuid,
        )
    return offer


def find_code(
    repo: Repository, conn: Connection, code_text: str, merchant_id: int
) -> tuple[Code, Offer]:
    """The merchant's code with this text (ignoring case and blanks), and its offer."""
    norm = normalise_code(code_text)
    found = repo.find_codes(conn, norm)
    mine = [(code, offer) for code, offer in found if offer.merchant_id == merchant_id]
    if not mine:
        if found:
            raise VendorError(
                "wrong_merchant",
                f"code {norm} belongs to merchant {found[0][1].merchant_id}, "
                f"not merchant {merchant_id}",
                parameter="code",
                looked_up=norm,
            )
        reason = f"no code {norm!r} exists for merchant {merchant_id}"
        master_of = repo.master_code_offers(conn, norm)
        if master_of:
            reason += (
                f"; {norm} is the master (trigger) code of offer {master_of[0]}: "
                "validate and redeem the customer's own code"
            )
        nearest = difflib.get_close_matches(
            norm, repo.codes_like(conn, merchant_id), n=1, cutoff=0.6
        )
        raise VendorError(
            "unknown_code",
            reason,
            parameter="code",
            looked_up=norm,
            nearest=nearest[0] if nearest else None,
        )
    # Several offers of one merchant may share a code text: prefer one still usable.
    code, offer = mine[0]
    for candidate, other in mine[1:]:
        if not rules.redemption_limit_reached(code, offer):
            break
        code, offer = candidate, other
    return code, offer
