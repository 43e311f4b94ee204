"""Create and upgrade the mock's schema with Alembic, programmatically.

Every start runs ``upgrade head``: a new database gets the schema, an old one its missing
migrations. Several processes may start at once against one database; Alembic's own version
table makes the second upgrade a no-op, and on PostgreSQL an advisory lock serialises them.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

if TYPE_CHECKING:
    from alembic.config import Config

__all__ = ["MIGRATIONS_DIR", "alembic_config", "downgrade", "upgrade"]

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
_PG_LOCK_ID = 0x55514D31  # "UQM1": one advisory lock for the mock's migrations


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database at ``engine`` to ``revision``."""
    if revision == "head" and _at_head(engine):
        return
    _migrate(engine, "upgrade", revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Take the database at ``engine`` back to ``revision`` (tests of the migrations)."""
    _migrate(engine, "downgrade", revision)


def _migrate(engine: Engine, direction: str, revision: str) -> None:
    from alembic import command

    run = command.upgrade if direction == "upgrade" else command.downgrade
    config = alembic_config(engine)
    if engine.dialect.name == "postgresql":
        # One connection holds the advisory lock: replicas starting together migrate once.
        with engine.connect() as connection:
            connection.execute(text("SELECT pg_advisory_lock(:id)"), {"id": _PG_LOCK_ID})
            try:
                config.attributes["connection"] = connection
                run(config, revision)
                connection.commit()
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(:id)"), {"id": _PG_LOCK_ID})
                connection.commit()
        return
    run(config, revision)


_REVISION = re.compile(r"^revision\s*=\s*[\"']([^\"']+)[\"']", re.M)
_DOWN = re.compile(r"^down_revision\s*=\s*(.+)$", re.M)
_QUOTED = re.compile(r"[\"']([^\"']+)[\"']")


def script_heads() -> set[str]:
    """The head revisions of the migration scripts, read from their text: importing Alembic
    and building its script directory were a noticeable part of every start."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for script in (MIGRATIONS_DIR / "versions").glob("*.py"):
        source = script.read_text(encoding="utf-8")
        found = _REVISION.search(source)
        if found is None:
            continue
        revisions.add(found.group(1))
        down = _DOWN.search(source)
        if down is not None:
            parents.update(_QUOTED.findall(down.group(1)))
    return revisions - parents


def _at_head(engine: Engine) -> bool:
    """True when the database already carries exactly the scripts' heads (one cheap query);
    anything else, a missing table included, goes through Alembic."""
    heads = script_heads()
    if not heads:
        return False
    try:
        with engine.connect() as connection:
            stored = {
                row[0]
                for row in connection.execute(text("SELECT version_num FROM alembic_version"))
            }
    except SQLAlchemyError:
        return False
    return stored == heads
