"""Alembic environment for the mock's tables; run through ``uniqodo_mock.store.migrate``."""

from __future__ import annotations

from alembic import context

from uniqodo_mock.store.engine import create_db_engine
from uniqodo_mock.store.schema import metadata

config = context.config


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    url = config.get_main_option("sqlalchemy.url")
    if url is None:
        raise RuntimeError("alembic: no engine given and no sqlalchemy.url configured")
    engine = config.attributes.get("engine") or create_db_engine(url)
    with engine.connect() as conn:
        _run(conn)
        conn.commit()
