"""Receiver: the parameter index without its foreign key and surrogate id.

Each indexed parameter cost a foreign-key check and a sequence draw plus a primary-key entry on
insert, a large share of the database's work per recorded call on PostgreSQL. The rows of a call
are deleted with it by the store (same transaction) instead of by ``ON DELETE CASCADE``.

Revision ID: r0002
Revises: r0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "r0002"
down_revision = "r0001"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TABLE = "receiver_call_params"
_COPY = f"{_TABLE}_copy"


def _indexes() -> None:
    op.create_index("ix_receiver_call_params_call_id", _TABLE, ["call_id"])
    op.create_index("ix_receiver_call_params_name_value", _TABLE, ["name", "value"])


def upgrade() -> None:
    # A new table and a copy: SQLite cannot drop a primary key or an unnamed constraint in place.
    op.create_table(
        _COPY,
        sa.Column("call_id", _ID, nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("value", sa.String(400), nullable=False),
    )
    op.execute(
        f"INSERT INTO {_COPY} (call_id, name, value) SELECT call_id, name, value FROM {_TABLE}"
    )
    op.drop_table(_TABLE)
    op.rename_table(_COPY, _TABLE)
    _indexes()


def downgrade() -> None:
    op.create_table(
        _COPY,
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column(
            "call_id", _ID, sa.ForeignKey("receiver_calls.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("value", sa.String(400), nullable=False),
    )
    op.execute(
        f"INSERT INTO {_COPY} (call_id, name, value) SELECT p.call_id, p.name, p.value "
        f"FROM {_TABLE} p JOIN receiver_calls c ON c.id = p.call_id"
    )
    op.drop_table(_TABLE)
    op.rename_table(_COPY, _TABLE)
    _indexes()
