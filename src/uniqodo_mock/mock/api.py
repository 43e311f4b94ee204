"""The Uniqodo API's operations, as connexion handlers: thin, async, one service call each.

``VendorApi`` is built by the app factory around one ``MockService``; the spec's operationIds
(``uniqodo_mock.mock.api.<name>``) resolve to its methods. Handlers return ready starlette
responses, so connexion does no serialisation of its own.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, NamedTuple
from xml.sax.saxutils import escape

from connexion import request
from starlette.responses import Response

from uniqodo_mock.core.errors import VendorError
from uniqodo_mock.mock.envelope import (
    envelope_body_response,
    envelope_bytes,
    error_entries,
    status_for,
)
from uniqodo_mock.mock.exchange import Exchange
from uniqodo_mock.service import MockService, Outcome

__all__ = ["OPERATIONS", "Answer", "VendorApi"]

OPERATIONS = (
    "get_code",
    "list_offers",
    "list_offers_default",
    "validate_code",
    "validate_code_form",
    "redeem_code",
    "publisher_query",
    "distributor_query",
    "embeddable_code",
    "user_code_enquiry",
    "vcot_conversion",
    "reporting_log",
)


_RENDERED_MAX = 1024


class Answer(NamedTuple):
    """An operation's answer: the status and envelope bytes, and the errors behind them."""

    status: int
    body: bytes
    errors: list[VendorError]
    entries: list[dict[str, Any]]


