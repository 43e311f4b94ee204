"""Personalised code uploads (CSV) and CSV batches of fresh codes (the admin API)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from uniqodo_mock.core.code_csv import CodeRow, parse_codes_csv, write_codes_csv
from uniqodo_mock.core.codes import normalise_code, normalise_user
from uniqodo_mock.core.dates import to_db
from uniqodo_mock.core.errors import VendorError
from uniqodo_mock.core.model import Offer
from uniqodo_mock.service.state import ServiceState
from uniqodo_mock.store.repository import Connection

__all__ = ["CodeBatches"]


class CodeBatches:
    def __init__(self, state: ServiceState) -> None:
        self.state = state

    def _offer(self, conn: Connection, offer_id: int) -> Offer:
        offer = self.state.repo.offer(conn, offer_id)
        if offer is None:
            raise VendorError(
                "unknown_offer",
                f"no offer has id {offer_id}",
                parameter="offer_id",
                looked_up=str(offer_id),
            )
        return offer

    def import_codes(self, offer_id: int, data: bytes) -> int:
        """Add an uploaded CSV of codes to the offer: all of them or none (``CsvProblems``)."""
        state = self.state
        repo = state.repo
        now = state.clock.now()
        with repo.write() as conn:
            offer = self._offer(conn, offer_id)
            rows = parse_codes_csv(data, state.settings.zone, repo.offer_code_texts(conn, offer.id))
            repo.insert_codes(conn, [_imported_row(offer, row, now) for row in rows])
        return len(rows)

    def code_batch(self, offer_id: int, count: int) -> str:
        """``count`` fresh unique codes of the offer, marked issued, as CSV."""
        if count < 1:
            raise VendorError("invalid_parameter", "count must be at least 1", parameter="count")
        state = self.state
        repo = state.repo
        now = state.clock.now()
        with repo.write() as conn:
            offer = self._offer(conn, offer_id)
            if offer.code_type == "repeat":
                raise VendorError(
                    "invalid_parameter",
                    f"offer {offer.id} has one repeat code, not a pool of unique codes",
                    parameter="offer_id",
                    message="A CSV batch needs an offer with unique codes.",
                )
            picked = repo.issue_batch(conn, offer.id, count, now)
            if not picked:
                left = repo.code_remaining(conn, offer.id)
                raise VendorError(
                    "sold_out",
                    f"offer {offer.id} has {left} unissued codes, {count} were asked",
                    # The admin answer says what happened: a batch is all or nothing.
                    message=f"Offer {offer.id} has {left} unissued codes left and {count} "
                    "were asked; nothing was issued.",
                )
        return write_codes_csv(picked, offer.id)


def _imported_row(offer: Offer, row: CodeRow, now: datetime) -> dict[str, Any]:
    expires_at = row.expires_at
    if expires_at is None and row.issued_to and offer.code_expiry:
        expires_at = now + offer.code_expiry
    return {
        "offer_id": offer.id,
        "code": row.code,
        "code_norm": normalise_code(row.code),
        "origin": "imported",
        "issued_at": to_db(now) if row.issued_to else None,
        "issued_to": row.issued_to,
        "issued_to_norm": normalise_user(row.issued_to) if row.issued_to else None,
        "distributor_id": None,
        "uses": 0,
        "discount_amount": None,
        "expires_at": to_db(expires_at) if expires_at else None,
        "val_key": None,
        "validated_at": None,
        "lock_session": None,
        "lock_until": None,
    }
