"""Read transactions on a connection kept per thread (SQLite files only).

Checking a connection out of the pool and building SQLAlchemy's ``Connection`` with its
begin/commit events cost ~60 µs per request, more than the reads themselves. For SQLite files
each thread keeps one ``Connection`` of a sibling engine (``NullPool``: the connection is owned
by the thread, not shared with the write pool) and the transaction is driven on the driver:
``BEGIN`` (deferred: takes no lock, never queues behind a writer) … ``COMMIT``. SQLAlchemy's own
transaction on that ``Connection`` is opened once and never ended, so ``conn.execute`` does not
autobegin; the sibling engine has no begin listener, so that opening sends nothing.

Writes are untouched: they use the main engine's pool and ``BEGIN IMMEDIATE``. A connection that
fails (invalidated by SQLAlchemy, or its rollback fails) is closed and replaced on the thread's
next read, so a broken connection costs one failed request, as with the pool.
"""

from __future__ import annotations

import contextlib
import os
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.pool import NullPool

from uniqodo_mock.store.walindex import WalIndexHeader

__all__ = ["ThreadReadConnections", "supports_thread_reads"]


def supports_thread_reads(engine: Engine) -> bool:
    """True for SQLite file databases (``:memory:`` is one database per connection)."""
    if engine.dialect.name != "sqlite":
        return False
    database = engine.url.database
    return bool(database) and database != ":memory:" and "mode=memory" not in str(database)


class ThreadReadConnections:
    """One read ``Connection`` per thread over a sibling engine of ``engine``."""

    def __init__(self, engine: Engine, *, busy_timeout_ms: int = 10_000) -> None:
        self._engine = create_engine(
            engine.url,
            poolclass=NullPool,
            # Marks the connection read-only for the read cache, as Repository's engine view.
            execution_options={"uqm_readonly": True},
            connect_args={"check_same_thread": False, "timeout": busy_timeout_ms / 1000},
        )

        @event.listens_for(self._engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            # Transactions are begun by read() below, never implicitly by the driver.
            dbapi_connection.isolation_level = None
            dbapi_connection.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")

        database = engine.url.database
        self._database_path = os.path.abspath(database) if database else None
        self._local = threading.local()
        # Every connection made, so close() can release them all (weak: a finished thread's
        # connection goes away with it).
        self._all: weakref.WeakSet[Connection] = weakref.WeakSet()
        # Wal-index headers mapped, one per thread's connection, closed before it.
        self._headers: set[WalIndexHeader] = set()
        self._lock = threading.Lock()

    def _connection(self) -> Connection:
        conn: Connection | None = getattr(self._local, "conn", None)
        if conn is None or conn.closed or conn.invalidated:
            self._drop_header()  # mapped for the connection being replaced
            conn = self._engine.connect()
            conn.begin()  # SQLAlchemy's transaction: held open for the connection's life
            self._local.conn = conn
            self._local.driver = conn.connection.driver_connection
            with self._lock:
                self._all.add(conn)
        return conn

    def _discard(self, conn: Connection) -> None:
        self._local.conn = None
        self._local.driver = None
        self._drop_header()
        # Already broken: whatever closing it raises, the next read opens a new one.
        with contextlib.suppress(Exception):
            conn.invalidate()
            conn.close()

    @contextmanager
    def read(self, *, single_statement: bool = False) -> Iterator[Connection]:
        """A read transaction. ``single_statement``: the caller's reads need no common
        snapshot (one query, or queries that are each valid alone), so no ``BEGIN`` /
        ``COMMIT`` is sent and each statement is its own transaction: two driver calls less."""
        conn = self._connection()
        if getattr(self._local, "busy", False):
            # A read nested in another read on this thread: a transaction of its own.
            with self._engine.connect() as other:
                other.exec_driver_sql("BEGIN")
                try:
                    yield other
                finally:
                    other.connection.driver_connection.rollback()
            return
        driver = conn.connection.driver_connection
        if not single_statement:
            try:
                driver.execute("BEGIN")
            except Exception:
                self._discard(conn)
                raise
        self._local.busy = True
        try:
            yield conn
        except BaseException:
            self._local.busy = False
            try:
                driver.rollback()
            except Exception:  # the caller's error is the one to report
                self._discard(conn)
            else:
                if conn.invalidated:
                    self._discard(conn)
            raise
        self._local.busy = False
        if single_statement:
            return
        try:
            # Read-only: ending it with rollback or commit is the same; commit is cheaper.
            driver.commit()
        except Exception:
            self._discard(conn)
            raise

    def data_version(self) -> tuple[int, Any] | None:
        """``(connection, version)`` for this thread's read connection: the version changes
        whenever any connection (this process's writes, other workers, other replicas)
        commits to the database. Comparable only with values of the same thread's connection,
        hence the first. None when it cannot be read.

        The version is the wal-index header's bytes (``store/walindex.py``: no system call)
        or, while a commit is writing that header or where there is none, ``PRAGMA
        data_version``. A version of one kind never equals one of the other, so switching
        between them is at worst a change reported where there was none."""
        # Asked on every hot request: the thread's sqlite3 connection is kept beside its
        # SQLAlchemy wrapper, skipping the wrapper's checks (a broken one raises here).
        driver = getattr(self._local, "driver", None)
        header = getattr(self._local, "header", None)
        if driver is not None and header:
            token = header.token()
            if token is not None:
                return id(driver), token
        try:
            if driver is None:
                driver = self._connection().connection.driver_connection
            (version,) = driver.execute("PRAGMA data_version").fetchone()
        except Exception:
            return None
        if header is None and self._database_path:
            # The connection has read the database now, so its wal-index exists. False: there
            # is none to map (not WAL); the pragma it is.
            opened = WalIndexHeader.open(self._database_path)
            self._local.header = opened or False
            if opened is not None:
                with self._lock:
                    self._headers.add(opened)
        return id(driver), version

    def _drop_header(self) -> None:
        header = getattr(self._local, "header", None)
        self._local.header = None
        if header:
            with self._lock:
                self._headers.discard(header)
            header.close()

    def close(self) -> None:
        """Close every thread's connection (on shutdown, when no read is running)."""
        with self._lock:
            conns = list(self._all)
            self._all.clear()
            headers = list(self._headers)
            self._headers.clear()
        for header in headers:  # before the connections: see store/walindex.py
            header.close()
        for conn in conns:
            with contextlib.suppress(Exception):  # closing on shutdown is best effort
                conn.close()
        self._engine.dispose()
