"""Swagger UI for every spec the mock serves, offline, at ``/__admin/docs``.

Connexion's own UI cannot live under a path another API is mounted on (``/__admin``), so this
middleware answers ``/__admin/docs`` and ``/__admin/specs/NAME.json`` before connexion routes."""

from __future__ import annotations

from pathlib import Path

import orjson
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from uniqodo_mock.specs import load_spec

__all__ = ["DocsMiddleware"]

_INDEX = Path(__file__).with_name("static") / "docs.html"
_SPECS = {
    "uniqodo.json": "uniqodo.yaml",
    "admin.json": "admin.yaml",
    "receiver.json": "receiver.yaml",
}


class DocsMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        try:
            from swagger_ui_bundle import swagger_ui_path

            self._assets: ASGIApp | None = StaticFiles(directory=str(swagger_ui_path))
        except ImportError:  # pragma: no cover - the bundle is a dependency
            self._assets = None
        self._bodies: dict[str, bytes] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith(("/__admin/docs", "/__admin/specs/")):
            await self.app(scope, receive, send)
            return
        if path == "/__admin/docs":
            response: Response = RedirectResponse("/__admin/docs/")
        elif path in ("/__admin/docs/", "/__admin/docs/index.html"):
            response = FileResponse(_INDEX, media_type="text/html")
        elif path.startswith("/__admin/specs/"):
            response = self._spec(path.rsplit("/", 1)[1])
        elif self._assets is not None:
            sub = dict(scope, path=path[len("/__admin/docs") :], root_path="")
            await self._assets(sub, receive, send)
            return
        else:
            response = Response(status_code=404)
        await response(scope, receive, send)

    def _spec(self, name: str) -> Response:
        source = _SPECS.get(name)
        if source is None:
            return Response(
                b'{"error": "no such spec"}', status_code=404, media_type="application/json"
            )
        body = self._bodies.get(name)
        if body is None:
            try:
                body = orjson.dumps(load_spec(source))
            except FileNotFoundError:
                return Response(
                    b'{"error": "no such spec"}', status_code=404, media_type="application/json"
                )
            self._bodies[name] = body
        return Response(body, media_type="application/json")
