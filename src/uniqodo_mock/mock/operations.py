"""The vendor API's operations, as the last step of connexion's middleware stack.

connexion routes the request (its ``RoutingMiddleware``: the spec's paths, one router) and
validates its parameters (``RequestValidationMiddleware`` with ``mock/parameters.py``);
``VendorOperations`` is a connexion ``RoutedMiddleware``: for each operation of the vendor spec
it holds the handler the resolver gave (``VendorApi``'s method of the operationId) and calls it
with the parsed path and query parameters (and form fields), then sends the envelope. It does
the work connexion's handler decorator would otherwise repeat per request: inspecting the
handler's signature, re-reading and re-coercing every parameter, building request objects.

Operations of the other specs (admin, email) pass on to connexion's own handler path.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from connexion.middleware.abstract import RoutedAPI, RoutedMiddleware
from connexion.operations import AbstractOperation
from starlette.types import ASGIApp, Receive, Scope, Send

from uniqodo_mock.mock.answer import Answer, VendorRequest
from uniqodo_mock.mock.errors import RequestRejected
from uniqodo_mock.mock.journal import current_request
from uniqodo_mock.mock.parameters import PARSED, TooManyFields, first_values

__all__ = ["VENDOR_OPERATION_PREFIX", "VendorOperations"]

# The operationIds of openapi/uniqodo.yaml name VendorApi's methods under this prefix.
VENDOR_OPERATION_PREFIX = "uniqodo_mock.mock.api."

Handler = Callable[[VendorRequest], Awaitable[Answer]]


class _Operation:
    def __init__(self, name: str, handler: Handler, reads_form: bool) -> None:
        self.name = name
        self.handler = handler
        self.reads_form = reads_form

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        params = dict(scope.get("extensions", {}).get(PARSED) or {})
        if self.reads_form:
            params.update(await _form_fields(scope, receive))
        request = VendorRequest(
            operation=self.name,
            method=scope["method"],
            path=scope["path"],
            path_params=dict(scope.get("path_params") or {}),
            params=params,
        )
        record = current_request()
        if record is not None:
            record.request = request
        answer = await self.handler(request)
        if record is not None:
            record.answer = answer
        await send(
            {"type": "http.response.start", "status": answer.status, "headers": answer.headers}
        )
        await send({"type": "http.response.body", "body": answer.body})


class _Passthrough:
    def __init__(self, next_app: ASGIApp) -> None:
        self.next_app = next_app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.next_app(scope, receive, send)


class _VendorOperationsAPI(RoutedAPI[Any]):
    def __init__(self, *args: Any, handlers: object, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.handlers = handlers
        self.add_paths()

    def make_operation(self, operation: AbstractOperation) -> Any:
        operation_id = operation.operation_id or ""
        if not operation_id.startswith(VENDOR_OPERATION_PREFIX):
            return _Passthrough(self.next_app)
        name = operation_id[len(VENDOR_OPERATION_PREFIX) :]
        handler = getattr(self.handlers, name)
        reads_form = "application/x-www-form-urlencoded" in (operation.consumes or [])
        return _Operation(name, handler, reads_form and operation.method.upper() == "POST")


class VendorOperations(RoutedMiddleware[_VendorOperationsAPI]):
    api_cls = _VendorOperationsAPI

    def __init__(self, app: ASGIApp, handlers: object) -> None:
        super().__init__(app)
        self.handlers = handlers

    def add_api(self, specification: Any, **kwargs: Any) -> _VendorOperationsAPI:
        api = self.api_cls(specification, next_app=self.app, handlers=self.handlers, **kwargs)
        self.apis[api.base_path].append(api)
        return api


async def _form_fields(scope: Scope, receive: Receive) -> dict[str, str]:
    """The form body's fields, first value of each (the body was checked already: its size
    and charset by ``mock/limits.py``, its schema by connexion)."""
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    body = b"".join(chunks)
    charset = _charset(scope) or "utf-8"
    try:
        fields = first_values(body.decode(charset), what="form body", encoding=charset)
    except TooManyFields as error:
        raise RequestRejected(413, "payload_too_large", str(error)) from None
    return fields


def _charset(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-type":
            for piece in value.decode("latin-1").split(";")[1:]:
                key, _, charset = piece.partition("=")
                if key.strip().lower() == "charset" and charset.strip():
                    return charset.strip().strip('"').lower()
    return None
