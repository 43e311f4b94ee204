"""A database-wide mutex for start-up work that several replicas may attempt at once (loading
fixtures into an empty shared database). PostgreSQL: a session advisory lock. SQLite: replicas
of one file are rare and the fixture load is one write transaction, so nothing is needed."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, text

__all__ = ["FIXTURE_LOCK", "exclusive"]

FIXTURE_LOCK = 0x55514D32  # "UQM2"


@contextmanager
def exclusive(engine: Engine, lock_id: int) -> Iterator[None]:
    if engine.dialect.name != "postgresql":
        yield
        return
    with engine.connect() as connection:
        connection.execute(text("SELECT pg_advisory_lock(:id)"), {"id": lock_id})
        connection.commit()
        try:
            yield
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:id)"), {"id": lock_id})
            connection.commit()
