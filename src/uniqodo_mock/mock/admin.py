"""Handlers of ``openapi/admin.yaml`` (``/__admin``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.responses import Response

from uniqodo_mock.core.code_csv import CsvProblems
from uniqodo_mock.core.codes import derived_reference
from uniqodo_mock.core.errors import VendorError
from uniqodo_mock.mock.admin_callbacks import CallbackAdmin
from uniqodo_mock.mock.admin_controls import ControlAdmin
from uniqodo_mock.mock.dbcalls import DatabaseUnavailable
from uniqodo_mock.mock.envelope import (
    envelope_response,
    error_entries,
    error_entry,
    json_response,
    status_for,
)
from uniqodo_mock.version import __version__

if TYPE_CHECKING:
    from uniqodo_mock.mock.runtime import MockRuntime

__all__ = ["AdminApi", "CodesAdmin", "json_response"]


class AdminApi(ControlAdmin):
    def __init__(self, runtime: MockRuntime) -> None:
        self.runtime = runtime
        self.codes = CodesAdmin(runtime)
        self.callbacks = CallbackAdmin(runtime)

    def import_codes(self, offer_id: int, **kwargs: Any) -> Response:
        return self.codes.import_codes(offer_id, **kwargs)

    def code_batch(self, offer_id: int, count: int, **kwargs: Any) -> Response:
        return self.codes.code_batch(offer_id, count, **kwargs)

    async def health(self) -> Response:
        """Readiness: 200 when the database answers (within its timeout), else 503. Never
        waits on the database longer than a request would."""
        runtime = self.runtime
        repo = runtime.repo

        def check() -> Any:
            with repo.read() as conn:  # one query: the database answers
                return repo.get_meta(conn, "fixtures")

        body = {"version": __version__, "database": repo.engine.dialect.name}
        try:
            fixtures = await runtime.calls.run(check)
        except DatabaseUnavailable as error:
            return json_response(
                {**body, "status": "unavailable", "detail": error.reason},
                503,
                headers=DatabaseUnavailable.HEADERS,
            )
        return json_response(
            {**body, "status": "ok", "fixtures": fixtures.get("source") if fixtures else None}
        )

    # -- callbacks (admin_callbacks.py) -----------------------------------------------------
    def list_callbacks(self) -> Response:
        return json_response({"subscriptions": self.callbacks.list()})

    def create_callback(self, body: dict[str, Any]) -> Response:
        created = self.callbacks.create(body)
        return json_response(
            created, 201, headers={"Location": f"/__admin/callbacks/{created['id']}"}
        )

    def delete_callback(self, subscription_id: int) -> Response:
        self.callbacks.delete(subscription_id)
        return Response(status_code=204)

    def list_deliveries(
        self,
        status: str | None = None,
        subscription: int | None = None,
        redemption: int | None = None,
        limit: int = 100,
    ) -> Response:
        deliveries = self.callbacks.deliveries(status, subscription, redemption, limit)
        return json_response({"deliveries": deliveries})


class CodesAdmin:
    """``/__admin/offers/{offer_id}/codes``: personalised uploads and CSV batch downloads."""

    def __init__(self, runtime: MockRuntime) -> None:
        self.runtime = runtime

    def _failure(self, error: VendorError) -> Response:
        catalogue = self.runtime.service.catalogue
        reference = derived_reference(
            self.runtime.service.settings.seed, "admin", error.key, error.detail.reason
        )
        return envelope_response(
            None,
            error_entries([error], catalogue, None, reference),
            status_for([error], catalogue),
        )

    def import_codes(self, offer_id: int, body: Any = None, **_: Any) -> Response:
        # connexion has read the body already and hands it over (bytes, or text it decoded).
        data = body.encode("utf-8") if isinstance(body, str) else bytes(body or b"")
        try:
            imported = self.runtime.service.import_codes(offer_id, data)
        except VendorError as error:
            return self._failure(error)
        except CsvProblems as problems:
            entries = [error_entry(330, problem, reference=None) for problem in problems.problems]
            return envelope_response(None, entries, status=400)
        return envelope_response({"imported": imported}, [])

    def code_batch(self, offer_id: int, count: int, **_: Any) -> Response:
        try:
            text = self.runtime.service.code_batch(offer_id, count)
        except VendorError as error:
            return self._failure(error)
        return Response(
            text.encode("utf-8"),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="offer-{offer_id}-codes.csv"'},
        )
