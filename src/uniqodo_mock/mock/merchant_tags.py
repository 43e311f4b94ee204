"""The merchant's JavaScript tags, served by the mock, and a demo shop that uses them.

* ``GET /uqd/{uniqodo_id}.js``: the visit tag (``www.uqd.io/{UNIQODO_ID}.js`` in production).
* ``GET /track/{account_id}.js``: the redemption tag (``track.uniqodo.com/{account_id}.js``).
* ``/__demo/shop/``: a landing page, a basket and an order confirmation that load those tags
  as a merchant's site would.

Both ids name a merchant: its id (``1``) or one of its API keys. The tags are the static files
``static/uqd-visit.js`` and ``static/uqd-redemption.js``, with the merchant's settings (tag id,
merchant id, key, the mock's base URL) written as JSON into the config object at the top of the
file, between the ``/*@uqd-config*/`` and ``/*@end-config*/`` markers. What both tags share
(logging, cookies, the page object, the API call) is ``static/uqd-common.js``, written into each
at its ``/*@uqd-common*/`` marker when the tags are loaded, so each served tag is one
self-contained script. The merchant is looked up
(``MockService.tag_account``, a database call off the event loop) on every request, so the tags
follow fixture reloads. docs/merchant-tags.md describes what the tags do.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from uniqodo_mock.mock.dbcalls import DatabaseUnavailable

if TYPE_CHECKING:
    from uniqodo_mock.mock.runtime import MockRuntime

__all__ = ["MerchantTagsMiddleware", "load_tag_template", "render_tag"]

_STATIC = Path(__file__).with_name("static")
_TAG_FILES = {"/uqd/": "uqd-visit.js", "/track/": "uqd-redemption.js"}
_TAG_KINDS = {"/uqd/": "visit", "/track/": "redemption"}
_TAG_PREFIXES = tuple(_TAG_FILES)
_CONFIG_START = "/*@uqd-config*/"
_CONFIG_END = "/*@end-config*/"
_COMMON_FILE = "uqd-common.js"
_COMMON_MARKER = "/*@uqd-common*/"
_JS_MEDIA_TYPE = "text/javascript; charset=utf-8"
# Tags follow fixture reloads and resets: never kept by the browser without asking.
_NO_STORE = {"cache-control": "no-store", "x-content-type-options": "nosniff"}

_SHOP = "/__demo/shop"
_SHOP_FILES = {
    "/": ("index.html", "text/html"),
    "/index.html": ("index.html", "text/html"),
    "/basket.html": ("basket.html", "text/html"),
    "/confirmation.html": ("confirmation.html", "text/html"),
    "/shop.css": ("shop.css", "text/css"),
    "/shop.js": ("shop.js", "text/javascript"),
}


def _json_for_script(value: Any) -> str:
    """JSON that stays data inside a script: non-ASCII escaped (U+2028 and U+2029 too), and
    ``<``, ``>``, ``&`` as escapes, so no value can end a script element or a comment."""
    text = json.dumps(value, ensure_ascii=True, separators=(", ", ": "))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def render_tag(template: str, config: dict[str, Any]) -> str:
    """The tag's file with ``config`` as its config object (between the markers)."""
    head, _, rest = template.partition(_CONFIG_START)
    _, _, tail = rest.partition(_CONFIG_END)
    return f"{head}{_CONFIG_START} {_json_for_script(config)} {_CONFIG_END}{tail}"


def load_tag_template(name: str) -> str:
    """The tag ``name`` of ``static/`` as served, before its config is filled in: with the
    shared part (``uqd-common.js``) in place of its marker."""
    text = (_STATIC / name).read_text(encoding="utf-8")
    start, end = text.find(_CONFIG_START), text.find(_CONFIG_END)
    if start < 0 or end < start:
        raise RuntimeError(f"{name}: the config markers {_CONFIG_START} {_CONFIG_END} are missing")
    if text.count(_COMMON_MARKER) != 1:
        raise RuntimeError(f"{name}: the marker {_COMMON_MARKER} must stand exactly once")
    common = (_STATIC / _COMMON_FILE).read_text(encoding="utf-8")
    return text.replace(_COMMON_MARKER, common.strip("\n"))


