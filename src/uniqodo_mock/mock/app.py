"""The mock server's app factory: a connexion AsyncApp over ``openapi/uniqodo.yaml`` (the vendor
API, at the root) and ``openapi/admin.yaml`` (``/__admin``), with every error in the envelope."""

from __future__ import annotations

import contextlib
import copy
import os
import threading
from collections.abc import AsyncIterator, Iterator
from typing import Any

import connexion
from connexion.middleware import MiddlewarePosition
from connexion.options import SwaggerUIOptions
from connexion.resolver import Resolver
from connexion.spec import Specification
from starlette.middleware.cors import CORSMiddleware

from uniqodo_mock.heap import settle_startup_heap
from uniqodo_mock.mock.admin import AdminApi
from uniqodo_mock.mock.api import VendorApi
from uniqodo_mock.mock.auth import AdminTokenMiddleware
from uniqodo_mock.mock.control import ControlMiddleware, record_exchange
from uniqodo_mock.mock.demo import DemoMiddleware
from uniqodo_mock.mock.docs import DocsMiddleware
from uniqodo_mock.mock.email import EmailApi
from uniqodo_mock.mock.errors import install_error_handlers
from uniqodo_mock.mock.fastpath import FastPath, FastPathMiddleware
from uniqodo_mock.mock.hotlane import HotLane
from uniqodo_mock.mock.limits import BodyLimits, BodyLimitsMiddleware
from uniqodo_mock.mock.merchant_tags import MerchantTagsMiddleware
from uniqodo_mock.mock.paths import PathShapes
from uniqodo_mock.mock.runtime import MockConfig, MockRuntime, build_runtime
from uniqodo_mock.mock.validation import NamedParameterValidator
from uniqodo_mock.specs import load_spec, spec_dir

__all__ = ["MockApp", "create_app", "create_app_from_environment", "preload_for_workers"]


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
    """The connexion app with the hot lane (``mock/hotlane.py``) as its outermost layer."""

    runtime: MockRuntime
    vendor_api: VendorApi
    hot_lane: HotLane

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.hot_lane(scope, receive, send)


def create_app(
    config: MockConfig | None = None, *, runtime: MockRuntime | None = None
) -> MockApp:
    """Build a mock server app. Opens and migrates the database and loads fixtures now, so the
    app answers its first request with the state ready."""
    runtime = runtime or build_runtime(config or MockConfig())

    @contextlib.asynccontextmanager
    async def lifespan(_app: Any) -> AsyncIterator[None]:
        for start in runtime.on_startup:
            await start()
        try:
            yield
        finally:
            for stop in reversed(runtime.on_shutdown):
                await stop()

    app = MockApp(__name__, specification_dir=str(spec_dir()), lifespan=lifespan)
    vendor_api = VendorApi(runtime.service)
    admin_api = AdminApi(runtime)
    handlers: dict[str, Any] = {
        "uniqodo_mock.mock.api": vendor_api,
        "uniqodo_mock.mock.admin": admin_api,
        "uniqodo_mock.mock.email": EmailApi(runtime.service),
    }
    resolver = _HandlerResolver(handlers)
    with _packaged_specs_trusted():
        _add_apis(app, resolver)
    shapes = PathShapes(load_spec("uniqodo.yaml"))
    catalogue_of = lambda: runtime.service.catalogue  # noqa: E731 - the catalogue in force
    # Middlewares, outermost first (each add goes just inside the previous one):
    # cross-origin calls (a shop's page calling the API with fetch) are answered for any origin ...
    app.add_middleware(
        CORSMiddleware,
        position=MiddlewarePosition.BEFORE_EXCEPTION,
        allow_origins=["*"],
        allow_methods=["GET", "POST", "OPTIONS"],
        allow_headers=["*"],
    )
    # ... the admin token guards all of /__admin (the docs too) ...
    app.add_middleware(
        AdminTokenMiddleware,
        position=MiddlewarePosition.BEFORE_EXCEPTION,
        token=runtime.config.admin_token,
    )
    app.add_middleware(DocsMiddleware, position=MiddlewarePosition.BEFORE_EXCEPTION)
    # ... the merchant's JavaScript tags and the demo shop (before the demo page's /__demo) ...
    app.add_middleware(
        MerchantTagsMiddleware, position=MiddlewarePosition.BEFORE_EXCEPTION, runtime=runtime
    )
    app.add_middleware(DemoMiddleware, position=MiddlewarePosition.BEFORE_EXCEPTION)
    # ... the test controls (journal, faults, shared clock) see every vendor request and every
    # rendered error, the fast path's included ...
    app.add_middleware(
        ControlMiddleware,
        position=MiddlewarePosition.BEFORE_EXCEPTION,
        runtime=runtime,
        shapes=shapes,
    )
    # ... the hot GET routes skip connexion's stack (same logic, same answers); before
    # everything (the hot lane) unless a fault rule may apply, else here, behind the controls ...
    fast_path = FastPath(
        vendor_api, load_spec("uniqodo.yaml"), catalogue_of, enabled=runtime.config.fast_path
    )
    # In front of connexion's whole middleware object (its stack is built on first use, so
    # the middlewares added here and below are in it).
    app.hot_lane = HotLane(app.middleware, fast_path, runtime)
    app.add_middleware(
        FastPathMiddleware, position=MiddlewarePosition.BEFORE_EXCEPTION, fast_path=fast_path
    )
    # ... and bodies are bounded in size and time before connexion reads them.
    app.add_middleware(
        BodyLimitsMiddleware,
        position=MiddlewarePosition.BEFORE_EXCEPTION,
        catalogue_of=catalogue_of,
        limits=BodyLimits(runtime.config.max_body_bytes, runtime.config.body_timeout),
    )
    vendor_api.observers.append(record_exchange)
    install_error_handlers(app, catalogue_of, shapes)
    app.runtime = runtime
    app.vendor_api = vendor_api
    return app


