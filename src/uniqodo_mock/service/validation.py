"""The Validation API: a merchant checks a code at the basket. Validation does not consume the
code; it answers the ``val_key`` the redemption carries and the trigger code the shop applies."""

from __future__ import annotations

from collections.abc import Mapping

from uniqodo_mock.core import rules
from uniqodo_mock.core.views import code_discount
from uniqodo_mock.service.checks import DEFAULT_CHECKS
from uniqodo_mock.service.lookups import about_code, find_code, require_merchant_account
from uniqodo_mock.service.state import Outcome, ServiceState
from uniqodo_mock.service.validation_context import ValidationCheck, ValidationContext

__all__ = ["CodeValidation"]


class CodeValidation:
    def __init__(self, state: ServiceState) -> None:
        self.state = state
        # Promotion features run after the built-in rules (basket rules, validation locks).
        self.checks: list[ValidationCheck] = list(DEFAULT_CHECKS)

    def validate(
        self, api_key: str, code_text: str, merchant_id: int, params: Mapping[str, str]
    ) -> Outcome:
        state = self.state
        repo = state.repo
        now = state.clock.now()
        locale = params.get("locale") or state.settings.default_locale
        with repo.write() as conn:
            account = require_merchant_account(repo, conn, api_key)
            rules.check_merchant_key(account, merchant_id)
            code, offer = find_code(repo, conn, code_text, merchant_id)
            with about_code(code):
                rules.check_window(offer, now)
                rules.check_code_expiry(code, now)
                rules.check_code_uses(code, offer)
                rules.check_secure_email(code, offer, params.get("email"))
                context = ValidationContext(
                    repo,
                    conn,
                    account,
                    offer,
                    code,
                    params,
                    now,
                    locale,
                    val_key=code.val_key,
                    fresh_val_key=state.token("session", code.id, code.val_key, now.isoformat()),
                )
                for check in self.checks:
                    check(context)
                val_key = context.val_key or state.token("val_key", code.id, code.code)
                if val_key != code.val_key:
                    repo.set_val_key(conn, code.id, val_key, now)
        return Outcome(
            {
                "val_key": val_key,
                "code": offer.master_code,
                "trigger_code": offer.master_code,
                "offer_id": offer.id,
                "promotion_uuid": offer.promotion_uuid,
                "customer_code": code.code,
                "discount": code_discount(offer, code).to_json(),
            }
        )
