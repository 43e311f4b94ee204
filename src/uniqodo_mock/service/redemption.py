"""The Redemption API: a merchant confirms an order with the customer's code. One use is
counted, the redemption recorded, and one callback delivery queued per matching subscription,
all in one transaction."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime

from uniqodo_mock.core import rules
from uniqodo_mock.core.callbacks import Subscription, callback_items, matches, payload_for
from uniqodo_mock.core.codes import normalise_user
from uniqodo_mock.core.errors import VendorError
from uniqodo_mock.core.model import Redemption
from uniqodo_mock.core.money import round_money
from uniqodo_mock.core.views import code_discount, redemption_json
from uniqodo_mock.service.lookups import about_code, find_code, require_merchant_account
from uniqodo_mock.service.state import Outcome, ServiceState
from uniqodo_mock.store.repository import Connection

__all__ = ["Redemptions", "amount_parameter"]

# Parameters of the Redemption API the service reads itself; everything else is kept as sent.
_REDEEM_KNOWN = frozenset({"orderId", "orderValue", "discount", "valKey", "currency"})
_CUSTOM_PARAM = re.compile(r"^p\d+$")
# x-source: simulator. Money beyond this is no order value; it also bounds the exact decimal
# rounding of amounts.
_MAX_AMOUNT = 1e15


class Redemptions:
    def __init__(self, state: ServiceState) -> None:
        self.state = state
        # Called after a redemption commits, with its id (wakes the callback dispatcher).
        self.on_redeemed: list[Callable[[int], None]] = []

    def redeem(
        self, api_key: str, code_text: str, merchant_id: int, params: Mapping[str, str]
    ) -> Outcome:
        state = self.state
        repo = state.repo
        now = state.clock.now()
        order_id = (params.get("orderId") or "").strip()
        if not order_id:
            raise VendorError(
                "invalid_parameter",
                "orderId is required",
                parameter="orderId",
                message="Missing query parameter 'orderId'.",
            )
        _storable(params)
        order_value = amount_parameter(params.get("orderValue"), "orderValue")
        with repo.write() as conn:
            account = require_merchant_account(repo, conn, api_key)
            rules.check_merchant_key(account, merchant_id)
            code, offer = find_code(repo, conn, code_text, merchant_id)
            with about_code(code):
                rules.check_window(offer, now)
                rules.check_code_expiry(code, now)
                val_key = params.get("valKey")
                needs_val_key = state.settings.require_val_key or offer.config.get(
                    "require_val_key"
                )
                if (val_key or needs_val_key) and (not val_key or val_key != code.val_key):
                    raise VendorError(
                        "invalid_val_key",
                        "valKey does not match the val_key of the code's last validation"
                        if code.val_key
                        else "the code has not been validated, so no valKey matches",
                        parameter="valKey",
                        looked_up=val_key,
                    )
                if not repo.count_use(conn, code.id, offer.redemption_per_code):
                    rules.check_code_uses(code, offer)
                    raise VendorError(
                        "already_redeemed",
                        f"code {code.code} reached its use limit",
                        looked_up=code.code,
                    )
            custom = {k: v for k, v in params.items() if _CUSTOM_PARAM.match(k)}
            extras = {k: v for k, v in params.items() if k not in _REDEEM_KNOWN and k not in custom}
            user = params.get("email") or code.issued_to
            redemption = repo.insert_redemption(
                conn,
                {
                    "code_id": code.id,
                    "offer_id": offer.id,
                    "merchant_id": offer.merchant_id,
                    "distributor_id": code.distributor_id,
                    "code": code.code,
                    "order_id": order_id,
                    "order_value": order_value,
                    "discount_value": code_discount(offer, code).value_for(order_value),
                    "currency": (params.get("currency") or offer.discount.currency or None),
                    "custom_params": custom or None,
                    "extras": extras,
                    "user_id": user,
                    "user_id_norm": normalise_user(user) if user else None,
                    "redeemed_at": now,
                    # The code's use count after this redemption tells redemptions apart.
                    "redemption_key": state.token(
                        "redemption", code.id, code.uses + 1, order_id, length=32
                    ),
                    "awc_token": None,
                    "tags": list(offer.tags),
                },
            )
            self._queue_callbacks(conn, redemption, now)
        for listener in self.on_redeemed:
            listener(redemption.id)
        return Outcome(
            {
                "redemption_key": redemption.redemption_key,
                "awc_token": redemption.awc_token,
                "redemption": redemption_json(redemption, state.settings.zone),
            }
        )

    def _queue_callbacks(self, conn: Connection, redemption: Redemption, now: datetime) -> None:
        repo = self.state.repo
        rows = repo.subscriptions_for(conn)
        if not rows:
            return
        items = callback_items(redemption)
        shares = repo.merchant_shares_data(conn, redemption.merchant_id)

        def distributor_may_see(distributor_id: int) -> bool:
            return shares and repo.is_authorised(conn, redemption.offer_id, distributor_id)

        deliveries = []
        for row in rows:
            subscription = Subscription.from_mapping(row)
            if matches(subscription, redemption, distributor_may_see=distributor_may_see):
                deliveries.append(
                    {
                        "redemption_id": redemption.id,
                        "subscription_id": subscription.id,
                        "url": subscription.url,
                        "method": subscription.method,
                        "headers": dict(subscription.headers),
                        "payload": payload_for(subscription, items),
                    }
                )
        repo.enqueue_deliveries(conn, deliveries, now)


def amount_parameter(text: str | None, name: str) -> float:
    """A money parameter (``orderValue``): blank is 0; anything else a finite decimal number."""
    if text in (None, ""):
        return 0.0
    message = f"Query parameter '{name}' must be a decimal number."
    try:
        value = float(text)
    except ValueError:
        raise VendorError(
            "invalid_parameter", f"{name} {text!r} is not a number", parameter=name, message=message
        ) from None
    if value != value or abs(value) >= _MAX_AMOUNT:
        raise VendorError(
            "invalid_parameter",
            f"{name} {text!r} is not a finite amount below {_MAX_AMOUNT:,.0f}",
            parameter=name,
            message=f"Query parameter '{name}' must be a decimal number below {_MAX_AMOUNT:,.0f}.",
        )
    return round_money(value)


def _storable(params: Mapping[str, str]) -> None:
    """Every parameter of a redemption is kept (``custom_params``, extras): each must be text
    the database can hold, which excludes NUL characters."""
    for name, value in params.items():
        if "\x00" in name or "\x00" in value:
            shown = name.replace("\x00", "\\0")
            raise VendorError(
                "invalid_parameter",
                f"parameter {shown!r} holds a NUL character",
                parameter=shown,
                message=f"Query parameter '{shown}' must not contain NUL characters.",
            )