class VendorApi:
    """The handlers of ``openapi/uniqodo.yaml``."""

    def __init__(self, service: MockService) -> None:
        self.service = service
        # Called with every exchange (the request journal subscribes here).
        self.observers: list[Callable[[Exchange], None]] = []
        # Error-free outcomes rendered lately, by identity (the outcome is held, so its id
        # cannot be reused while the entry exists).
        self._rendered: dict[int, tuple[Outcome, Answer]] = {}

    # -- plumbing -----------------------------------------------------------------------
    def _evaluate(self, call: Callable[[], Outcome], params: dict[str, Any]) -> Answer:
        """Run one service call and render its outcome in the envelope."""
        try:
            outcome = call()
        except VendorError as error:
            outcome = Outcome(None, [error])
        if not outcome.errors:
            # An outcome the service's read memo handed out again renders the same bytes.
            rendered = self._rendered.get(id(outcome))
            if rendered is not None and rendered[0] is outcome:
                return rendered[1]
            answer = Answer(200, envelope_bytes(outcome.data, []), [], [])
            if len(self._rendered) >= _RENDERED_MAX:
                self._rendered.clear()
            self._rendered[id(outcome)] = (outcome, answer)
            return answer
        catalogue = self.service.catalogue
        entries = error_entries(outcome.errors, catalogue, params.get("locale"))
        status = status_for(outcome.errors, catalogue)
        return Answer(status, envelope_bytes(outcome.data, entries), outcome.errors, entries)

    def _answer(
        self,
        operation: str,
        call: Callable[[], Outcome],
        params: dict[str, Any],
        *,
        api_key: str | None = None,
        code: str | None = None,
    ) -> Response:
        started = time.perf_counter()
        answer = self._evaluate(call, params)
        if self.observers:
            self.notify(
                operation, request.method, request.url.path, params, answer, api_key, code, started
            )
        return envelope_body_response(answer.body, answer.status)

    def notify(
        self,
        operation: str,
        method: str,
        path: str,
        params: dict[str, Any],
        answer: Answer,
        api_key: str | None,
        code: str | None,
        started: float,
    ) -> None:
        """Tell the observers (the request journal) about one exchange."""
        if not self.observers:
            return
        exchange = Exchange(
            operation=operation,
            method=method,
            path=path,
            params=params,
            status=answer.status,
            errors=answer.errors,
            error_entries=answer.entries,
            api_key=api_key,
            code=code,
            at=datetime.now(UTC),
            duration_ms=(time.perf_counter() - started) * 1000,
        )
        for observer in self.observers:
            observer(exchange)

    @staticmethod
    def _query() -> dict[str, str]:
        # The first value of each parameter, as the platform reads a query string.
        out: dict[str, str] = {}
        for key, value in request.query_params.multi_items():
            out.setdefault(key, value)
        return out

    # -- Code API -----------------------------------------------------------------------
    async def get_code(self, api_key: str, offer_id: int, **_: Any) -> Response:
        params = self._query()
        return self._answer(
            "get_code", self._issue_code_call(api_key, offer_id, params), params, api_key=api_key
        )

    def code_answer(self, api_key: str, offer_id: int, params: dict[str, str]) -> Answer:
        """``GET /code`` answered without a response object (the hot lane sends the bytes)."""
        return self._evaluate(self._issue_code_call(api_key, offer_id, params), params)

    def _issue_code_call(
        self, api_key: str, offer_id: int, params: dict[str, str]
    ) -> Callable[[], Outcome]:
        uid = params.get("uid") or None
        return lambda: self.service.issue_code(api_key, offer_id, uid)

    # -- Offers API ---------------------------------------------------------------------
    async def list_offers(self, api_key: str, format: str = "json", **_: Any) -> Response:
        params = self._query()
        response = self._answer(
            "list_offers", lambda: self.service.list_offers(api_key), params, api_key=api_key
        )
        if format == "xml" and response.status_code == 200:
            return Response(_offers_xml(response.body), media_type="application/xml")
        return response

    async def list_offers_default(self, api_key: str, **_: Any) -> Response:
        return await self.list_offers(api_key, "json")

    # -- Validation API -------------------------------------------------------------------
    async def validate_code(self, api_key: str, code: str, merchant_id: int, **_: Any) -> Response:
        params = self._query()
        return self._answer(
            "validate_code",
            lambda: self.service.validate(api_key, code, merchant_id, params),
            params,
            api_key=api_key,
            code=code,
        )

    async def validate_code_form(
        self, api_key: str, code: str, merchant_id: int, **form: Any
    ) -> Response:
        # connexion has read and validated the form body already; it passes the fields here.
        params = {**self._query()}
        fields = form.pop("body", None)
        for source in (fields if isinstance(fields, dict) else {}, form):
            for key, value in source.items():
                if isinstance(value, str):
                    params[key] = value
                elif isinstance(value, list) and value and isinstance(value[0], str):
                    params[key] = value[0]
                elif value is not None and not isinstance(value, bytes | dict):
                    params[key] = str(value)
        return self._answer(
            "validate_code_form",
            lambda: self.service.validate(api_key, code, merchant_id, params),
            params,
            api_key=api_key,
            code=code,
        )

    # -- Redemption API -------------------------------------------------------------------
    async def redeem_code(self, api_key: str, code: str, merchant_id: int, **_: Any) -> Response:
        params = self._query()
        return self._answer(
            "redeem_code",
            lambda: self.service.redeem(api_key, code, merchant_id, params),
            params,
            api_key=api_key,
            code=code,
        )

    # -- Queries --------------------------------------------------------------------------
    async def publisher_query(self, api_key: str, promotion_uuid: str, **_: Any) -> Response:
        params = self._query()
        return self._answer(
            "publisher_query",
            self._publisher_query_call(api_key, promotion_uuid, params),
            params,
            api_key=api_key,
        )

    def publisher_query_answer(
        self, api_key: str, promotion_uuid: str, params: dict[str, str]
    ) -> Answer:
        """The publisher query answered without a response object (for the hot lane)."""
        return self._evaluate(self._publisher_query_call(api_key, promotion_uuid, params), params)

    def _publisher_query_call(
        self, api_key: str, promotion_uuid: str, params: dict[str, str]
    ) -> Callable[[], Outcome]:
        user_id = params.get("userId", "")
        return lambda: self.service.publisher_query(api_key, promotion_uuid, user_id)

    async def distributor_query(self, api_key: str, promotion_uuid: str, **_: Any) -> Response:
        params = self._query()
        return self._answer(
            "distributor_query",
            lambda: self.service.distributor_query(
                api_key, promotion_uuid, params.get("userId", "")
            ),
            params,
            api_key=api_key,
        )

    # -- Embeddable codes and user code enquiry -----------------------------------------------
    async def embeddable_code(
        self, claim_credential: str, promotion_uuid: str, **_: Any
    ) -> Response:
        params = self._query()
        return self._answer(
            "embeddable_code",
            lambda: self.service.embeddable_code(
                claim_credential,
                promotion_uuid,
                params.get("uid") or None,
                params.get("email") or None,
            ),
            params,
            api_key=claim_credential,
        )

    async def user_code_enquiry(self, merchant_key: str, promotion_uuid: str, **_: Any) -> Response:
        params = self._query()
        return self._answer(
            "user_code_enquiry",
            lambda: self.service.user_code_enquiry(
                merchant_key, promotion_uuid, params.get("email", "")
            ),
            params,
            api_key=merchant_key,
        )

    # -- What the merchant's JavaScript tags call besides validate and redeem -----------------
    async def vcot_conversion(self, **_: Any) -> Response:
        """``GET /vcot/conversion``: the affiliate conversion of a redemption (its token)."""
        params = self._query()
        return self._answer(
            "vcot_conversion",
            lambda: self.service.record_conversion(params.get("redemptionKey", "")),
            params,
        )

    async def reporting_log(self, **_: Any) -> Response:
        """``GET /reporting/{advertiserId}/log``: the tags' error log. Kept only in the
        request journal (the exchange's parameters); clients ignore the answer."""
        params = self._query()
        return self._answer("reporting_log", lambda: Outcome(None), params)


def _offers_xml(json_body: bytes) -> bytes:
    """The Offers API's ``xml`` format (simulator): the JSON envelope as elements."""
    import orjson

    def element(name: str, value: Any) -> str:
        if value is None:
            return f"<{name}/>"
        if isinstance(value, dict):
            return f"<{name}>" + "".join(element(k, v) for k, v in value.items()) + f"</{name}>"
        if isinstance(value, list):
            child = "offer" if name == "offers" else "item"
            return f"<{name}>" + "".join(element(child, v) for v in value) + f"</{name}>"
        if isinstance(value, bool):
            value = "true" if value else "false"
        return f"<{name}>{escape(str(value))}</{name}>"

    document = orjson.loads(json_body)
    return ('<?xml version="1.0" encoding="UTF-8"?>' + element("response", document)).encode()
