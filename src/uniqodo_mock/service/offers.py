"""The Offers API: what a distributor may promote (offer information only, never codes)."""

from __future__ import annotations

from uniqodo_mock.core import rules
from uniqodo_mock.core.errors import VendorError
from uniqodo_mock.core.views import offer_json
from uniqodo_mock.service.lookups import require_distributor
from uniqodo_mock.service.state import Outcome, ServiceState

__all__ = ["OfferListing"]


class OfferListing:
    def __init__(self, state: ServiceState) -> None:
        self.state = state

    def list_offers(self, api_key: str) -> Outcome:
        state = self.state
        repo = state.repo
        try:
            with repo.read() as conn:
                account = require_distributor(repo.account(conn, api_key), api_key)
                assert account.distributor_id is not None
                offers = repo.offers_for_distributor(conn, account.distributor_id)
        except VendorError as error:
            error.keep_until = rules.NEVER
            raise
        listed = [
            offer_json(
                offer,
                state.settings.zone,
                code_remaining=None if offer.code_type == "repeat" else offer.pool_unissued,
            )
            for offer in offers
        ]
        # Offer information is state alone (statuses are stored, not derived from the clock).
        return Outcome({"offers": listed, "total": len(listed)}, keep_until=rules.NEVER)
