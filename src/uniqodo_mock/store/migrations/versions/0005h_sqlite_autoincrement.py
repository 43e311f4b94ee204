"""SQLite: ids are never reused (AUTOINCREMENT) in the tables whose ids the admin API shows;
attempts begun are counted on the outbox row

Revision ID: 0005h
Revises: 0005k

A SQLite ``INTEGER PRIMARY KEY`` without ``AUTOINCREMENT`` hands out ``max(id) + 1``: after the
newest subscription is deleted, the next one got its id, and ``GET /__admin/deliveries?
subscription=ID`` listed deliveries of both. ``AUTOINCREMENT`` keeps the largest id ever used
(``sqlite_sequence``). SQLite sets it only when a table is created, so the tables are rebuilt
(batch mode: new table, copy, drop, rename). PostgreSQL's sequences never reuse an id: nothing to
do there.

Dropping ``outbox`` deletes its ``delivery_attempts`` rows through their ``ON DELETE CASCADE``
(foreign keys are on for every connection, and cannot be turned off inside the migration's
transaction): they are kept aside and put back.

``outbox.attempts_started`` counts the attempts a dispatcher began (written with its claim,
before it sends): a delivery sent again after a dispatcher died mid-delivery carries the next
attempt number, not 1 again. Existing rows start from the attempts they finished.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005h"
down_revision = "0005k"
branch_labels = None
depends_on = None

# Parents before children: delivery_attempts refers to outbox.
_TABLES = ("subscriptions", "redemptions", "outbox", "delivery_attempts")
_KEPT = "_uqm_kept_delivery_attempts"


def _rebuild(autoincrement: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute(f"CREATE TEMP TABLE {_KEPT} AS SELECT * FROM delivery_attempts")
    for table in _TABLES:
        with op.batch_alter_table(
            table, recreate="always", table_kwargs={"sqlite_autoincrement": autoincrement}
        ):
            pass
    op.execute("DELETE FROM delivery_attempts")
    op.execute(f"INSERT INTO delivery_attempts SELECT * FROM {_KEPT}")
    op.execute(f"DROP TABLE {_KEPT}")


def upgrade() -> None:
    op.add_column(
        "outbox",
        sa.Column("attempts_started", sa.Integer(), nullable=False, server_default="0"),
    )
    op.execute("UPDATE outbox SET attempts_started = attempts")
    _rebuild(autoincrement=True)


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("attempts_started")
    _rebuild(autoincrement=False)
