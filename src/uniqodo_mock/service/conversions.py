"""The affiliate conversion (``GET /vcot/conversion``): the merchant's redemption tag reports
that a redemption the mock answered came through an affiliate link; the redemption gets an
``awc_token``, shown on its records from then on."""

from __future__ import annotations

from uniqodo_mock.core.codes import derived_token
from uniqodo_mock.core.errors import VendorError
from uniqodo_mock.service.state import Outcome, ServiceState

__all__ = ["Conversions"]


class Conversions:
    def __init__(self, state: ServiceState) -> None:
        self.state = state

    def record_conversion(self, redemption_key: str) -> Outcome:
        """Answers the redemption's ``awc_token``, made on the first call and kept: later calls
        answer the same token."""
        state = self.state
        repo = state.repo
        with repo.write() as conn:
            redemption = repo.redemption_by_key(conn, redemption_key)
            if redemption is None:
                raise VendorError(
                    "unknown_code",
                    f"no redemption has the redemption key {redemption_key!r}",
                    parameter="redemptionKey",
                    looked_up=redemption_key,
                )
            token = redemption.awc_token
            if token is None:
                # Derived like every token of the mock (the same state and requests give the
                # same answers); 32 hex digits, as the platform's. Conditional: a concurrent
                # conversion of the same redemption sets the same token.
                token = derived_token(state.settings.seed, "awc", redemption.id, length=32)
                repo.set_awc_token(conn, redemption.id, token)
        return Outcome({"awc_token": token})
