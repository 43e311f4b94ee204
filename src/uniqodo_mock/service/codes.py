"""The Code API (``GET /code``) and embeddable codes: a code for a customer, the same code
again for the same customer, taken from the offer's pool."""

from __future__ import annotations

import random
from datetime import datetime
from typing import Any

from uniqodo_mock.core import rules
from uniqodo_mock.core.codes import normalise_user
from uniqodo_mock.core.errors import VendorError
from uniqodo_mock.core.model import Code, Offer
from uniqodo_mock.core.money import MysteryChoice, draw_mystery
from uniqodo_mock.core.views import code_discount, format_end_date
from uniqodo_mock.service.lookups import distributor_and_offer, require_offer_by_uuid
from uniqodo_mock.service.state import Outcome, ServiceState
from uniqodo_mock.store.repository import Connection

__all__ = ["CodeIssuing"]

_EMBEDDABLE_FIELDS = ("code", "url", "endDate", "discount", "offer_id", "promotion_uuid")


class CodeIssuing:
    def __init__(self, state: ServiceState) -> None:
        self.state = state

    def issue_code(self, api_key: str, offer_id: int, uid: str | None) -> Outcome:
        """``GET /code/{api_key}/{offer_id}?uid=``: a code for a customer (the same again for
        the same ``uid``), taken from the offer's pool. One transaction: a customer who holds
        a code already is answered without writing (and the answer may be kept)."""
        offer, code, keep_until = self.code_for(api_key, uid, offer_id=offer_id)
        return Outcome(self.code_data(offer, code), keep_until=keep_until)

    def code_for(
        self,
        api_key: str,
        uid: str | None,
        *,
        offer_id: int | None = None,
        promotion_uuid: str | None = None,
    ) -> tuple[Offer, Code, datetime | None]:
        """The code a distributor key gives a customer of an offer (by id or promotion uuid):
        the one the customer holds, else a new one from the pool. Also until when the same
        call gets the same answer (None: this call wrote). Raises ``VendorError`` (with its
        ``keep_until``) for a key, offer or window that does not allow it."""
        state = self.state
        now = state.clock.now()
        keep_until = rules.NEVER
        try:
            with state.repo.write() as conn:
                found = state.repo.key_and_offer(
                    conn, api_key, offer_id=offer_id, promotion_uuid=promotion_uuid
                )
                account, offer = distributor_and_offer(
                    found, api_key, offer_id=offer_id, promotion_uuid=promotion_uuid
                )
                keep_until = rules.window_changes_at(offer, now)
                rules.check_window(offer, now)
                code = self._existing_code(conn, offer, uid)
                if code is not None:
                    return offer, code, keep_until
                code = self._issue_new(conn, offer, uid, account.distributor_id, now)
        except VendorError as error:
            error.keep_until = keep_until
            raise
        return offer, code, None

    def embeddable_code(
        self, claim_credential: str, promotion_uuid: str, uid: str | None, email: str | None
    ) -> Outcome:
        """Embeddable codes, click-to-reveal and HTML buttons, content gates: a code for the
        visitor, by a distributor key or the promotion's own claim credential."""
        state = self.state
        repo = state.repo
        now = state.clock.now()
        customer = uid or email
        keep_until = rules.NEVER
        try:
            with repo.read() as conn:
                offer = require_offer_by_uuid(repo, conn, promotion_uuid)
                keep_until = rules.window_changes_at(offer, now)
                distributor_id = self._claim_distributor(conn, claim_credential, offer)
                rules.check_window(offer, now)
                existing = self._existing_code(conn, offer, customer)
        except VendorError as error:
            error.keep_until = keep_until
            raise
        outcome_keep: datetime | None = keep_until
        if existing is None:
            with repo.write() as conn:
                existing = self._issue_new(conn, offer, customer, distributor_id, now)
            outcome_keep = None
        data = self.code_data(offer, existing)
        return Outcome({key: data[key] for key in _EMBEDDABLE_FIELDS}, keep_until=outcome_keep)

    def _claim_distributor(self, conn: Connection, credential: str, offer: Offer) -> int | None:
        if credential == offer.config.get("claim_credential"):
            return None
        repo = self.state.repo
        account = repo.account(conn, credential)
        if account is None:
            raise VendorError(
                "unknown_api_key",
                "the claim credential is neither a distributor key nor the promotion's "
                "claim credential",
                parameter="claim_credential",
            )
        if account.distributor_id is None:
            raise VendorError(
                "wrong_key_kind",
                "a merchant key cannot claim embeddable codes",
                parameter="claim_credential",
            )
        rules.check_distributor_may_promote(
            account, offer, repo.is_authorised(conn, offer.id, account.distributor_id)
        )
        return account.distributor_id

    def _existing_code(self, conn: Connection, offer: Offer, uid: str | None) -> Code | None:
        repo = self.state.repo
        if offer.code_type == "repeat":
            generic = repo.generic_code(conn, offer.id)
            if generic is None:
                raise VendorError("sold_out", f"repeat offer {offer.id} has no generic code")
            return generic
        if offer.code_type == "secure" and not uid:
            raise VendorError(
                "uid_required",
                f"offer {offer.id} issues secure codes: uid is required",
                parameter="uid",
            )
        if not uid:
            return None
        held = repo.codes_of_user(conn, offer.id, normalise_user(uid))
        if not held:
            return None
        unused = [code for code in held if not rules.redemption_limit_reached(code, offer)]
        if unused:
            return unused[-1]
        return held[-1] if len(held) >= offer.codes_per_customer else None

    def _issue_new(
        self,
        conn: Connection,
        offer: Offer,
        uid: str | None,
        distributor_id: int | None,
        now: datetime,
    ) -> Code:
        repo = self.state.repo
        if uid and repo.is_postgres:
            # Re-check under the customer's lock: two first requests of one customer must not
            # both take a code. (A SQLite write transaction holds the database's write lock
            # from its start.)
            repo.lock_customer(conn, offer.id, normalise_user(uid))
            existing = self._existing_code(conn, offer, uid)
            if existing is not None:
                return existing
        expires_at = now + offer.code_expiry if offer.code_expiry else None
        code = repo.claim_pool_code(
            conn,
            offer.id,
            now=now,
            user=uid,
            user_norm=normalise_user(uid) if uid else None,
            distributor_id=distributor_id,
            expires_at=expires_at,
            discount_amount=self._mystery_draw(offer, uid, now),
        )
        if code is None:
            raise VendorError(
                "sold_out", f"offer {offer.id} has no unissued code left", rule="code_remaining"
            )
        return code

    def _mystery_draw(self, offer: Offer, uid: str | None, now: datetime) -> float | None:
        choices = offer.config.get("mystery_discounts")
        if not choices:
            return None
        seed = self.state.settings.seed
        rng = random.Random(f"{seed}:{offer.id}:{uid or ''}:{now.isoformat()}")
        return draw_mystery(
            [MysteryChoice(float(c["amount"]), float(c.get("weight", 1))) for c in choices], rng
        )

    def code_data(self, offer: Offer, code: Code) -> dict[str, Any]:
        zone = self.state.settings.zone
        return {
            "code": code.code,
            "url": offer.landing_url(code.code),
            "endDate": format_end_date(offer.end_at, zone),
            "offer_id": offer.id,
            "promotion_uuid": offer.promotion_uuid,
            "expires_at": format_end_date(code.expires_at, zone) if code.expires_at else "",
            "discount": code_discount(offer, code).to_json(),
        }
