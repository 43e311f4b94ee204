"""The specs the mock serves, and Swagger UI for them, offline.

* ``/openapi.json`` and ``/openapi.yaml`` (the vendor API), ``/__admin/openapi.json|yaml``,
  ``/__email/openapi.json|yaml``: each spec with its base path;
* ``/__admin/docs``: Swagger UI over all of them (``/__admin/specs/NAME.json``).

Every served copy names the mock itself first in ``servers``, at the origin the request came
to (so Swagger UI's "Try it out" talks to this mock, on whatever host and port it runs); the live
platform stays listed after it, never first.
"""

from __future__ import annotations

import copy
from functools import lru_cache
from pathlib import Path
from typing import Any

import orjson
import yaml
from starlette.datastructures import Headers
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from uniqodo_mock.specs import load_spec

__all__ = ["DocsMiddleware", "served_spec"]

_INDEX = Path(__file__).with_name("static") / "docs.html"
# Served path → (spec file, base path of its API).
_SERVED = {
    "/openapi.json": ("uniqodo.yaml", ""),
    "/openapi.yaml": ("uniqodo.yaml", ""),
    "/__admin/openapi.json": ("admin.yaml", "/__admin"),
    "/__admin/openapi.yaml": ("admin.yaml", "/__admin"),
    "/__email/openapi.json": ("email.yaml", "/__email"),
    "/__email/openapi.yaml": ("email.yaml", "/__email"),
    "/__admin/specs/uniqodo.json": ("uniqodo.yaml", ""),
    "/__admin/specs/admin.json": ("admin.yaml", "/__admin"),
    "/__admin/specs/receiver.json": ("receiver.yaml", None),
}
_LOCAL_HOSTS = ("127.0.0.1", "localhost", "[::1]")


def _origin(scope: Scope) -> str:
    host = Headers(scope=scope).get("host")
    if not host:
        server = scope.get("server") or ("127.0.0.1", 80)
        host = f"{server[0]}:{server[1]}"
    return f"{scope.get('scheme', 'http')}://{host}"


@lru_cache(maxsize=64)
def served_spec(source: str, base_path: str | None, origin: str) -> dict[str, Any]:
    """The spec as served at ``origin``: this mock first in ``servers``, then the spec's own
    servers that are not a local address of the mock (the live platform)."""
    spec = copy.deepcopy(load_spec(source))
    if base_path is None:  # another server's API (the receiver): its servers as written
        return spec
    own = {"url": origin + base_path, "description": "this mock"}
    spec["servers"] = _mock_first(own, spec.get("servers"))
    # A path or operation with servers of its own (the Reward API's host) overrides the
    # document's: there too the mock comes first, else "Try it out" calls the live platform.
    for item in (spec.get("paths") or {}).values():
        if not isinstance(item, dict):
            continue
        for holder in (item, *(v for v in item.values() if isinstance(v, dict))):
            if "servers" in holder:
                holder["servers"] = _mock_first(own, holder["servers"])
    return spec


def _mock_first(own: dict[str, str], servers: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """This mock, then the servers that are not a local address of the mock."""
    others = [
        server
        for server in servers or []
        if not any(f"//{host}" in str(server.get("url", "")) for host in _LOCAL_HOSTS)
    ]
    return [own, *others]


class DocsMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        try:
            from swagger_ui_bundle import swagger_ui_path

            self._assets: ASGIApp | None = StaticFiles(directory=str(swagger_ui_path))
        except ImportError:  # pragma: no cover - the bundle is a dependency
            self._assets = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        served = _SERVED.get(path)
        if served is not None:
            source, base_path = served
            try:
                spec = served_spec(source, base_path, _origin(scope))
            except FileNotFoundError:
                response: Response = Response(
                    b'{"error": "no such spec"}', status_code=404, media_type="application/json"
                )
            else:
                if path.endswith(".yaml"):
                    body = yaml.safe_dump(spec, sort_keys=False, allow_unicode=True).encode()
                    response = Response(body, media_type="text/yaml")
                else:
                    response = Response(orjson.dumps(spec), media_type="application/json")
            await response(scope, receive, send)
            return
        if not path.startswith(("/__admin/docs", "/__admin/specs/")):
            await self.app(scope, receive, send)
            return
        if path == "/__admin/docs":
            response = RedirectResponse("/__admin/docs/")
        elif path in ("/__admin/docs/", "/__admin/docs/index.html"):
            response = FileResponse(_INDEX, media_type="text/html")
        elif path.startswith("/__admin/specs/"):
            response = Response(
                b'{"error": "no such spec"}', status_code=404, media_type="application/json"
            )
        elif self._assets is not None:
            sub = dict(scope, path=path[len("/__admin/docs") :], root_path="")
            await self._assets(sub, receive, send)
            return
        else:
            response = Response(status_code=404)
        await response(scope, receive, send)
