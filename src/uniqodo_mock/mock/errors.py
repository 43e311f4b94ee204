"""Every failure rendered in the vendor's envelope (the Reward API's ``{"message"}`` on its
paths, ``mock/reward.py``), in one place: connexion's problems
(malformed parameters), starlette's HTTP errors (404, 405 with ``Allow``), undecodable or
oversized bodies, fault rules' answers, a database that went away (503 with ``Retry-After``)
and anything unexpected (500). Never problem+json, never a bare 500."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from connexion.exceptions import ProblemException
from connexion.lifecycle import ConnexionRequest, ConnexionResponse
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException

from uniqodo_mock.core.codes import derived_reference
from uniqodo_mock.core.errors import ErrorCatalogue
from uniqodo_mock.mock.dbcalls import DatabaseUnavailable, is_outage
from uniqodo_mock.mock.envelope import JSON_MEDIA_TYPE, envelope_bytes, error_entry
from uniqodo_mock.mock.faults import FaultAnswer
from uniqodo_mock.mock.journal import current_request
from uniqodo_mock.mock.paths import PathShapes
from uniqodo_mock.mock.reward import (
    is_reward_path,
    reward_error_body,
    reward_transport_message,
)

__all__ = ["ErrorRenderer", "RequestRejected", "error_key_for_status"]

logger = logging.getLogger("uniqodo_mock.errors")

# HTTP status → the catalogue entry that carries its vendor number.
_KEY_BY_STATUS = {
    400: "invalid_parameter",
    401: "unknown_api_key",
    403: "wrong_key_kind",
    404: "not_found",
    405: "method_not_allowed",
    406: "invalid_parameter",
    408: "unsupported_body",
    413: "payload_too_large",
    415: "unsupported_body",
    422: "invalid_parameter",
    429: "rate_limited",
    503: "service_unavailable",
}


def error_key_for_status(status: int) -> str:
    """The catalogue entry whose vendor number travels with an HTTP status."""
    return _KEY_BY_STATUS.get(status, "internal_error" if status >= 500 else "invalid_parameter")


class RequestRejected(Exception):
    """A request refused before any handler (its body too large, too slow, undecodable):
    ``status`` with the catalogue entry ``key`` and ``detail`` after its message."""

    def __init__(
        self, status: int, key: str, detail: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(detail)
        self.status, self.key, self.detail = status, key, detail
        self.headers = headers or {}


def _clean_detail(detail: object) -> str | None:
    if not detail:
        return None
    text = str(detail).strip()
    # connexion appends the failing schema after a blank line: the first line says it all.
    text = text.split("\n\n", 1)[0].strip()
    if not text.endswith("."):
        text += "."
    return text[:500]


def _locale(request: ConnexionRequest, default: str) -> str:
    try:
        return request.query_params.get("locale") or default
    except Exception:  # a query string that cannot even be parsed
        return default


class ErrorRenderer:
    """Renders failures in the envelope with the catalogue (and seed) in force.

    ``catalogue_of()``, ``seed_of()`` and ``default_locale_of()`` (the language of requests
    that name none) return what the loaded fixtures say now; ``shapes``
    turns a 404 on a malformed path parameter into the 400 it deserves."""

    def __init__(
        self,
        catalogue_of: Callable[[], ErrorCatalogue],
        seed_of: Callable[[], object],
        shapes: PathShapes,
        default_locale_of: Callable[[], str] = lambda: "en",
        reward_errors_of: Callable[[], Mapping[str, Mapping[str, Any]]] = dict,
        newline_of: Callable[[], bool] = lambda: True,
    ) -> None:
        self.catalogue_of = catalogue_of
        self.seed_of = seed_of
        self.shapes = shapes
        self.default_locale_of = default_locale_of
        # The fixtures' settings.reward_errors: the Reward API's paths answer in its shape.
        self.reward_errors_of = reward_errors_of
        # The fixtures' settings.answer_newline: whether answers end with a newline.
        self.newline_of = newline_of

    def render(
        self,
        request: ConnexionRequest,
        key: str,
        status: int,
        detail: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> ConnexionResponse:
        path = request.scope.get("path", "")
        if is_reward_path(path):
            message = reward_transport_message(status, detail, self.reward_errors_of())
            body = reward_error_body(message)
        else:
            body = self._envelope(request, key, detail)
        clean = {
            k: v
            for k, v in (headers or {}).items()
            if k.lower() not in ("content-type", "content-length")
        }
        return ConnexionResponse(
            status_code=status, mimetype=JSON_MEDIA_TYPE, body=body, headers=clean
        )

    def _envelope(self, request: ConnexionRequest, key: str, detail: str | None) -> bytes:
        catalogue = self.catalogue_of()
        entry = catalogue[key]
        message = entry.message(_locale(request, self.default_locale_of()))
        if detail:
            message = f"{message} {detail}"
        query = request.scope.get("query_string", b"")
        # The fixtures' own reference for this error, if they fix one ("" is none).
        reference = (
            entry.reference
            if entry.reference is not None
            else derived_reference(
                self.seed_of(), "transport", request.method, request.scope.get("path"), query, key
            )
        )
        return envelope_bytes(
            None,
            [error_entry(entry.code, message, reference=reference)],
            newline=self.newline_of(),
        )

    # -- the handlers -------------------------------------------------------------------
    def problem(self, request: ConnexionRequest, exc: ProblemException) -> ConnexionResponse:
        status = exc.status or 400
        detail = _clean_detail(exc.detail)
        return self.render(request, error_key_for_status(status), status, detail, exc.headers)

    def http_error(self, request: ConnexionRequest, exc: HTTPException) -> ConnexionResponse:
        status = exc.status_code
        path = request.scope.get("path", "")
        if status == 404:
            misfit = self.shapes.malformed_parameter(path, request.method)
            if misfit:
                name, problem_text = misfit
                record = current_request()
                if record is not None:
                    # No route fits a malformed path: the journal names the operation meant.
                    record.operation = self.shapes.operation(path, request.method)[0]
                return self.render(
                    request,
                    "invalid_parameter",
                    400,
                    f"Path parameter '{name}' {problem_text}.",
                )
        detail = None if status in (404, 405) else _clean_detail(exc.detail)
        headers = dict(exc.headers or {})
        if status == 405:
            # Each (path, method) is its own route, so the router's Allow names only one.
            allowed = self.shapes.allowed_methods(path)
            if allowed:
                headers["Allow"] = ", ".join(
                    sorted({*allowed, "HEAD"} if "GET" in allowed else set(allowed))
                )
        return self.render(request, error_key_for_status(status), status, detail, headers)

    def undecodable(self, request: ConnexionRequest, exc: UnicodeDecodeError) -> ConnexionResponse:
        return self.render(request, "unsupported_body", 400, "The request is not valid UTF-8.")

    def malformed_multipart(
        self, request: ConnexionRequest, exc: MultiPartException
    ) -> ConnexionResponse:
        """A multipart body connexion cannot take apart (no boundary, no parts): the client's
        fault, named as such. Over starlette's bounds on fields or files ("Too many fields",
        "Too many files", its only messages of the kind): 413, as for a form's fields."""
        if exc.message.startswith("Too many"):
            return self.render(request, "payload_too_large", 413, _clean_detail(exc.message))
        detail = _clean_detail(f"The multipart body is malformed: {exc.message}")
        return self.render(request, "unsupported_body", 400, detail)

    def too_deep(self, request: ConnexionRequest, exc: RecursionError) -> ConnexionResponse:
        """A JSON body nested deeper than the parser's recursion allows (``[[[[...``): the
        request's fault, whatever the route; the handlers recurse over nothing else."""
        return self.render(request, "unsupported_body", 400, "The JSON body is nested too deeply.")

    def rejected(self, request: ConnexionRequest, exc: RequestRejected) -> ConnexionResponse:
        return self.render(request, exc.key, exc.status, exc.detail, exc.headers)

    def fault(self, request: ConnexionRequest, exc: FaultAnswer) -> ConnexionResponse:
        decision = exc.decision
        catalogue = self.catalogue_of()
        key = error_key_for_status(decision.status or 500)
        if decision.error_code is not None:
            key = _catalogue_key(catalogue, decision.error_code) or key
        status = decision.status or catalogue[key].http_status
        headers = {}
        if decision.retry_after is not None:
            headers["Retry-After"] = str(decision.retry_after)
        return self.render(request, key, status, None, headers)

    def unexpected(self, request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
        if is_outage(exc):
            return self.render(
                request, "service_unavailable", 503, None, DatabaseUnavailable.HEADERS
            )
        logger.error("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
        return self.render(request, "internal_error", 500)

    def install(self, app: object) -> None:
        """Register the handlers on a connexion app (its exception middleware)."""
        add = app.add_error_handler  # type: ignore[attr-defined]
        add(ProblemException, self.problem)
        add(HTTPException, self.http_error)
        add(UnicodeDecodeError, self.undecodable)
        add(MultiPartException, self.malformed_multipart)
        add(RecursionError, self.too_deep)
        add(RequestRejected, self.rejected)
        add(FaultAnswer, self.fault)
        add(Exception, self.unexpected)


def _catalogue_key(catalogue: ErrorCatalogue, wanted: str | int) -> str | None:
    if isinstance(wanted, str) and wanted in catalogue:
        return wanted
    for entry in catalogue:
        if str(entry.code) == str(wanted):
            return entry.key
    return None
