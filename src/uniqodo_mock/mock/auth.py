"""``--admin-token``: the mock's ``/__admin`` API answers only to ``Authorization: Bearer TOKEN``
or ``?token=TOKEN``. ``/__admin/health`` stays open (load balancers and readiness probes poll
it); the vendor API keeps its own keys in the path, as the platform does."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.types import ASGIApp, Receive, Scope, Send

from uniqodo_mock.bearer import token_given

__all__ = ["AdminTokenMiddleware", "access_key_sent", "checked_token"]

_PUBLIC = frozenset({"/__admin/health"})


class AdminTokenMiddleware:
    def __init__(self, app: ASGIApp, token: str | None) -> None:
        self.app = app
        self.expected = token.encode() if token else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.expected is None or scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        guarded = (path == "/__admin" or path.startswith("/__admin/")) and path not in _PUBLIC
        if guarded and not self._authorised(scope):
            await _unauthorised(send)
            return
        await self.app(scope, receive, send)

    def _authorised(self, scope: Scope) -> bool:
        assert self.expected is not None
        return token_given(scope, self.expected)


def checked_token(token: str, **_: Any) -> dict[str, Any]:
    """The ``x-bearerInfoFunc``/``x-apikeyInfoFunc`` of ``openapi/admin.yaml``'s security
    schemes. ``AdminTokenMiddleware`` runs before connexion and has already refused a wrong
    token, so whatever reaches connexion is accepted here; the schemes exist to document the
    token (and offer Swagger UI's "Authorize"), not to check it twice."""
    return {"sub": "admin"}


async def _unauthorised(send: Send) -> None:
    # The admin API speaks plain JSON (its own spec), not the vendor envelope.
    body = orjson.dumps(
        {
            "error": "unauthorised",
            "message": "this mock needs its admin token: Authorization: Bearer TOKEN or ?token=",
        },
        option=orjson.OPT_APPEND_NEWLINE,
    )
    await send(
        {
            "type": "http.response.start",
            "status": 401,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"www-authenticate", b'Bearer realm="uniqodo-mock admin"'),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def access_key_sent(api_key: str, required_scopes: object = None) -> dict[str, Any]:
    """The ``x-apikeyInfoFunc`` of the Reward API's ``UQD-ACCESS-KEY`` (openapi/uniqodo.yaml):
    connexion answers a request without the header 401; whether the key is a distributor's
    authorised for the promotion is the operation's own check (a database call, off the
    event loop), so any key sent passes here."""
    return {"sub": "distributor"}
