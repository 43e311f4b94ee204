"""The Reward API's claims (``POST /v2/claims``, host ``reward.uniqodo.io``): a distributor's
access key asks for a code of a promotion for one customer, and gets the same code again for
the same customer. The code comes from the Code API's issuing (``service/codes.py``): one pool,
one customer rule, one distributor authorisation.

The promotion is named by its 32-hex ``promotionId``: the offer's ``promotion_uuid`` in the
fixtures (simulator: the platform's mapping is not documented)."""

from __future__ import annotations

from typing import Any

from uniqodo_mock.core.dates import format_iso_utc
from uniqodo_mock.service.codes import CodeIssuing
from uniqodo_mock.service.state import Outcome

__all__ = ["Claims"]


class Claims:
    def __init__(self, codes: CodeIssuing) -> None:
        self.codes = codes

    def claim(self, access_key: str, promotion_id: str, customer_id: str) -> Outcome:
        """A code of the promotion for the customer, or the one the customer holds already.
        Raises ``VendorError`` as the Code API does (unknown key or promotion, a key not
        authorised for it, a promotion outside its window, a sold-out pool)."""
        offer, code, keep_until = self.codes.code_for(
            access_key, customer_id, promotion_uuid=promotion_id
        )
        # A code the pool gave out has its issue time; a repeat offer's shared code has none.
        created = code.issued_at or self.codes.state.clock.now()
        data: dict[str, Any] = {
            "claim": {"code": code.code, "createdAt": format_iso_utc(created)},
            "customer": {"id": customer_id},
            "promotion": {"id": offer.promotion_uuid, "endDate": format_iso_utc(offer.end_at)},
        }
        return Outcome(data, keep_until=keep_until)
