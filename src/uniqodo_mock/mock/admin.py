"""Handlers of ``openapi/admin.yaml`` (``/__admin``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson
from sqlalchemy import text
from starlette.responses import Response

from uniqodo_mock import __version__
from uniqodo_mock.mock.admin_callbacks import CallbackAdmin

if TYPE_CHECKING:
    from uniqodo_mock.mock.runtime import MockRuntime

__all__ = ["AdminApi", "json_response"]


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        orjson.dumps(data), status_code=status, headers=headers, media_type="application/json"
    )


class AdminApi:
    def __init__(self, runtime: MockRuntime) -> None:
        self.runtime = runtime
        self.callbacks = CallbackAdmin(runtime)

    async def health(self) -> Response:
        repo = self.runtime.repo
        with repo.read() as conn:
            conn.execute(text("SELECT 1"))
            fixtures = repo.get_meta(conn, "fixtures")
        return json_response(
            {
                "status": "ok",
                "version": __version__,
                "database": repo.engine.dialect.name,
                "fixtures": fixtures.get("source") if fixtures else None,
            }
        )

    # -- callbacks (admin_callbacks.py) -----------------------------------------------------
    async def list_callbacks(self) -> Response:
        return json_response({"subscriptions": self.callbacks.list()})

    async def create_callback(self, body: dict[str, Any]) -> Response:
        created = self.callbacks.create(body)
        return json_response(
            created, 201, headers={"Location": f"/__admin/callbacks/{created['id']}"}
        )

    async def delete_callback(self, subscription_id: int) -> Response:
        self.callbacks.delete(subscription_id)
        return Response(status_code=204)

    async def list_deliveries(
        self,
        status: str | None = None,
        subscription: int | None = None,
        redemption: int | None = None,
        limit: int = 100,
    ) -> Response:
        deliveries = self.callbacks.deliveries(status, subscription, redemption, limit)
        return json_response({"deliveries": deliveries})
