"""Everything one running mock holds: database, service, clock, and the hooks that start and
stop its background work. Built once per app by ``build_runtime``."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from uniqodo_mock.control.clock_sync import ClockSync
from uniqodo_mock.control.controls import Controls
from uniqodo_mock.control.faults import FaultBook
from uniqodo_mock.control.journal import Journal
from uniqodo_mock.core.basket import compile_rule
from uniqodo_mock.core.callbacks import DEFAULT_PARAMS
from uniqodo_mock.core.clock import Clock
from uniqodo_mock.core.dates import to_db
from uniqodo_mock.dispatch import Dispatcher, DispatchSettings
from uniqodo_mock.dispatch.faults import fault_hook
from uniqodo_mock.fixtures import DEFAULT_FIXTURES, FixtureDocument, load_fixture_file
from uniqodo_mock.mock.dbcalls import DatabaseCalls
from uniqodo_mock.service import MockService
from uniqodo_mock.store.changes import DataVersion
from uniqodo_mock.store.controls import (
    DatabaseFaultStore,
    DatabaseJournalStore,
    RulesSignal,
    journal_repository,
)
from uniqodo_mock.store.engine import Engine, create_db_engine, default_db_url
from uniqodo_mock.store.fixtures import apply_fixtures, restore_fixtures, seed_fault_rules
from uniqodo_mock.store.locks import FIXTURE_LOCK, exclusive
from uniqodo_mock.store.migrate import upgrade
from uniqodo_mock.store.outbox import OutboxStore
from uniqodo_mock.store.repository import Repository
from uniqodo_mock.store.template import template_key

__all__ = [
    "MockConfig",
    "MockRuntime",
    "build_runtime",
    "ensure_receiver_subscription",
    "pin_fixture_clock",
]

logger = logging.getLogger("uniqodo_mock")
_ENV = "UNIQODO_MOCK_CONFIG"


@dataclass
class MockConfig:
    """How to run one mock. The CLI and the pytest plugin fill it in."""

    db_url: str = field(default_factory=default_db_url)
    fixtures: Path | None = None
    # Replace whatever the database holds with the fixtures at start.
    reset_fixtures: bool = False
    admin_token: str | None = None
    # Deliver redemption callbacks from this process.
    dispatch_callbacks: bool = True
    # Where the callback receiver of `uniqodo-mock up` listens (fixture subscriptions to it).
    receiver_url: str | None = None
    # A JSON body template for that subscription (``up --callback-body``); None: the docs' form.
    receiver_body: dict[str, Any] | None = None
    # Retries, backoff, timeout and concurrency of callback delivery. None: the fixtures'
    # ``settings.callbacks`` over the defaults; ``dispatch_overrides`` (CLI options) win.
    dispatch: DispatchSettings | None = None
    dispatch_overrides: dict[str, float | int] = field(default_factory=dict)
    # Entries the request journal keeps (in the database every replica shares; the oldest
    # are dropped first).
    journal_size: int = 10_000
    # Seconds a read of the journal waits for other replicas' entries (x-source: simulator):
    # each stores its batches right behind its answers; this process's are flushed first.
    journal_settle: float = 0.1
    # Request-body limits (x-source: simulator): larger bodies get 413, slower ones 408.
    max_body_bytes: int = 1_048_576
    body_timeout: float = 10.0
    # The same for /__admin (snapshots, fixture documents, code uploads): larger, as bounded.
    admin_max_body_bytes: int = 64 * 1_048_576
    admin_body_timeout: float = 120.0
    # How long a SQLite writer waits for the write lock before the request gets 503.
    db_busy_timeout_ms: int = 10_000
    # Seconds a database call may take before its request gets 503 (PostgreSQL; SQLite writers
    # wait db_busy_timeout_ms for the write lock, then 503).
    db_timeout: float = 3.0
    # Reuse the answers of repeated read-only requests while the database's data version says
    # nothing changed (mock/answers.py; SQLite only).
    answer_cache: bool = True
    # Origins whose pages may call the mock with fetch (CORS, x-source: simulator): ("*",) any
    # origin, as the platform answers browsers; () no CORS headers at all.
    cors_origins: tuple[str, ...] = ("*",)

    @property
    def fixtures_path(self) -> Path:
        return self.fixtures or DEFAULT_FIXTURES

    def export_to_environment(self) -> None:
        """Hand this configuration to the worker processes of ``serve --workers N``, which
        uvicorn's supervisor starts as new interpreters (``mock/workers.py``)."""
        values = {item.name: getattr(self, item.name) for item in fields(self)}
        values["fixtures"] = str(self.fixtures) if self.fixtures else None
        values["dispatch"] = self.dispatch.to_mapping() if self.dispatch else None
        os.environ[_ENV] = json.dumps(values)

    @classmethod
    def from_environment(cls) -> MockConfig:
        raw = json.loads(os.environ.get(_ENV, "{}"))
        fixtures = raw.pop("fixtures", None)
        dispatch = raw.pop("dispatch", None)
        dispatch = DispatchSettings(**dispatch) if dispatch else None
        if "cors_origins" in raw:
            raw["cors_origins"] = tuple(raw["cors_origins"])
        return cls(fixtures=Path(fixtures) if fixtures else None, dispatch=dispatch, **raw)


