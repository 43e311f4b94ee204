"""Receiver: SQLite call ids are never reused (AUTOINCREMENT)

The SQLite writer drew ids as ``max(id) + 1``: after the newest calls were deleted, new calls
got their ids again, and a client holding an id (``/__receiver/calls/{id}``, a cursor
``after=ID``) saw another call under it. ``AUTOINCREMENT`` keeps the largest id ever used in
``sqlite_sequence``, which the writer reads too. SQLite sets it only when a table is created:
the table is rebuilt (batch mode). PostgreSQL's sequence never reuses an id.

Revision ID: r0004
Revises: r0003
"""

from __future__ import annotations

from alembic import op

revision = "r0004"
down_revision = "r0003"
branch_labels = None
depends_on = None


def _rebuild(autoincrement: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    with op.batch_alter_table(
        "receiver_calls", recreate="always", table_kwargs={"sqlite_autoincrement": autoincrement}
    ):
        pass


def upgrade() -> None:
    _rebuild(autoincrement=True)


def downgrade() -> None:
    _rebuild(autoincrement=False)
