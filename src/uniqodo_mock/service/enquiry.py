"""The user code enquiry (``GET /user-code-enquiry``): has this user been given a code of the
promotion, and was it used? ``data`` is null when not."""

from __future__ import annotations

from uniqodo_mock.core import rules
from uniqodo_mock.core.codes import normalise_user
from uniqodo_mock.core.errors import VendorError
from uniqodo_mock.core.views import code_discount, redemption_json
from uniqodo_mock.service.lookups import require_account, require_offer_by_uuid
from uniqodo_mock.service.state import Outcome, ServiceState

__all__ = ["CodeEnquiry"]


class CodeEnquiry:
    def __init__(self, state: ServiceState) -> None:
        self.state = state

    def user_code_enquiry(self, merchant_key: str, promotion_uuid: str, email: str) -> Outcome:
        state = self.state
        repo = state.repo
        try:
            with repo.read() as conn:
                account = require_account(
                    repo.account(conn, merchant_key), merchant_key, "merchant_key"
                )
                offer = require_offer_by_uuid(repo, conn, promotion_uuid)
                if account.merchant_id is None:
                    raise VendorError(
                        "wrong_key_kind",
                        "a distributor key was used where a merchant key is needed",
                        parameter="merchant_key",
                    )
                rules.check_merchant_key(account, offer.merchant_id)
                norm = normalise_user(email)
                held = repo.codes_of_user(conn, offer.id, norm)
                if not held:
                    return Outcome(None, keep_until=rules.NEVER)
                code = held[-1]
                records = repo.redemptions_of_customer(conn, offer.id, norm, [c.id for c in held])
        except VendorError as error:
            error.keep_until = rules.NEVER
            raise
        return Outcome(
            {
                "code": code.code,
                "discount": code_discount(offer, code).to_json(),
                "redemption_records": [redemption_json(r, state.settings.zone) for r in records],
            },
            keep_until=rules.NEVER,
        )
