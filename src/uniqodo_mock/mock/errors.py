"""Every failure rendered in the vendor's envelope: connexion's problems (malformed
parameters), starlette's HTTP errors (404, 405 with ``Allow``), undecodable bodies, a database
that went away (503) and anything unexpected (500). Never problem+json, never a bare 500."""

from __future__ import annotations

import logging
from collections.abc import Callable

from connexion.exceptions import ProblemException
from connexion.lifecycle import ConnexionRequest, ConnexionResponse
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException

from uniqodo_mock.core.errors import ErrorCatalogue
from uniqodo_mock.mock.envelope import JSON_MEDIA_TYPE, envelope_bytes, error_entry
from uniqodo_mock.mock.paths import PathShapes

__all__ = ["error_key_for_status", "install_error_handlers"]

logger = logging.getLogger("uniqodo_mock.errors")

# HTTP status → the catalogue entry that carries its vendor number.
_KEY_BY_STATUS = {
    400: "invalid_parameter",
    401: "unknown_api_key",
    403: "wrong_key_kind",
    404: "not_found",
    405: "method_not_allowed",
    406: "invalid_parameter",
    413: "payload_too_large",
    415: "unsupported_body",
    422: "invalid_parameter",
    429: "rate_limited",
    503: "service_unavailable",
}


def error_key_for_status(status: int) -> str:
    """The catalogue entry whose vendor number travels with an HTTP status."""
    return _KEY_BY_STATUS.get(status, "internal_error" if status >= 500 else "invalid_parameter")


def _envelope(
    catalogue: ErrorCatalogue,
    key: str,
    status: int,
    locale: str | None,
    detail: str | None = None,
    headers: dict[str, str] | None = None,
) -> ConnexionResponse:
    from uniqodo_mock.core.codes import new_reference

    entry = catalogue[key]
    message = entry.message(locale)
    if detail:
        message = f"{message} {detail}"
    body = envelope_bytes(None, [error_entry(entry.code, message, reference=new_reference())])
    clean_headers = {
        k: v
        for k, v in (headers or {}).items()
        if k.lower() not in ("content-type", "content-length")
    }
    return ConnexionResponse(
        status_code=status,
        mimetype=JSON_MEDIA_TYPE,
        body=body,
        headers=clean_headers,
    )


def _locale(request: ConnexionRequest) -> str | None:
    try:
        return request.query_params.get("locale")
    except Exception:  # a query string that cannot even be parsed
        return None


def _clean_detail(detail: object) -> str | None:
    if not detail:
        return None
    text = str(detail).strip()
    # connexion appends the failing schema after a blank line: the first line says it all.
    text = text.split("\n\n", 1)[0].strip()
    if not text.endswith("."):
        text += "."
    return text[:500]


def install_error_handlers(
    app: object, catalogue_of: Callable[[], ErrorCatalogue], shapes: PathShapes | None = None
) -> None:
    """Register the envelope renderers on a connexion app. ``catalogue_of`` returns the error
    catalogue in force (fixtures may change it at runtime); ``shapes`` turns a 404 on a
    malformed path parameter into the 400 it deserves."""

    def problem(request: ConnexionRequest, exc: ProblemException) -> ConnexionResponse:
        status = exc.status or 400
        key = error_key_for_status(status)
        return _envelope(
            catalogue_of(), key, status, _locale(request), _clean_detail(exc.detail), exc.headers
        )

    def http_error(request: ConnexionRequest, exc: HTTPException) -> ConnexionResponse:
        status = exc.status_code
        if status == 404 and shapes is not None:
            misfit = shapes.malformed_parameter(request.url.path, request.method)
            if misfit:
                name, problem_text = misfit
                return _envelope(
                    catalogue_of(),
                    "invalid_parameter",
                    400,
                    _locale(request),
                    f"Path parameter '{name}' {problem_text}.",
                )
        key = error_key_for_status(status)
        detail = None if status in (404, 405) else _clean_detail(exc.detail)
        headers = dict(exc.headers or {})
        if status == 405 and shapes is not None:
            # Each (path, method) is its own route, so the router's Allow names only one.
            allowed = shapes.allowed_methods(request.url.path)
            if allowed:
                headers["Allow"] = ", ".join(
                    sorted({*allowed, "HEAD"} if "GET" in allowed else set(allowed))
                )
        return _envelope(catalogue_of(), key, status, _locale(request), detail, headers)

    def undecodable(request: ConnexionRequest, exc: UnicodeDecodeError) -> ConnexionResponse:
        return _envelope(
            catalogue_of(),
            "unsupported_body",
            400,
            _locale(request),
            "The request is not valid UTF-8.",
        )

    def unexpected(request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
        if isinstance(exc, OperationalError | PoolTimeoutError) or (
            isinstance(exc, DBAPIError) and exc.connection_invalidated
        ):
            logger.warning("database unavailable: %s", exc.__class__.__name__)
            return _envelope(
                catalogue_of(),
                "service_unavailable",
                503,
                _locale(request),
                None,
                {"Retry-After": "1"},
            )
        logger.error("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
        return _envelope(catalogue_of(), "internal_error", 500, _locale(request))

    add = app.add_error_handler  # type: ignore[attr-defined]
    add(ProblemException, problem)
    add(HTTPException, http_error)
    add(UnicodeDecodeError, undecodable)
    add(Exception, unexpected)
