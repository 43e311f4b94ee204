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

__all__ = [
    "DEFAULT_DB_URL",
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
    """``$UNIQODO_MOCK_DB_PRE_PING`` (default on): test each pooled PostgreSQL connection with a
    round trip before use. Off saves that round trip per request; a connection broken while idle
    (server restart) then fails one request with the usual 503, and SQLAlchemy replaces the
    whole pool on that disconnect, so the next request succeeds."""
    return os.environ.get("UNIQODO_MOCK_DB_PRE_PING", "1").strip().lower() not in {
        "0",
        "false",
        "no",
        "off",
    }


def is_sqlite(engine_or_url: Engine | str) -> bool:
    url = engine_or_url.url if isinstance(engine_or_url, Engine) else make_url(engine_or_url)
    return url.get_backend_name() == "sqlite"


def create_db_engine(url: str, *, busy_timeout_ms: int = 10_000, **kwargs: Any) -> Engine:
    """Create an engine for ``url``, tuned for the mock's short transactions."""
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
        _tune_sqlite(engine, busy_timeout_ms)
        return engine
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        # A bare postgresql:// URL means psycopg 3, the driver this project ships with.
        parsed = parsed.set(drivername="postgresql+psycopg")
    kwargs.setdefault("pool_pre_ping", pre_ping_enabled())
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    return create_engine(parsed, **kwargs)


def _tune_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # Read-only transactions must not queue behind writers for the write lock.
        if connection.get_execution_options().get("uqm_readonly"):
            # Sent to the driver directly: exec_driver_sql's execution context costs ~30 µs per
            # request, the statement ~1 µs (a deferred BEGIN takes no lock). On the unexpected
            # failure, retry through SQLAlchemy so the caller sees its wrapped error.
            try:
                connection.connection.driver_connection.execute("BEGIN")
            except sqlite3.Error:
                connection.exec_driver_sql("BEGIN")
        else:
            # Waits for the write lock and may time out: SQLAlchemy wraps that error (503).
            connection.exec_driver_sql("BEGIN IMMEDIATE")
