"""The mock's behaviour: each API operation over the store and the pure rules, one module per
API group (``codes``, ``claims``, ``offers``, ``validation``, ``redemption``, ``queries``,
``enquiry``, ``conversions``, ``merchant_tags``, ``batches``).

Imports no web framework: the connexion handlers (``uniqodo_mock.mock.api``) call these methods
off the event loop and render their ``Outcome`` in the vendor's envelope.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from uniqodo_mock.core.clock import Clock
from uniqodo_mock.core.errors import ErrorCatalogue
from uniqodo_mock.service.batches import CodeBatches
from uniqodo_mock.service.claims import Claims
from uniqodo_mock.service.codes import CodeIssuing
from uniqodo_mock.service.conversions import Conversions
from uniqodo_mock.service.enquiry import CodeEnquiry
from uniqodo_mock.service.merchant_tags import MerchantTags, TagAccount
from uniqodo_mock.service.offers import OfferListing
from uniqodo_mock.service.queries import Queries
from uniqodo_mock.service.redemption import Redemptions
from uniqodo_mock.service.state import Outcome, ServiceSettings, ServiceState
from uniqodo_mock.service.validation import CodeValidation
from uniqodo_mock.service.validation_context import ValidationContext
from uniqodo_mock.store.repository import Repository

__all__ = ["MockService", "Outcome", "ServiceSettings", "TagAccount", "ValidationContext"]


class MockService:
    """Every operation of the Uniqodo API over one database."""

    def __init__(
        self,
        repo: Repository,
        clock: Clock | None = None,
        *,
        settings: ServiceSettings | None = None,
        catalogue: ErrorCatalogue | None = None,
    ) -> None:
        self.state = ServiceState(repo, clock or Clock(), settings, catalogue)
        self.codes = CodeIssuing(self.state)
        self.claims = Claims(self.codes)
        self.offers = OfferListing(self.state)
        self.validation = CodeValidation(self.state)
        self.redemptions = Redemptions(self.state)
        self.queries = Queries(self.state)
        self.enquiry = CodeEnquiry(self.state)
        self.conversions = Conversions(self.state)
        self.merchant_tags = MerchantTags(self.state)
        self.batches = CodeBatches(self.state)

    # -- what the operations share ------------------------------------------------------
    @property
    def repo(self) -> Repository:
        return self.state.repo

    @property
    def clock(self) -> Clock:
        return self.state.clock

    @property
    def settings(self) -> ServiceSettings:
        return self.state.settings

    @property
    def catalogue(self) -> ErrorCatalogue:
        return self.state.catalogue

    @property
    def on_redeemed(self) -> list[Callable[[int], None]]:
        return self.redemptions.on_redeemed

    def reload_settings(self) -> None:
        self.state.reload_settings()

    # -- the operations -----------------------------------------------------------------
    def issue_code(self, api_key: str, offer_id: int, uid: str | None) -> Outcome:
        return self.codes.issue_code(api_key, offer_id, uid)

    def embeddable_code(
        self, claim_credential: str, promotion_uuid: str, uid: str | None, email: str | None
    ) -> Outcome:
        return self.codes.embeddable_code(claim_credential, promotion_uuid, uid, email)

    def claim(self, access_key: str, promotion_id: str, customer_id: str) -> Outcome:
        return self.claims.claim(access_key, promotion_id, customer_id)

    def list_offers(self, api_key: str) -> Outcome:
        return self.offers.list_offers(api_key)

    def validate(
        self, api_key: str, code_text: str, merchant_id: int, params: Mapping[str, str]
    ) -> Outcome:
        return self.validation.validate(api_key, code_text, merchant_id, params)

    def redeem(
        self, api_key: str, code_text: str, merchant_id: int, params: Mapping[str, str]
    ) -> Outcome:
        return self.redemptions.redeem(api_key, code_text, merchant_id, params)

    def publisher_query(self, api_key: str, promotion_uuid: str, user_id: str) -> Outcome:
        return self.queries.publisher_query(api_key, promotion_uuid, user_id)

    def distributor_query(self, api_key: str, promotion_uuid: str, user_id: str) -> Outcome:
        return self.queries.distributor_query(api_key, promotion_uuid, user_id)

    def user_code_enquiry(self, merchant_key: str, promotion_uuid: str, email: str) -> Outcome:
        return self.enquiry.user_code_enquiry(merchant_key, promotion_uuid, email)

    def record_conversion(self, redemption_key: str) -> Outcome:
        return self.conversions.record_conversion(redemption_key)

    def tag_account(self, tag_id: str) -> TagAccount | None:
        return self.merchant_tags.tag_account(tag_id)

    def import_codes(self, offer_id: int, data: bytes) -> int:
        return self.batches.import_codes(offer_id, data)

    def code_batch(self, offer_id: int, count: int) -> str:
        return self.batches.code_batch(offer_id, count)
