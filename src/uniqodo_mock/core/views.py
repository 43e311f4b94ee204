"""How records look on the wire: the API's JSON objects, built from domain records (pure)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from uniqodo_mock.core.dates import format_iso_offset, format_offer_date
from uniqodo_mock.core.model import Code, Offer, Redemption
from uniqodo_mock.core.money import Discount

__all__ = ["code_discount", "custom_params_json", "offer_json", "redemption_json"]


def code_discount(offer: Offer, code: Code | None) -> Discount:
    """The discount a code carries: drawn at issue for mystery offers, else the offer's."""
    if code is not None and code.discount_amount is not None:
        return Discount(offer.discount.kind, code.discount_amount, offer.discount.currency)
    return offer.discount


def offer_json(
    offer: Offer,
    zone: ZoneInfo,
    *,
    code_remaining: int | None,
    code: Code | None = None,
) -> dict[str, Any]:
    """The documented offer object (``data.offer``), with ``code_issue_date``/``code_expiry``
    of ``code`` when the answer is about one customer's code."""
    return {
        "id": offer.id,
        "offer_id": offer.id,
        "offer_description": offer.offer_description,
        "merchant_id": offer.merchant_id,
        "merchant_name": offer.merchant_name,
        "description": offer.description,
        "status": offer.status,
        "code": offer.master_code,
        "terms": offer.terms,
        "code_remaining": code_remaining,
        "redemption_per_code": offer.redemption_per_code,
        "code_type": offer.code_type,
        "start_date": format_offer_date(offer.start_at, zone),
        "end_date": format_offer_date(offer.end_at, zone),
        "code_issue_date": format_offer_date(code.issued_at, zone) if code else "",
        "code_expiry": format_offer_date(code.expires_at, zone) if code else "",
        "promotion_uuid": offer.promotion_uuid,
        "url": offer.url.replace("{code}", "").replace("{offer_id}", str(offer.id)),
        "discount": code_discount(offer, code).to_json(),
    }


def redemption_json(redemption: Redemption, zone: ZoneInfo) -> dict[str, Any]:
    record = {
        "id": redemption.id,
        "offer_id": redemption.offer_id,
        "merchant_id": redemption.merchant_id,
        "distributor_id": redemption.distributor_id,
        "code": redemption.code,
        "order_id": redemption.order_id,
        "order_value": _number(redemption.order_value),
        "discount_value": _number(redemption.discount_value),
        "currency": redemption.currency,
        "custom_params": custom_params_json(redemption.custom_params),
        "redeemed_at": format_iso_offset(redemption.redeemed_at, zone),
        "tags": list(redemption.tags),
    }
    # Only once an affiliate conversion gave the redemption a token (simulator): a record
    # without one stays exactly as the docs show it.
    if redemption.awc_token is not None:
        record["awc_token"] = redemption.awc_token
    return record


def custom_params_json(params: Mapping[str, str] | None) -> str | None:
    """``custom_params`` as the docs show it: the redemption's ``p1..pN`` serialised as one
    JSON string (``"{\"p1\":\"example1\"}"``), in the order they were sent; null when none."""
    if not params:
        return None
    return json.dumps(dict(params), ensure_ascii=False, separators=(",", ":"))


def _number(value: float) -> int | float:
    """45.0 → 45, as the docs' example shows it; 11.25 stays."""
    return int(value) if float(value).is_integer() else value


def format_end_date(moment: datetime, zone: ZoneInfo) -> str:
    return format_offer_date(moment, zone)
