"""Redemption callbacks, the pure part: which subscriptions a redemption goes to, and what
each is sent (the reference's nine items, under the names the subscriber chose)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from uniqodo_mock.core.dates import format_iso_offset
from uniqodo_mock.core.model import Redemption

__all__ = [
    "CALLBACK_ITEMS",
    "DEFAULT_PARAMS",
    "Subscription",
    "callback_items",
    "matches",
    "payload_for",
]

CALLBACK_ITEMS = (
    "id",
    "offerId",
    "merchantId",
    "distributorId",
    "code",
    "orderValue",
    "orderId",
    "currency",
    "redeemedAt",
)
# The docs' example sends ``code=45THD2L34K&orderId=447518457``.
DEFAULT_PARAMS: Mapping[str, str] = {"code": "code", "orderId": "orderId"}


@dataclass(frozen=True)
class Subscription:
    id: int
    url: str
    method: str
    params: Mapping[str, str]
    headers: Mapping[str, str]
    owner_merchant_id: int | None
    owner_distributor_id: int | None

    @classmethod
    def from_mapping(cls, row: Mapping[str, Any]) -> Subscription:
        return cls(
            id=row["id"],
            url=row["url"],
            method=row["method"],
            params=row["params"] or DEFAULT_PARAMS,
            headers=row["headers"] or {},
            owner_merchant_id=row["owner_merchant_id"],
            owner_distributor_id=row["owner_distributor_id"],
        )


def callback_items(redemption: Redemption) -> dict[str, Any]:
    """The nine items, by their documented names; ``redeemedAt`` in UTC (``+0000``)."""
    return {
        "id": redemption.id,
        "offerId": redemption.offer_id,
        "merchantId": redemption.merchant_id,
        "distributorId": redemption.distributor_id,
        "code": redemption.code,
        "orderValue": redemption.order_value,
        "orderId": redemption.order_id,
        "currency": redemption.currency,
        "redeemedAt": format_iso_offset(redemption.redeemed_at, None),
    }


def matches(
    subscription: Subscription,
    redemption: Redemption,
    *,
    distributor_may_see: Callable[[int], bool],
) -> bool:
    """A merchant gets its own redemptions; a distributor only those of offers it is authorised
    for and whose merchant shares data; a subscription without owner gets every redemption."""
    if subscription.owner_merchant_id is not None:
        return subscription.owner_merchant_id == redemption.merchant_id
    if subscription.owner_distributor_id is not None:
        return distributor_may_see(subscription.owner_distributor_id)
    return True


def payload_for(subscription: Subscription, items: Mapping[str, Any]) -> dict[str, Any]:
    """The parameters sent: each chosen item under its chosen name. Missing values (a null
    ``distributorId``) are sent as empty strings in forms and query strings, null in JSON."""
    out: dict[str, Any] = {}
    for item, name in subscription.params.items():
        if item not in items:
            continue
        value = items[item]
        if subscription.method != "JSON":
            value = "" if value is None else _text(value)
        out[name] = value
    return out


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return f"{value:.2f}"
    return str(value)
