"""Handlers of ``openapi/admin.yaml`` (``/__admin``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson
from sqlalchemy import text
from starlette.responses import Response

from uniqodo_mock import __version__
from uniqodo_mock.mock.admin_controls import ControlAdmin

if TYPE_CHECKING:
    from uniqodo_mock.mock.runtime import MockRuntime

__all__ = ["AdminApi", "json_response"]


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        orjson.dumps(data), status_code=status, headers=headers, media_type="application/json"
    )


class AdminApi(ControlAdmin):
    def __init__(self, runtime: MockRuntime) -> None:
        self.runtime = runtime

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