def _unknown_tag(kind: str, tag_id: str) -> Response:
    # A script answered 404 is never run by the browser (it reports the failed load in its
    # console): the body only tells a human reading it why.
    shown = tag_id if len(tag_id) <= 140 else tag_id[:140] + "..."
    named = _json_for_script(shown).replace("*/", "*\\/")
    body = (
        f"/* uniqodo-mock: no merchant has the {kind} tag id {named}: use a merchant id of the "
        "loaded fixtures or one of its API keys (docs/merchant-tags.md). */\n"
    )
    return Response(body, status_code=404, media_type=_JS_MEDIA_TYPE, headers=_NO_STORE)


def _receiver_page(receiver_url: str | None) -> str | None:
    """The callback receiver's QA page, from the callback URL ``uniqodo-mock up`` wired."""
    if not receiver_url:
        return None
    parts = urlsplit(receiver_url)
    return f"{parts.scheme}://{parts.netloc}/__receiver/" if parts.netloc else None


class MerchantTagsMiddleware:
    """Answers the tags and the demo shop; everything else goes on to ``app``."""

    def __init__(self, app: ASGIApp, runtime: MockRuntime) -> None:
        self.app = app
        self.runtime = runtime
        self._templates = {prefix: load_tag_template(name) for prefix, name in _TAG_FILES.items()}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        response: Response | None = None
        if path.endswith(".js") and path.startswith(_TAG_PREFIXES):
            response = await self._tag(scope, path)
        elif path == _SHOP or path.startswith(_SHOP + "/"):
            response = self._shop(scope, path[len(_SHOP) :])
        if response is None:
            await self.app(scope, receive, send)
            return
        await response(scope, receive, send)

    async def _tag(self, scope: Scope, path: str) -> Response:
        prefix = "/uqd/" if path.startswith("/uqd/") else "/track/"
        tag_id = path[len(prefix) : -len(".js")]
        if scope["method"] not in ("GET", "HEAD"):
            return Response(
                "/* uniqodo-mock: a tag is loaded with GET */\n",
                status_code=405,
                media_type=_JS_MEDIA_TYPE,
                headers={"allow": "GET, HEAD"},
            )
        kind = _TAG_KINDS[prefix]
        plausible = 0 < len(tag_id) <= 128 and "/" not in tag_id
        account = None
        if plausible:
            service = self.runtime.service
            try:
                account = await self.runtime.calls.run(lambda: service.tag_account(tag_id))
            except DatabaseUnavailable as outage:
                return Response(
                    f"/* uniqodo-mock: the database is unavailable ({outage.reason}) */\n",
                    status_code=503,
                    media_type=_JS_MEDIA_TYPE,
                    headers={**_NO_STORE, **DatabaseUnavailable.HEADERS},
                )
        if account is None:
            return _unknown_tag(kind, tag_id)
        config = {
            "tag": kind,
            "tagId": tag_id,
            "merchantId": account.merchant_id,
            "key": account.key,
            # The tag prefers its own URL (document.currentScript.src); this is the fallback.
            "origin": str(Request(scope).base_url).rstrip("/"),
        }
        body = render_tag(self._templates[prefix], config)
        return Response(body, media_type=_JS_MEDIA_TYPE, headers=_NO_STORE)

    def _shop(self, scope: Scope, sub: str) -> Response:
        if sub == "":
            query = scope.get("query_string", b"").decode("latin-1")
            return RedirectResponse(f"{_SHOP}/" + (f"?{query}" if query else ""))
        if sub == "/settings.json":
            settings = {"receiverPage": _receiver_page(self.runtime.config.receiver_url)}
            return Response(json.dumps(settings), media_type="application/json", headers=_NO_STORE)
        found = _SHOP_FILES.get(sub)
        if found is None:
            return Response("not found", status_code=404, media_type="text/plain")
        name, media_type = found
        return FileResponse(_STATIC / "shop" / name, media_type=media_type)