@dataclass
class MockRuntime:
    config: MockConfig
    engine: Engine
    repo: Repository
    service: MockService
    clock: Clock
    fixtures: FixtureDocument
    calls: DatabaseCalls
    data_version: DataVersion
    controls: Controls
    on_startup: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    on_shutdown: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    dispatcher: Dispatcher | None = None
    # The fixture document the template key below was computed for (``store/template.py``).
    _keyed: tuple[FixtureDocument, str] | None = field(default=None, repr=False)

    def close(self) -> None:
        """Release the database: threads, the version connection, the engines' pools."""
        self.calls.close()
        self.data_version.close()
        store = self.controls.faults.store
        if isinstance(store, DatabaseFaultStore) and store.signal is not None:
            store.signal.close()
        if isinstance(self.controls.journal.store, DatabaseJournalStore):
            self.controls.journal.store.close()
        self.repo.close()
        self.engine.dispose()

    def load_fixtures(self, document: FixtureDocument) -> None:
        """Replace the whole state with ``document`` (the admin API's reset/load). The clock
        returns to real time, or to the moment the document pins (``settings.clock``; its
        shared state lives in ``meta``, which is replaced too) and fault rules are replaced by
        the document's. The template a reset restores is prepared for ``document``."""
        self.clock.reset()
        pinned = pin_fixture_clock(self.clock, document)
        apply_fixtures(
            self.repo,
            document,
            replace=True,
            now=self.clock.now(),
            template_key=self.template_key(document),
        )
        self._loaded(document, pinned)

    def reset(self) -> None:
        """The state the fixtures in force load (``POST /__admin/reset``), restored from the
        template prepared when they were loaded: exactly what ``load_fixtures`` of the same
        document gives, at a fraction of its cost. Without a template for them (another
        schema, fixtures replaced by another process), the fixtures are loaded again."""
        document = self.fixtures
        self.clock.reset()
        pinned = pin_fixture_clock(self.clock, document)
        if restore_fixtures(self.repo, document, self.template_key(document), self.clock.now()):
            self._loaded(document, pinned)
        else:
            self.load_fixtures(document)

    def template_key(self, document: FixtureDocument) -> str:
        keyed = self._keyed
        if keyed is None or keyed[0] is not document:
            keyed = (document, template_key(document.data, document.source))
            self._keyed = keyed
        return keyed[1]

    def _loaded(self, document: FixtureDocument, pinned: bool) -> None:
        """What every process-side cache needs after the state was replaced."""
        if pinned:
            self.controls.clock_sync.publish()
        self.fixtures = document
        self.service.reload_settings()
        ensure_receiver_subscription(self)
        # The document's fault rules replaced every rule in the load's own transaction.
        self.controls.faults.refresh()
        self.controls.clock_sync.refresh(force=True)


def pin_fixture_clock(clock: Clock, document: FixtureDocument) -> bool:
    """Set ``clock`` where ``document`` pins it (``settings.clock``, as ``PUT /__admin/clock``
    would); False when the document leaves it at real time."""
    pinned = document.clock
    if pinned is None:
        return False
    clock.set(pinned.now, frozen=pinned.frozen)
    return True


