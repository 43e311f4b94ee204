"""The mock server's app factory: a connexion AsyncApp over ``openapi/uniqodo.yaml`` (the vendor
API, at the root), ``openapi/admin.yaml`` (``/__admin``) and ``openapi/email.yaml``
(``/__email``), with every error in the envelope.

One path for every vendor request, through connexion's own middleware list (outermost first):

    CrossOriginMiddleware  CORS for pages of other origins (mock/cors.py; not /__admin)
    connexion ServerErrorMiddleware (the last resort: a 500 in the envelope)
    AdminTokenMiddleware   /__admin needs the admin token, when one is set
    DocsMiddleware         Swagger UI and the specs, /__admin/docs
    MerchantTagsMiddleware the merchant's JavaScript tags and the demo shop
    DemoMiddleware         the demo page, /__demo
    JournalMiddleware      every vendor request and what it was answered, into the journal
    connexion ExceptionMiddleware (ErrorRenderer: every failure rendered in the envelope)
    BodyLimitsMiddleware   bodies bounded in size, time and fields
    connexion RoutingMiddleware (the spec's paths: the one router)
    FaultMiddleware        fault rules, by operation
    connexion SecurityMiddleware (the admin API's schemes)
    connexion RequestValidationMiddleware (parameters: mock/parameters.py)
    VendorOperations       the vendor operation's handler (mock/api.py)
    connexion LifespanMiddleware, ContextMiddleware, then connexion's app: admin and email
    operations
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import connexion
from connexion.middleware.context import ContextMiddleware
from connexion.middleware.exceptions import ExceptionMiddleware
from connexion.middleware.lifespan import LifespanMiddleware
from connexion.middleware.request_validation import RequestValidationMiddleware
from connexion.middleware.routing import RoutingMiddleware
from connexion.middleware.security import SecurityMiddleware
from connexion.middleware.server_error import ServerErrorMiddleware
from connexion.options import SwaggerUIOptions
from connexion.resolver import Resolver

from uniqodo_mock.core.clock import ClockState
from uniqodo_mock.mock.admin import AdminApi
from uniqodo_mock.mock.answer import Answer
from uniqodo_mock.mock.answers import AnswerCache
from uniqodo_mock.mock.api import VendorApi
from uniqodo_mock.mock.auth import AdminTokenMiddleware
from uniqodo_mock.mock.cors import CrossOriginMiddleware
from uniqodo_mock.mock.demo import DemoMiddleware
from uniqodo_mock.mock.docs import DocsMiddleware
from uniqodo_mock.mock.email import EmailApi
from uniqodo_mock.mock.errors import ErrorRenderer
from uniqodo_mock.mock.faults import FaultMiddleware
from uniqodo_mock.mock.journal import JournalMiddleware
from uniqodo_mock.mock.limits import BodyLimits, BodyLimitsMiddleware
from uniqodo_mock.mock.logs import demote_refused_requests
from uniqodo_mock.mock.merchant_tags import MerchantTagsMiddleware
from uniqodo_mock.mock.operations import VendorOperations
from uniqodo_mock.mock.parameters import VendorParameters, VendorURIParsers
from uniqodo_mock.mock.paths import PathShapes, route_every_character
from uniqodo_mock.mock.runtime import MockConfig, MockRuntime, build_runtime
from uniqodo_mock.specs import load_spec, spec_dir

__all__ = ["MockApp", "create_app"]


class _HandlerResolver(Resolver):
    """operationId ``uniqodo_mock.mock.api.get_code`` → ``handlers["uniqodo_mock.mock.api"].get_code``:
    the handlers are objects built by the factory, not module globals."""

    def __init__(self, handlers: dict[str, Any]) -> None:
        self._handlers = handlers
        super().__init__(function_resolver=self._resolve)

    def _resolve(self, operation_id: str) -> Any:
        module, _, name = operation_id.rpartition(".")
        try:
            return getattr(self._handlers[module], name)
        except (KeyError, AttributeError):
            raise ImportError(f"no handler for operationId {operation_id!r}") from None


class MockApp(connexion.AsyncApp):
    """The connexion app of one mock, with what it serves."""

    runtime: MockRuntime
    vendor_api: VendorApi
    answers: AnswerCache[Answer]


def create_app(config: MockConfig | None = None, *, runtime: MockRuntime | None = None) -> MockApp:
    """Build a mock server app. Opens and migrates the database and loads fixtures now, so the
    app answers its first request with the state ready."""
    runtime = runtime or build_runtime(config or MockConfig())
    demote_refused_requests()
    route_every_character()
    service = runtime.service
    controls = runtime.controls
    answers: AnswerCache[Answer] = AnswerCache(
        runtime.data_version,
        lambda: (service.state.generation, _clock_key(service.clock.state)),
        enabled=runtime.config.answer_cache,
    )
    vendor_api = VendorApi(service, runtime.calls, answers, controls.clock_sync)
    renderer = ErrorRenderer(
        lambda: service.state.catalogue,
        lambda: service.state.settings.seed,
        PathShapes(load_spec("uniqodo.yaml")),
        default_locale_of=lambda: service.state.settings.default_locale,
        reward_errors_of=lambda: service.state.settings.reward_errors,
        newline_of=lambda: service.state.settings.answer_newline,
    )

    @contextlib.asynccontextmanager
    async def lifespan(_app: object) -> AsyncIterator[None]:
        for start in runtime.on_startup:
            await start()
        try:
            yield
        finally:
            for stop in reversed(runtime.on_shutdown):
                await stop()

    config = runtime.config
    middlewares: list[Any] = [
        # Outermost, so that even the last resort's 500 carries the CORS headers a page needs
        # to read it.
        partial(CrossOriginMiddleware, origins=config.cors_origins),
        partial(ServerErrorMiddleware, handler=renderer.unexpected),
        partial(AdminTokenMiddleware, token=config.admin_token),
        DocsMiddleware,
        # Before the demo page's /__demo: the shop lives under /__demo/shop/.
        partial(MerchantTagsMiddleware, runtime=runtime),
        DemoMiddleware,
        partial(JournalMiddleware, runtime=runtime),
        ExceptionMiddleware,
        partial(
            BodyLimitsMiddleware,
            limits=BodyLimits(
                config.max_body_bytes,
                config.body_timeout,
                config.admin_max_body_bytes,
                config.admin_body_timeout,
            ),
        ),
        RoutingMiddleware,
        partial(FaultMiddleware, runtime=runtime),
        SecurityMiddleware,
        RequestValidationMiddleware,
        partial(VendorOperations, handlers=vendor_api),
        LifespanMiddleware,
        ContextMiddleware,
    ]
    app = MockApp(
        __name__, specification_dir=str(spec_dir()), lifespan=lifespan, middlewares=middlewares
    )
    resolver = _HandlerResolver(
        {
            "uniqodo_mock.mock.api": vendor_api,
            "uniqodo_mock.mock.admin": AdminApi(runtime),
            "uniqodo_mock.mock.email": EmailApi(service, runtime.calls),
        }
    )
    no_ui = SwaggerUIOptions(swagger_ui=False)
    app.add_api(
        _spec("uniqodo.yaml"),
        base_path="",
        resolver=resolver,
        strict_validation=False,
        validate_responses=False,
        validator_map={"parameter": VendorParameters()},
        uri_parser_class=VendorURIParsers(),
        swagger_ui_options=no_ui,
        name="uniqodo",
    )
    app.add_api(
        _spec("admin.yaml"),
        base_path="/__admin",
        resolver=resolver,
        swagger_ui_options=no_ui,
        name="admin",
    )
    app.add_api(
        _spec("email.yaml"),
        base_path="/__email",
        resolver=resolver,
        swagger_ui_options=no_ui,
        name="email",
    )
    renderer.install(app)
    app.runtime = runtime
    app.vendor_api = vendor_api
    app.answers = answers
    return app


def _clock_key(state: ClockState) -> tuple[datetime | None, timedelta]:
    return (state.frozen_at, state.offset)


def _spec(name: str) -> dict[str, Any]:
    """The parsed spec, for connexion, which may alter what it is given: ``load_spec`` keeps
    one parsed copy per file, shared."""
    return copy.deepcopy(load_spec(name))
