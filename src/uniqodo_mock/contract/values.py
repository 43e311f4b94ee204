"""Real keys and ids in generated requests, so positive data reaches real fixtures.

Only cases whose path was generated *positive* get them: a negative path (a key of the wrong
shape, an id beyond its maximum) must stay as generated, or the "negative data rejected" check
would be judging a request that was silently made valid again.
"""

from __future__ import annotations

from typing import Any

from schemathesis.core.parameters import ParameterLocation

from uniqodo_mock.contract.settings import ContractSettings

__all__ = ["fixed_path_values", "inject_path_values"]

# Operations whose api_key is a distributor's (publisher and distributor queries, issuing).
_DISTRIBUTOR_OPERATIONS = {
    "uniqodo_mock.mock.api.get_code",
    "uniqodo_mock.mock.api.list_offers",
    "uniqodo_mock.mock.api.list_offers_default",
    "uniqodo_mock.mock.api.publisher_query",
    "uniqodo_mock.mock.api.distributor_query",
}


def fixed_path_values(settings: ContractSettings, operation_id: str | None) -> dict[str, Any]:
    api_key = (
        settings.distributor_key
        if operation_id in _DISTRIBUTOR_OPERATIONS
        else settings.merchant_key
    )
    return {
        "api_key": api_key,
        "merchant_id": settings.merchant_id,
        "offer_id": settings.offer_id,
        "promotion_uuid": settings.promotion_uuid,
        "merchant_key": settings.merchant_key,
        "claim_credential": settings.distributor_key,
    }


def inject_path_values(settings: ContractSettings, case: Any) -> Any:
    """schemathesis ``map_case``: overwrite the known path parameters of a positive case."""
    meta = getattr(case, "meta", None)
    if meta is not None and meta.is_negative_at(ParameterLocation.PATH):
        return case
    params = case.path_parameters
    if not params:
        return case
    operation_id = case.operation.definition.raw.get("operationId")
    for name, value in fixed_path_values(settings, operation_id).items():
        if name in params:
            params[name] = value
    return case
