"""Alembic migrations of the receiver's schema, run programmatically at startup.

They keep their own version table (``alembic_version_receiver``) so the receiver can share one
database with the mock, whose migrations keep theirs.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

__all__ = ["VERSION_TABLE", "upgrade_schema"]

VERSION_TABLE = "alembic_version_receiver"
_HERE = Path(__file__).resolve().parent
# Any constant: PostgreSQL advisory lock key serialising concurrent upgrades by replicas.
_LOCK_KEY = 7_321_904_118


def upgrade_schema(engine: Engine, revision: str = "head") -> None:
    """Create or upgrade the receiver's tables. Safe to call at every start, from several
    replicas at once (PostgreSQL: an advisory lock; SQLite: the write lock)."""
    config = Config()
    config.set_main_option("script_location", str(_HERE))
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_LOCK_KEY})")
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
