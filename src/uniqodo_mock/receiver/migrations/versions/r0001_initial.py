"""Receiver: recorded calls and their parameter index.

Revision ID: r0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "r0001"
down_revision = None
branch_labels = ("receiver",)
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "receiver_calls",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("received_at", sa.BigInteger, nullable=False),
        sa.Column("method", sa.String(20), nullable=False),
        sa.Column("path", sa.Text, nullable=False),
        sa.Column("query", sa.Text, nullable=False),
        sa.Column("headers", sa.Text, nullable=False),
        sa.Column("content_type", sa.Text),
        sa.Column("body", sa.LargeBinary, nullable=False),
        sa.Column("body_size", sa.BigInteger, nullable=False),
        sa.Column("rejected", sa.Boolean, nullable=False),
        sa.Column("client", sa.Text),
        sa.Column("response_status", sa.Integer, nullable=False),
        sa.Column("params", sa.Text, nullable=False),
        sa.Column("looks_like_callback", sa.Boolean, nullable=False),
        sa.Column("conforms", sa.Boolean),
        sa.Column("problems", sa.Text, nullable=False),
    )
    op.create_index("ix_receiver_calls_received_at", "receiver_calls", ["received_at"])
    op.create_table(
        "receiver_call_params",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column(
            "call_id",
            _ID,
            sa.ForeignKey("receiver_calls.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("value", sa.String(400), nullable=False),
    )
    op.create_index("ix_receiver_call_params_call_id", "receiver_call_params", ["call_id"])
    op.create_index("ix_receiver_call_params_name_value", "receiver_call_params", ["name", "value"])


def downgrade() -> None:
    op.drop_table("receiver_call_params")
    op.drop_table("receiver_calls")
