"""Whose JavaScript tags a tag id names (``/uqd/{id}.js``, ``/track/{id}.js``): a merchant, and
the API key its tags call the API with."""

from __future__ import annotations

import re
from dataclasses import dataclass

from uniqodo_mock.service.state import ServiceState

__all__ = ["MerchantTags", "TagAccount"]

_MERCHANT_ID = re.compile(r"[0-9]{1,18}")


@dataclass(frozen=True)
class TagAccount:
    """The merchant behind a tag id, and the API key its tags call the API with."""

    merchant_id: int
    key: str


class MerchantTags:
    def __init__(self, state: ServiceState) -> None:
        self.state = state

    def tag_account(self, tag_id: str) -> TagAccount | None:
        """A merchant id (the tags then use the key ``Repository.merchant_tag_key`` chooses),
        else one of the merchant's own keys (the tags use that key); None for anything else."""
        repo = self.state.repo
        with repo.read() as conn:
            if _MERCHANT_ID.fullmatch(tag_id):
                key = repo.merchant_tag_key(conn, int(tag_id))
                if key is not None:
                    return TagAccount(int(tag_id), key)
            account = repo.account(conn, tag_id)
        if account is None or account.merchant_id is None:
            return None
        return TagAccount(account.merchant_id, account.key)
