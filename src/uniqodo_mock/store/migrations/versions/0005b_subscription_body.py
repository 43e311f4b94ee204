"""a callback subscription's JSON body template

Revision ID: 0005b
Revises: 0004c

A subscription may send a JSON body built from a template (``{item}`` placeholders for the
callback items) in place of the chosen ``params``: partners' receivers expect shapes that a flat
item-to-name map cannot give (string-typed values, constant fields, nested objects). Null keeps
the old behaviour, so existing rows need no backfill.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005b"
down_revision = "0004c"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("subscriptions", sa.Column("body", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("subscriptions") as batch:
        batch.drop_column("body")
