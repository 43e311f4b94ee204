"""What one contract run targets and how hard it pushes. Defaults are the default fixtures'."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

__all__ = [
    "DEFAULT_DISTRIBUTOR_KEY",
    "DEFAULT_MERCHANT_ID",
    "DEFAULT_MERCHANT_KEY",
    "DEFAULT_OFFER_ID",
    "DEFAULT_PROMOTION_UUID",
    "REDEEM_OPERATION",
    "ContractSettings",
    "is_local_url",
]

# fixtures/default.yaml: merchant 1 and distributor 102 share this key; offer 4883.
DEFAULT_MERCHANT_KEY = "64a287ae534cf1bd58f45f3e23de9d433caec669"
DEFAULT_DISTRIBUTOR_KEY = "64a287ae534cf1bd58f45f3e23de9d433caec669"
DEFAULT_MERCHANT_ID = 1
DEFAULT_OFFER_ID = 4883
DEFAULT_PROMOTION_UUID = "0821f4190897965c33eaca7954db5f23"
REDEEM_OPERATION = "uniqodo_mock.mock.api.redeem_code"


def is_local_url(url: str) -> bool:
    """Loopback hosts only: a run against anything else never redeems by default and is
    rate-limited, because redemptions on a real deployment spend real codes."""
    host = (urlsplit(url).hostname or "").strip("[]").lower()
    if host in {"localhost", "testserver"} or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass
class ContractSettings:
    base_url: str
    merchant_key: str = DEFAULT_MERCHANT_KEY
    merchant_id: int = DEFAULT_MERCHANT_ID
    distributor_key: str = DEFAULT_DISTRIBUTOR_KEY
    offer_id: int = DEFAULT_OFFER_ID
    promotion_uuid: str = DEFAULT_PROMOTION_UUID
    spec: Path | None = None
    seed: int | None = None
    max_examples: int = 20
    allow_redeem: bool = False
    # None: unlimited against a local URL, a polite default elsewhere (see effective_rate_limit).
    rate_limit: str | None = None
    junit_xml: Path | None = None
    report_dir: Path | None = None
    workers: int = 1
    # The mock's admin token: to read its callback subscriptions and, with ``isolate``, to
    # save and restore its state (guard.py).
    admin_token: str | None = None
    isolate: bool = False
    allow_callbacks: bool = False

    @property
    def local(self) -> bool:
        return is_local_url(self.base_url)

    @property
    def redeems(self) -> bool:
        return self.local or self.allow_redeem

    @property
    def effective_rate_limit(self) -> str | None:
        if self.rate_limit:
            return self.rate_limit
        return None if self.local else "5/s"
