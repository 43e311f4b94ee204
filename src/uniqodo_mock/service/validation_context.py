"""What a validation check sees (``service/checks.py``): the code, its offer, the request's
data and the transaction to record into. A check raises ``VendorError`` to refuse the code."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from uniqodo_mock.core.model import Account, Code, Offer
from uniqodo_mock.store.repository import Connection, Repository

__all__ = ["ValidationCheck", "ValidationContext"]


@dataclass
class ValidationContext:
    repo: Repository
    conn: Connection
    account: Account
    offer: Offer
    code: Code
    params: Mapping[str, str]
    now: datetime
    locale: str | None
    # The val_key the validation answers with; a check may replace it (a new lock session).
    val_key: str | None
    # The val_key to use if a check opens a new session.
    fresh_val_key: str


ValidationCheck = Callable[[ValidationContext], None]
