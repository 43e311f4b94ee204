"""Receiver: the per-path response rules, shared by every receiver on the database.

One row (``id = 1``) holds the whole rule list as JSON (rules are replaced whole) and a
``generation`` drawn anew at every replace: each receiver's writer reads the row once per batch
and parses the list again only when the generation changed.

Revision ID: r0003
Revises: r0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "r0003"
down_revision = "r0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "receiver_response_rules",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("generation", sa.BigInteger, nullable=False),
        sa.Column("rules", sa.Text, nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
        sa.CheckConstraint("id = 1", name="ck_receiver_response_rules_one_row"),
    )


def downgrade() -> None:
    op.drop_table("receiver_response_rules")
