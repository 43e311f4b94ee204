"""offer tags; a fixed error reference per code

Revision ID: 0005t
Revises: 0005b

``offers.tags``: the labels configured for an offer (fixtures' ``tags:``), carried on each of
its redemptions. ``codes.reference``: the error reference fixtures give a code (null: derived
from the seed and the request; empty: no reference).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005t"
down_revision = "0005b"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "offers", sa.Column("tags", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
    )
    op.add_column("codes", sa.Column("reference", sa.String(64), nullable=True))


def downgrade() -> None:
    # Plain ALTER TABLE ... DROP COLUMN (SQLite 3.35+), not a batch copy: recreating ``offers``
    # would drop the old table, and its foreign keys would cascade the delete to every code.
    op.drop_column("codes", "reference")
    op.drop_column("offers", "tags")
