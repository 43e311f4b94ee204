"""The Code Query API (publisher) and the User Redemption Query (distributor): one user's
redemptions on a promotion. Unknown promotions and users are answered with the documented
default values beside the error (docs 2.5)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from uniqodo_mock.core import rules
from uniqodo_mock.core.codes import normalise_user
from uniqodo_mock.core.errors import VendorError
from uniqodo_mock.core.model import Code, Offer, Redemption
from uniqodo_mock.core.money import round_money
from uniqodo_mock.core.views import offer_json, redemption_json
from uniqodo_mock.service.lookups import distributor_and_offer
from uniqodo_mock.service.state import Outcome, ServiceState
from uniqodo_mock.store.repository import Connection

__all__ = ["Queries", "records_json"]

# Query failures answered with the documented default values beside the error (docs 2.5).
_ANSWERED_WITH_DEFAULTS = frozenset({"unknown_offer", "unknown_code"})


def records_json(records: list[Redemption], state: ServiceState) -> dict[str, Any]:
    """``{"records": [...], "total": n}``, as both queries answer a user's redemptions."""
    zone = state.settings.zone
    return {"records": [redemption_json(r, zone) for r in records], "total": len(records)}


class Queries:
    def __init__(self, state: ServiceState) -> None:
        self.state = state

    def _customer_history(
        self, conn: Connection, api_key: str, promotion_uuid: str, user_id: str, now: datetime
    ) -> tuple[Offer, list[Code], list[Redemption], datetime]:
        """The promotion, the codes issued to the user and the user's redemptions, and until
        when time alone leaves the answer as it is. An unknown promotion or user raises (the
        callers answer it with the documented default values beside the error)."""
        repo = self.state.repo
        found = repo.key_and_offer(conn, api_key, promotion_uuid=promotion_uuid)
        _account, offer = distributor_and_offer(found, api_key, promotion_uuid=promotion_uuid)
        norm = normalise_user(user_id)
        held = repo.codes_of_user(conn, offer.id, norm)
        records = repo.redemptions_of_customer(conn, offer.id, norm, [code.id for code in held])
        if not held and not records:
            raise VendorError(
                "unknown_code",
                f"user {user_id!r} has no code or redemption on promotion {promotion_uuid}",
                parameter="userId",
                looked_up=user_id,
            )
        code = held[-1] if held else None
        until = min(rules.window_changes_at(offer, now), rules.expiry_changes_at(code, now))
        return offer, held, records, until

    def publisher_query(self, api_key: str, promotion_uuid: str, user_id: str) -> Outcome:
        """Code Query: the user's redemptions on a promotion, the offer, and an error when the
        user's code can no longer be used."""
        state = self.state
        now = state.clock.now()
        try:
            with state.repo.read() as conn:
                offer, held, records, until = self._customer_history(
                    conn, api_key, promotion_uuid, user_id, now
                )
        except VendorError as error:
            if error.key in _ANSWERED_WITH_DEFAULTS:
                empty = {"redemption": {"records": [], "total": 0}, "offer": None}
                return Outcome(empty, [error], keep_until=rules.NEVER)
            error.keep_until = rules.NEVER
            raise
        code = held[-1] if held else None
        data = {
            "redemption": records_json(records, state),
            "offer": offer_json(
                offer, state.settings.zone, code_remaining=_remaining(offer), code=code
            ),
        }
        errors: list[VendorError] = []
        if code is not None:
            try:
                rules.check_code_uses(code, offer)
                rules.check_code_expiry(code, now)
                rules.check_window(offer, now)
            except VendorError as error:
                error.reference = code.reference
                errors.append(error)
        return Outcome(data, errors, keep_until=until)

    def distributor_query(self, api_key: str, promotion_uuid: str, user_id: str) -> Outcome:
        """User Redemption Query: the user's totals and history on a promotion."""
        state = self.state
        now = state.clock.now()
        try:
            with state.repo.read() as conn:
                _offer, _held, records, _until = self._customer_history(
                    conn, api_key, promotion_uuid, user_id, now
                )
        except VendorError as error:
            if error.key in _ANSWERED_WITH_DEFAULTS:
                empty = {
                    "total_discount_value": 0,
                    "total_order_value": 0,
                    "redemption": {"records": [], "total": 0},
                }
                return Outcome(empty, [error], keep_until=rules.NEVER)
            error.keep_until = rules.NEVER
            raise
        # Totals and records are state alone: no time bound.
        return Outcome(
            {
                "total_discount_value": plain_number(
                    round_money(sum(r.discount_value for r in records))
                ),
                "total_order_value": plain_number(round_money(sum(r.order_value for r in records))),
                "redemption": records_json(records, state),
            },
            keep_until=rules.NEVER,
        )


def _remaining(offer: Offer) -> int | None:
    return None if offer.code_type == "repeat" else offer.pool_unissued


def plain_number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value
