"""Database engines for every component: one place decides how a URL becomes an engine.

SQLite is the embedded default. It runs in WAL mode with ``synchronous=NORMAL`` (a committed
transaction survives the process being killed) and write transactions take the write lock up
front (``BEGIN IMMEDIATE``) so that concurrent writers in other processes queue on the busy
timeout instead of failing a lock upgrade. PostgreSQL URLs (``postgresql+psycopg://``) are used
as they are.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

# ``Engine``: what ``create_db_engine`` makes (SQLAlchemy's), for callers' type hints.
__all__ = [
    "DEFAULT_DB_URL",
    "Engine",
    "create_db_engine",
    "default_db_url",
    "is_sqlite",
    "pre_ping_enabled",
]

DEFAULT_DB_URL = "sqlite:///uniqodo-mock.db"


def default_db_url() -> str:
    """The database URL used when none is given: ``$UNIQODO_MOCK_DB`` or a local SQLite file."""
    return os.environ.get("UNIQODO_MOCK_DB", DEFAULT_DB_URL)


def pre_ping_enabled() -> bool:
    """``$UNIQODO_MOCK_DB_PRE_PING`` (default off): test each pooled PostgreSQL connection with a
    round trip before use. Off, a connection broken while idle (a server restart) fails one
    request with the usual 503, and SQLAlchemy replaces the whole pool on that disconnect, so
    the next request succeeds; on, every transaction pays a round trip more."""
    return os.environ.get("UNIQODO_MOCK_DB_PRE_PING", "0").strip().lower() in {
        "1",
        "true",
        "yes",
        "on",
    }


def is_sqlite(engine_or_url: Engine | str) -> bool:
    url = engine_or_url.url if isinstance(engine_or_url, Engine) else make_url(engine_or_url)
    return url.get_backend_name() == "sqlite"


def create_db_engine(
    url: str,
    *,
    busy_timeout_ms: int = 10_000,
    timeout: float = 3.0,
    checkpoints: bool = True,
    **kwargs: Any,
) -> Engine:
    """Create an engine for ``url``, tuned for the mock's short transactions.

    ``timeout`` (seconds, PostgreSQL): how long connecting, waiting for a pooled connection and
    waiting for a row lock may take before the call fails (the request then gets 503); a
    connection whose server stopped answering is dropped by TCP keepalives. SQLite writers wait
    ``busy_timeout_ms`` for the write lock; with ``checkpoints=False`` commits never flush the
    WAL to the database file themselves (``Repository.checkpoint`` does it)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            parsed,
            connect_args={"check_same_thread": False, "timeout": busy_timeout_ms / 1000},
            **kwargs,
        )
        _tune_sqlite(engine, busy_timeout_ms, checkpoints)
        return engine
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        # A bare postgresql:// URL means psycopg 3, the driver this project ships with.
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == "postgresql":
        kwargs.setdefault("connect_args", _postgres_connect_args(parsed.query, timeout))
        kwargs.setdefault("pool_timeout", timeout)
    kwargs.setdefault("pool_pre_ping", pre_ping_enabled())
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    return create_engine(parsed, **kwargs)


def _postgres_connect_args(query: Any, timeout: float) -> dict[str, Any]:
    """libpq settings for a server that may stop answering; parameters given in the URL's
    query string win."""
    lock_ms = max(1, int(timeout * 1000))
    wanted: dict[str, Any] = {
        "connect_timeout": max(1, round(timeout)),
        # Row locks held by another session: give up with the request, not after it.
        # Statements: a bound for bulk admin work too. A transaction left open by a stalled
        # client is ended by the server.
        "options": (
            f"-c lock_timeout={lock_ms} -c statement_timeout={max(lock_ms, 60_000)} "
            "-c idle_in_transaction_session_timeout=60000"
        ),
        "keepalives": 1,
        "keepalives_idle": 5,
        "keepalives_interval": 2,
        "keepalives_count": 3,
        "tcp_user_timeout": max(lock_ms, 10_000),
    }
    return {name: value for name, value in wanted.items() if name not in query}


def _tune_sqlite(engine: Engine, busy_timeout_ms: int, checkpoints: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        if not checkpoints:
            cursor.execute("PRAGMA wal_autocheckpoint=0")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # Sent on the connection's own DBAPI connection: a statement with no parameters and no
        # result needs none of SQLAlchemy's execution machinery.
        driver = connection.connection.driver_connection
        if connection.get_execution_options().get("uqm_readonly"):
            # A deferred BEGIN takes no lock: reads never queue behind writers.
            driver.execute("BEGIN")
            return
        try:
            # Waits for the write lock and may time out (the request then gets 503).
            driver.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as error:
            raise OperationalError("BEGIN IMMEDIATE", None, error) from None
