"""Alembic environment: always called through ``upgrade_schema`` with an open connection."""

from __future__ import annotations

from alembic import context

from uniqodo_mock.receiver.migrations import VERSION_TABLE

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=None, version_table=VERSION_TABLE)
with context.begin_transaction():
    context.run_migrations()
