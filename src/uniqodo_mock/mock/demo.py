"""The demo page at ``/__demo/``: a click-to-reveal button and a content gate built on the
``embeddable/v2`` and ``user-code-enquiry`` operations, as a partner's page would use them.
Static HTML and vanilla JS (no CDN), so it works offline."""

from __future__ import annotations

from pathlib import Path

from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["DemoMiddleware"]

_PAGE = Path(__file__).with_name("static") / "demo.html"


class DemoMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith("/__demo"):
            await self.app(scope, receive, send)
            return
        response: Response
        if path == "/__demo":
            query = scope.get("query_string", b"").decode()
            response = RedirectResponse("/__demo/" + (f"?{query}" if query else ""))
        elif path in ("/__demo/", "/__demo/index.html"):
            response = FileResponse(_PAGE, media_type="text/html")
        else:
            response = Response("not found", status_code=404, media_type="text/plain")
        await response(scope, receive, send)
