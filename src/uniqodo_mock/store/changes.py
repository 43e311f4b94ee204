"""A token that changes whenever anyone commits a change to the database.

SQLite's ``PRAGMA data_version`` returns a different number after any other connection
committed: another request's transaction, another worker process, another replica on the same
file, a command-line client. Read on a connection of its own that never writes, it changes on
every commit of every writer, so an answer kept under a version is exact while the version
stands. PostgreSQL offers no such cheap token: ``read()`` is None there, and nothing is kept.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading

from sqlalchemy import Engine

__all__ = ["DataVersion"]


class DataVersion:
    def __init__(self, engine: Engine) -> None:
        self._connection: sqlite3.Connection | None = None
        self._lock = threading.Lock()
        database = engine.url.database
        if (
            engine.dialect.name == "sqlite"
            and database
            and database != ":memory:"
            and "mode=memory" not in database
        ):
            self._connection = sqlite3.connect(
                database, check_same_thread=False, isolation_level=None, timeout=1.0
            )

    @property
    def available(self) -> bool:
        return self._connection is not None

    def read(self) -> int | None:
        """The current version, or None when the database has none (or cannot be read)."""
        connection = self._connection
        if connection is None:
            return None
        try:
            with self._lock:
                (version,) = connection.execute("PRAGMA data_version").fetchone()
        except sqlite3.Error:
            return None
        return int(version)

    def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(sqlite3.Error):
                connection.close()