def create_app_from_environment() -> MockApp:
    """The app of one worker process of ``uniqodo-mock serve --workers N``."""
    app = create_app(MockConfig.from_environment())
    settle_startup_heap()
    return app


def preload_for_workers() -> None:
    """Parse the specs every ``create_app`` reads, once, in a process about to fork workers: they
    inherit the parsed documents (``load_spec`` caches them) instead of each parsing them."""
    for name in ("uniqodo.yaml", "admin.yaml", "email.yaml"):
        load_spec(name)


def _spec_for_connexion(name: str) -> dict[str, Any]:
    """The parsed spec, for connexion: handing it a file made it parse the YAML again with the
    pure-Python parser (three specs, ~1.5 s of start-up). The specs use no Jinja templating and
    no external ``$ref``, so the dict is what connexion would have built. A deep copy: connexion
    may alter what it is given and ``load_spec`` is shared."""
    return copy.deepcopy(load_spec(name))


def _add_apis(app: connexion.AsyncApp, resolver: Resolver) -> None:
    app.add_api(
        _spec_for_connexion("uniqodo.yaml"),
        base_path="",
        resolver=resolver,
        strict_validation=False,
        validate_responses=False,
        validator_map={"parameter": NamedParameterValidator},
        swagger_ui_options=SwaggerUIOptions(swagger_ui=False),
        name="uniqodo",
    )
    app.add_api(
        _spec_for_connexion("admin.yaml"),
        base_path="/__admin",
        resolver=resolver,
        swagger_ui_options=SwaggerUIOptions(swagger_ui=False),
        name="admin",
    )
    app.add_api(
        _spec_for_connexion("email.yaml"),
        base_path="/__email",
        resolver=resolver,
        swagger_ui_options=SwaggerUIOptions(swagger_ui=False),
        name="email",
    )


# connexion validates every spec against the OpenAPI schema when it loads it (~0.25 s each, most
# of start-up after the imports). The specs shipped in openapi/ are validated by the test suite
# (tests/test_spec.py, every file); only those are trusted, and only while create_app adds them
# on this thread. A spec folder given by $UNIQODO_MOCK_SPEC_DIR is always validated.
_trust = threading.local()


def _install_trusting_validator() -> None:
    original = Specification._validate_spec
    if getattr(original, "uqm_trusting", False):
        return

    def validate(cls: type[Specification], spec: dict[str, Any]) -> None:
        if getattr(_trust, "active", False):
            return
        original.__func__(cls, spec)

    validate.uqm_trusting = True  # type: ignore[attr-defined]
    Specification._validate_spec = classmethod(validate)  # type: ignore[method-assign,assignment]


@contextlib.contextmanager
def _packaged_specs_trusted() -> Iterator[None]:
    if os.environ.get("UNIQODO_MOCK_SPEC_DIR"):
        yield
        return
    _install_trusting_validator()
    _trust.active = True
    try:
        yield
    finally:
        _trust.active = False