def ensure_receiver_subscription(runtime: MockRuntime) -> None:
    """``uniqodo-mock up``: one subscription (origin ``up``, no owner) posting ``code`` and
    ``orderId`` to the local receiver, as the docs' example, or its ``receiver_body`` template
    as JSON. Idempotent across restarts; an ``up`` subscription to an older receiver address
    is replaced."""
    url = runtime.config.receiver_url
    if not url:
        return
    body = runtime.config.receiver_body
    with runtime.repo.write() as conn:
        runtime.repo.ensure_origin_subscription(
            conn,
            {
                "url": url,
                "method": "POST" if body is None else "JSON",
                "params": dict(DEFAULT_PARAMS),
                "body": body,
                "headers": {},
                "owner_merchant_id": None,
                "owner_distributor_id": None,
                "origin": "up",
                "created_at": to_db(runtime.clock.now()),
            },
        )


def _attach_dispatcher(runtime: MockRuntime) -> None:
    config = runtime.config
    settings = config.dispatch or DispatchSettings().merged(
        runtime.fixtures.settings.get("callbacks")
    )
    settings = settings.merged(config.dispatch_overrides)
    dispatcher = Dispatcher(OutboxStore(runtime.repo), settings)
    runtime.dispatcher = dispatcher
    runtime.service.on_redeemed.append(dispatcher.wake)
    runtime.on_startup.append(dispatcher.start)
    runtime.on_shutdown.append(dispatcher.stop)


def build_runtime(config: MockConfig, *, document: FixtureDocument | None = None) -> MockRuntime:
    """Open the database, migrate it, load fixtures into it if it is empty (or on request).
    ``document``: the fixture file, already read and checked; by default
    ``config.fixtures_path`` is read, unless the database holds the state loaded from that
    very file: then the document it stored then (checked then) is the one in force."""
    engine = create_db_engine(
        config.db_url, busy_timeout_ms=config.db_busy_timeout_ms, timeout=config.db_timeout
    )
    upgrade(engine)
    # SQLite: calls on the event loop use connections that never wait for a lock and never
    # checkpoint (mock/dbcalls.py); the checkpoints run in a database thread.
    no_wait = (
        create_db_engine(config.db_url, busy_timeout_ms=0, checkpoints=False)
        if engine.dialect.name == "sqlite" and DataVersion(engine).available
        else None
    )
    repo = Repository(engine, no_wait_engine=no_wait)
    data_version = DataVersion(engine)
    journal_repo = journal_repository(repo, busy_timeout_ms=config.db_busy_timeout_ms)
    fault_store = DatabaseFaultStore(
        repo,
        data_version,
        signal=RulesSignal(journal_repo) if journal_repo is not repo else None,
    )
    clock = Clock()
    # Replicas starting together on one empty database: only the first loads the fixtures.
    with exclusive(engine, FIXTURE_LOCK):
        with repo.read() as conn:
            empty = repo.is_empty(conn)
            loaded = repo.get_meta(conn, "fixtures")
        if document is None:
            document = _document_in_force(config, None if empty else loaded)
        loading = empty or config.reset_fixtures
        # The clock the fixtures pin is shared through ``meta`` once the controls exist.
        pinned = loading and pin_fixture_clock(clock, document)
        if loading:
            apply_fixtures(
                repo,
                document,
                replace=config.reset_fixtures,
                now=clock.now(),
                template_key=template_key(document.data, document.source),
            )
            logger.info("loaded fixtures from %s", document.source)
        elif not fault_store.seeded():
            # State loaded before fault rules were shared: its document's rules, once.
            with repo.write() as conn:
                seed_fault_rules(conn, document)
        elif loaded and config.fixtures and loaded.get("source") != document.source:
            logger.warning(
                "the database already holds state loaded from %s; %s was not loaded over it "
                "(start with --reset-fixtures to replace the state)",
                loaded.get("source"),
                document.source,
            )
    service = MockService(repo, clock)
    service.reload_settings()
    calls = DatabaseCalls(
        inline_first=no_wait is not None,
        threads=_database_threads(engine),
        # SQLite: a writer waits for the lock up to its busy timeout, then fails (503) itself.
        timeout=config.db_timeout
        if repo.is_postgres
        else max(config.db_timeout, config.db_busy_timeout_ms / 1000 + 1),
    )
    controls = Controls(
        clock_sync=ClockSync(repo, clock),
        journal=Journal(
            config.journal_size, DatabaseJournalStore(journal_repo, owned=journal_repo is not repo)
        ),
        faults=FaultBook(lambda wanted: _is_error_code(service, wanted), fault_store),
    )
    runtime = MockRuntime(
        config, engine, repo, service, clock, document, calls, data_version, controls
    )
    runtime.on_shutdown.append(_closer(calls))
    warm_up = BasketRuleWarmUp(document)
    runtime.on_startup.append(warm_up.start)
    runtime.on_shutdown.append(warm_up.stop)
    if no_wait is not None:
        # The journal's own file beside the mock's has a WAL of its own to checkpoint.
        for checkpointed in (repo,) if journal_repo is repo else (repo, journal_repo):
            checkpoints = Checkpoints(checkpointed, calls)
            runtime.on_startup.append(checkpoints.start)
            runtime.on_shutdown.append(checkpoints.stop)
    if pinned:
        controls.clock_sync.publish()
    ensure_receiver_subscription(runtime)
    if config.dispatch_callbacks:
        _attach_dispatcher(runtime)
    runtime.controls.clock_sync.refresh(force=True)
    runtime.controls.faults.refresh()
    if runtime.dispatcher is not None:
        runtime.dispatcher.fault_for = fault_hook(runtime.controls.faults)
    return runtime


