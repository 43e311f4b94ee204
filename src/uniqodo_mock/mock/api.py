"""The Uniqodo API's operations: one async handler per operationId of ``openapi/uniqodo.yaml``.

Each handler names the service call its operation makes. ``VendorApi.answer`` does the rest, the
same for every operation: a kept answer when the one cache (``mock/answers.py``) holds one for
this request and state; else the service call in a database thread (``mock/dbcalls.py``),
rendered in the envelope, kept when the operation only read.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape

import orjson

from uniqodo_mock.core.codes import derived_reference
from uniqodo_mock.core.errors import VendorError
from uniqodo_mock.mock.answer import Answer, VendorRequest, envelope_headers
from uniqodo_mock.mock.answers import AnswerCache
from uniqodo_mock.mock.dbcalls import DatabaseCalls
from uniqodo_mock.mock.envelope import envelope_bytes, error_entries, reference_for, status_for
from uniqodo_mock.mock.journal import exchange_errors
from uniqodo_mock.mock.reward import reward_error, reward_error_body
from uniqodo_mock.service import MockService, Outcome

if TYPE_CHECKING:
    from uniqodo_mock.control.clock_sync import ClockSync

__all__ = ["ACCESS_KEY_HEADER", "OPERATIONS", "VendorApi"]

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
    "create_claim",
)

ServiceCall = Callable[[], Outcome]
Render = Callable[[VendorRequest, Outcome], Answer]
# The Reward API's header key (openapi/uniqodo.yaml: RewardAccessKey).
ACCESS_KEY_HEADER = "UQD-ACCESS-KEY"


class VendorApi:
    """The handlers of ``openapi/uniqodo.yaml``, over one service."""

    def __init__(
        self,
        service: MockService,
        calls: DatabaseCalls,
        answers: AnswerCache[Answer],
        clock_sync: ClockSync | None = None,
    ) -> None:
        self.service = service
        self.calls = calls
        self.answers = answers
        self.clock_sync = clock_sync

    # -- one path for every operation ---------------------------------------------------
    async def answer(
        self,
        request: VendorRequest,
        call: ServiceCall,
        *,
        may_keep: bool = True,
        render: Render | None = None,
    ) -> Answer:
        """``may_keep``: False for operations whose answers are never kept (they write);
        ``render``: the outcome's answer, when not in the v1 envelope (``render``)."""
        answers = self.answers
        token = answers.token() if may_keep else None
        key = request.cache_key
        if token is not None:
            kept = answers.get(key, token, self.service.clock.now())
            if kept is not None:
                return kept
        answer = await self.calls.run(lambda: self._computed(request, call, render or self.render))
        if token is not None and answer.keep_until is not None:
            answers.put(key, token, answer.keep_until, answer)
        return answer

    def _computed(self, request: VendorRequest, call: ServiceCall, render: Render) -> Answer:
        """The service call and its answer (in a database thread)."""
        if self.clock_sync is not None:
            self.clock_sync.refresh()
        try:
            outcome = call()
        except VendorError as error:
            outcome = Outcome(None, [error], keep_until=error.keep_until)
        return render(request, outcome)

    def render(self, request: VendorRequest, outcome: Outcome) -> Answer:
        newline = self.service.state.settings.answer_newline
        if not outcome.errors:
            body = envelope_bytes(outcome.data, [], newline=newline)
            return Answer(200, body, envelope_headers(body), keep_until=outcome.keep_until)
        state = self.service.state
        catalogue = state.catalogue
        reference = reference_for(
            outcome.errors,
            catalogue,
            lambda: derived_reference(
                state.settings.seed, request.cache_key, tuple(e.key for e in outcome.errors)
            ),
        )
        locale = request.params.get("locale") or state.settings.default_locale
        entries = error_entries(outcome.errors, catalogue, locale, reference)
        body = envelope_bytes(outcome.data, entries, newline=newline)
        return Answer(
            status_for(outcome.errors, catalogue),
            body,
            envelope_headers(body),
            orjson.dumps(exchange_errors(outcome.errors, entries)),
            keep_until=outcome.keep_until,
        )

    # -- Code API -----------------------------------------------------------------------
    async def get_code(self, request: VendorRequest) -> Answer:
        api_key, offer_id = request.path_params["api_key"], request.path_params["offer_id"]
        uid = request.params.get("uid") or None
        return await self.answer(request, lambda: self.service.issue_code(api_key, offer_id, uid))

    # -- Offers API ---------------------------------------------------------------------
    async def list_offers(self, request: VendorRequest) -> Answer:
        api_key = request.path_params["api_key"]
        answer = await self.answer(request, lambda: self.service.list_offers(api_key))
        if request.path_params.get("format") == "xml" and answer.status == 200:
            body = _offers_xml(answer.body)
            headers = (
                (b"content-length", str(len(body)).encode("latin-1")),
                (b"content-type", b"application/xml"),
            )
            return Answer(200, body, headers, answer.journal_errors)
        return answer

    async def list_offers_default(self, request: VendorRequest) -> Answer:
        return await self.list_offers(request)

    # -- Validation API -------------------------------------------------------------------
    async def validate_code(self, request: VendorRequest) -> Answer:
        api_key, code, merchant_id = _code_path(request)
        params = request.params
        return await self.answer(
            request,
            lambda: self.service.validate(api_key, code, merchant_id, params),
            may_keep=False,
        )

    async def validate_code_form(self, request: VendorRequest) -> Answer:
        return await self.validate_code(request)

    # -- Redemption API -------------------------------------------------------------------
    async def redeem_code(self, request: VendorRequest) -> Answer:
        api_key, code, merchant_id = _code_path(request)
        params = request.params
        return await self.answer(
            request,
            lambda: self.service.redeem(api_key, code, merchant_id, params),
            may_keep=False,
        )

    # -- Queries --------------------------------------------------------------------------
    async def publisher_query(self, request: VendorRequest) -> Answer:
        api_key, promotion = _promotion_path(request, "api_key")
        user_id = request.params.get("userId", "")
        return await self.answer(
            request, lambda: self.service.publisher_query(api_key, promotion, user_id)
        )

    async def distributor_query(self, request: VendorRequest) -> Answer:
        api_key, promotion = _promotion_path(request, "api_key")
        user_id = request.params.get("userId", "")
        return await self.answer(
            request, lambda: self.service.distributor_query(api_key, promotion, user_id)
        )

    # -- Embeddable codes and user code enquiry -----------------------------------------------
    async def embeddable_code(self, request: VendorRequest) -> Answer:
        credential, promotion = _promotion_path(request, "claim_credential")
        uid = request.params.get("uid") or None
        email = request.params.get("email") or None
        return await self.answer(
            request, lambda: self.service.embeddable_code(credential, promotion, uid, email)
        )

    async def user_code_enquiry(self, request: VendorRequest) -> Answer:
        merchant_key, promotion = _promotion_path(request, "merchant_key")
        email = request.params.get("email", "")
        return await self.answer(
            request, lambda: self.service.user_code_enquiry(merchant_key, promotion, email)
        )

    # -- What the merchant's JavaScript tags call besides validate and redeem -----------------
    async def vcot_conversion(self, request: VendorRequest) -> Answer:
        """``GET /vcot/conversion``: the affiliate conversion of a redemption (its token)."""
        redemption_key = request.params.get("redemptionKey", "")
        return await self.answer(
            request, lambda: self.service.record_conversion(redemption_key), may_keep=False
        )

    async def reporting_log(self, request: VendorRequest) -> Answer:
        """``GET /reporting/{advertiserId}/log``: the tags' error log, kept only in the request
        journal (the exchange's parameters); clients ignore the answer."""
        return self.render(request, Outcome(None))

    # -- Reward API v2 (reward.uniqodo.io) ----------------------------------------------------
    async def create_claim(self, request: VendorRequest) -> Answer:
        """``POST /v2/claims``: a code of the promotion for the customer (the same again for
        the same customer), in the Reward API's own shape (``mock/reward.py``)."""
        params = request.params
        access_key = params.get(ACCESS_KEY_HEADER, "")
        promotion_id = params.get("promotionId", "")
        customer_id = params.get("customer.id", "")
        return await self.answer(
            request,
            lambda: self.service.claim(access_key, promotion_id, customer_id),
            render=self.render_claim,
        )

    def render_claim(self, request: VendorRequest, outcome: Outcome) -> Answer:
        if not outcome.errors:
            body = orjson.dumps(outcome.data)
            return Answer(201, body, envelope_headers(body), keep_until=outcome.keep_until)
        error = outcome.errors[0]
        state = self.service.state
        status, message = reward_error(error, state.settings.reward_errors)
        body = reward_error_body(message)
        # As v1's journal records (the catalogue's number, so the journal's filters work),
        # with the Reward API's status and message.
        catalogue = state.catalogue
        journal = [
            {
                "code": catalogue[error.key].code if error.key in catalogue else None,
                "key": error.key,
                "message": message,
                "reference": None,
                "status": status,
                "why": error.detail.to_json(),
            }
        ]
        return Answer(
            status,
            body,
            envelope_headers(body),
            orjson.dumps(journal),
            keep_until=outcome.keep_until,
        )


def _code_path(request: VendorRequest) -> tuple[str, str, int]:
    path = request.path_params
    return path["api_key"], path["code"], path["merchant_id"]


def _promotion_path(request: VendorRequest, key_name: str) -> tuple[str, str]:
    return request.path_params[key_name], request.path_params["promotion_uuid"]


def _offers_xml(json_body: bytes) -> bytes:
    """The Offers API's ``xml`` format (simulator): the JSON envelope as elements."""

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
