"""The domain's records, as plain dataclasses the rules and views work on (no I/O)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from uniqodo_mock.core.money import Discount

__all__ = ["Account", "Code", "Offer", "Redemption"]


@dataclass(frozen=True)
class Account:
    """What an API key may do: a key may be a merchant's, a distributor's, or both."""

    key: str
    merchant_id: int | None
    distributor_id: int | None


@dataclass(frozen=True)
class Offer:
    id: int
    promotion_uuid: str
    merchant_id: int
    merchant_name: str
    offer_description: str
    description: str
    status: str
    master_code: str
    terms: str | None
    code_type: str
    redemption_per_code: int | None
    start_at: datetime
    end_at: datetime
    code_expiry: timedelta | None
    url: str
    discount: Discount
    codes_per_customer: int
    config: dict[str, Any] = field(default_factory=dict)
    # Unissued codes of the pool (the API's ``code_remaining`` for pool offers).
    pool_unissued: int = 0
    # The merchant's own settings that apply to its offers (e.g. validation_lock_minutes).
    merchant_config: dict[str, Any] = field(default_factory=dict)
    # The labels configured for the offer: each of its redemptions carries them.
    tags: tuple[str, ...] = ()

    def landing_url(self, code: str) -> str:
        return (
            self.url.replace("{code}", code)
            .replace("{offer_id}", str(self.id))
            .replace("{promotion_uuid}", self.promotion_uuid)
        )


@dataclass(frozen=True)
class Code:
    id: int
    offer_id: int
    code: str
    origin: str
    issued_at: datetime | None
    issued_to: str | None
    distributor_id: int | None
    uses: int
    discount_amount: float | None
    expires_at: datetime | None
    val_key: str | None
    lock_session: str | None
    lock_until: datetime | None
    # The error reference fixtures give the code: None derives it; "" means none.
    reference: str | None = None


@dataclass(frozen=True)
class Redemption:
    id: int
    offer_id: int
    merchant_id: int
    distributor_id: int | None
    code: str
    order_id: str
    order_value: float
    discount_value: float
    currency: str | None
    custom_params: dict[str, str] | None
    redeemed_at: datetime
    redemption_key: str
    awc_token: str | None
    tags: list[str]
    user_id: str | None = None