class _BackgroundTask:
    """Work of a running server in one asyncio task: ``stop()`` cancels it and waits."""

    _task: asyncio.Task[None] | None = None

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None


class Checkpoints(_BackgroundTask):
    """SQLite's WAL copied into the database file in a database thread, a second after
    commits happened (the event loop's own connections never checkpoint)."""

    def __init__(self, repo: Repository, calls: DatabaseCalls, interval: float = 0.2) -> None:
        self.repo = repo
        self.calls = calls
        self.interval = interval

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="uqm-checkpoints")

    async def _run(self) -> None:
        done = self.repo.commits
        while True:
            await asyncio.sleep(self.interval)
            if self.repo.commits == done:
                continue
            done = self.repo.commits
            try:
                await self.calls.run(self.repo.checkpoint, timeout=60, waits=True)
            except Exception:  # the next round tries again
                logger.warning("WAL checkpoint failed", exc_info=True)


def _document_in_force(config: MockConfig, loaded: object) -> FixtureDocument:
    """The fixtures the mock answers resets with: the file, read and checked now; or, when
    the database already holds the state loaded from that same file (and no reset is asked),
    the document stored with it, checked when it was loaded (a start then neither parses the
    file nor compiles its basket rules)."""
    source = str(config.fixtures_path)
    if (
        not config.reset_fixtures
        and isinstance(loaded, dict)
        and loaded.get("source") == source
        and isinstance(loaded.get("document"), dict)
    ):
        return FixtureDocument(loaded["document"], source)
    return load_fixture_file(config.fixtures_path)


_WARM_AFTER_SECONDS = 2.0


class BasketRuleWarmUp(_BackgroundTask):
    """Basket rules compiled (and rule_engine's parser for its grammar built) once, in a
    thread, a moment after the server has started answering, rather than in the first
    validation that needs them; a validation that comes first compiles them itself."""

    def __init__(self, document: FixtureDocument) -> None:
        self.texts = [
            str(rule.get("rule", ""))
            for offer in document.data.get("offers") or []
            for rule in (offer.get("config") or {}).get("basket_rules") or []
        ]

    async def start(self) -> None:
        if self.texts:
            self._task = asyncio.create_task(self._run(), name="uqm-basket-rules")

    async def _run(self) -> None:
        await asyncio.sleep(_WARM_AFTER_SECONDS)
        await asyncio.to_thread(_compile_all, self.texts)


def _compile_all(texts: list[str]) -> None:
    for text in texts:
        with contextlib.suppress(ValueError):  # checked when the fixtures were loaded
            compile_rule(text)


def _database_threads(engine: Engine) -> int:
    """As many database threads as connections may be busy at once: the pool's size on
    PostgreSQL; on SQLite a few (reads run side by side, writes take turns)."""
    if engine.dialect.name == "postgresql":
        return int(getattr(engine.pool, "size", lambda: 10)())
    return 4


def _closer(calls: DatabaseCalls) -> Callable[[], Awaitable[None]]:
    async def close() -> None:
        calls.close()

    return close


def _is_error_code(service: MockService, wanted: str | int) -> bool:
    catalogue = service.catalogue
    return (isinstance(wanted, str) and wanted in catalogue) or any(
        str(entry.code) == str(wanted) for entry in catalogue
    )
