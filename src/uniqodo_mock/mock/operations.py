"""The vendor API's operations, as the last step of connexion's middleware stack.

connexion routes the request (its ``RoutingMiddleware``: the spec's paths, one router) and
validates its parameters (``RequestValidationMiddleware`` with ``mock/parameters.py``);
``VendorOperations`` is a connexion ``RoutedMiddleware``: for each operation of the vendor spec
it holds the handler the resolver gave (``VendorApi``'s method of the operationId) and calls it
with the parsed path and query parameters (and form fields, or a JSON body's fields, and the
header keys of its security schemes), then sends the envelope. It does
the work connexion's handler decorator would otherwise repeat per request: inspecting the
handler's signature, re-reading and re-coercing every parameter, building request objects.

Operations of the other specs (admin, email) pass on to connexion's own handler path.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from connexion.exceptions import BadRequestProblem
from connexion.middleware.abstract import RoutedAPI, RoutedMiddleware
from connexion.operations import AbstractOperation
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from uniqodo_mock.mock.answer import Answer, VendorRequest
from uniqodo_mock.mock.errors import RequestRejected
from uniqodo_mock.mock.journal import current_request
from uniqodo_mock.mock.parameters import PARSED, TooManyFields, first_values

__all__ = ["VENDOR_OPERATION_PREFIX", "VendorOperations", "json_fields"]

# The operationIds of openapi/uniqodo.yaml name VendorApi's methods under this prefix.
VENDOR_OPERATION_PREFIX = "uniqodo_mock.mock.api."

Handler = Callable[[VendorRequest], Awaitable[Answer]]


class _Operation:
    def __init__(
        self,
        name: str,
        handler: Handler,
        reads_form: bool,
        *,
        reads_json: bool = False,
        header_keys: tuple[str, ...] = (),
    ) -> None:
        self.name = name
        self.handler = handler
        self.reads_form = reads_form
        self.reads_json = reads_json
        self.header_keys = header_keys

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        params = dict(scope.get("extensions", {}).get(PARSED) or {})
        if self.reads_form:
            params.update(await _form_fields(scope, receive))
        elif self.reads_json:
            params.update(await _json_fields(receive))
        if self.header_keys:
            headers = Headers(scope=scope)
            for name in self.header_keys:
                value = headers.get(name)
                if value is not None:
                    params[name] = value
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
        consumes = operation.consumes or []
        post = operation.method.upper() == "POST"
        return _Operation(
            name,
            handler,
            post and "application/x-www-form-urlencoded" in consumes,
            reads_json=post and "application/json" in consumes,
            header_keys=_header_keys(operation),
        )


class VendorOperations(RoutedMiddleware[_VendorOperationsAPI]):
    api_cls = _VendorOperationsAPI

    def __init__(self, app: ASGIApp, handlers: object) -> None:
        super().__init__(app)
        self.handlers = handlers

    def add_api(self, specification: Any, **kwargs: Any) -> _VendorOperationsAPI:
        api = self.api_cls(specification, next_app=self.app, handlers=self.handlers, **kwargs)
        self.apis[api.base_path].append(api)
        return api


def _header_keys(operation: AbstractOperation) -> tuple[str, ...]:
    """The headers the operation's ``apiKey`` security schemes name (``UQD-ACCESS-KEY``):
    connexion checks that one is sent, the handler checks the key itself."""
    schemes = operation.security_schemes or {}
    names: list[str] = []
    for requirement in operation.security or []:
        for scheme_name in requirement:
            scheme = schemes.get(scheme_name) or {}
            if scheme.get("type") == "apiKey" and scheme.get("in") == "header":
                names.append(str(scheme["name"]))
    return tuple(dict.fromkeys(names))


def json_fields(document: Any, prefix: str = "") -> dict[str, str]:
    """A JSON body's scalar values by their dotted path (``customer.id``), as text: the same
    flat fields as a form body, for the handler, the answer cache's key and the journal
    (connexion checked the body against its schema already)."""
    if isinstance(document, dict):
        fields: dict[str, str] = {}
        for key, value in document.items():
            fields.update(json_fields(value, f"{prefix}{key}."))
        return fields
    if not prefix:
        return {}
    name = prefix[:-1]
    return {name: document if isinstance(document, str) else orjson.dumps(document).decode()}


async def _json_fields(receive: Receive) -> dict[str, str]:
    body = await _body(receive)
    try:
        return json_fields(orjson.loads(body)) if body else {}
    except orjson.JSONDecodeError:
        # connexion refuses a body that is not JSON first; this only guards a missed case.
        raise BadRequestProblem(detail="Request body is not valid JSON") from None


async def _body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def _form_fields(scope: Scope, receive: Receive) -> dict[str, str]:
    """The form body's fields, first value of each (the body was checked already: its size
    and charset by ``mock/limits.py``, its schema by connexion)."""
    body = await _body(receive)
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
