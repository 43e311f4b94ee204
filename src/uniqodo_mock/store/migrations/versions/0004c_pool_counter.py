"""the offer's unissued pool codes as a counter; no state_version

Revision ID: 0004c
Revises: 0003s

The publisher query and the Offers API answer ``code_remaining``, the offer's unissued pool
codes. Counting them per answer grew with the pool; ``offers.pool_unissued`` is kept by the
same transactions that issue, import or batch codes, so reading it is one column of the offer
row. Taking the next pool code sorted the unissued codes by id; an index ending in ``id``
yields it first. A distributor's offers, and a code text's rows in id order, are found by an index too. Redemption keys get an index (the merchant tag's conversion call looks one
up). The ``state_version`` counter and its triggers served a per-process cache of accounts and
offers that no longer exists.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004c"
down_revision = "0003s"
branch_labels = None
depends_on = None

_WATCHED = ("merchants", "distributors", "api_keys", "offers", "offer_distributors")


def upgrade() -> None:
    op.add_column(
        "offers",
        sa.Column("pool_unissued", sa.BigInteger(), nullable=False, server_default="0"),
    )
    op.execute(
        "UPDATE offers SET pool_unissued = (SELECT count(*) FROM codes "
        "WHERE codes.offer_id = offers.id AND codes.issued_at IS NULL "
        "AND codes.origin <> 'generic')"
    )
    if op.get_bind().dialect.name == "postgresql":
        for table in _WATCHED:
            op.execute(f"DROP TRIGGER IF EXISTS tr_{table}_state_version ON {table}")
        op.execute("DROP FUNCTION IF EXISTS uqm_bump_state_version()")
    else:
        for table in _WATCHED:
            for event in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS tr_{table}_{event}_state_version")
    op.drop_table("state_version")
    # ORDER BY id within (offer_id, issued_at IS NULL) without a sort: the next pool code is
    # the first index entry, whatever the pool's size.
    op.create_index("ix_codes_offer_pool", "codes", ["offer_id", "issued_at", "id"])
    op.drop_index("ix_codes_offer_unissued", table_name="codes")
    op.drop_index("ix_codes_offer_issued", table_name="codes")
    op.create_index("ix_redemptions_key", "redemptions", ["redemption_key"])
    op.drop_index("ix_codes_code_norm", table_name="codes")
    op.create_index("ix_codes_code_norm", "codes", ["code_norm", "id"])
    op.create_index(
        "ix_offer_distributors_distributor", "offer_distributors", ["distributor_id", "offer_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_offer_distributors_distributor", table_name="offer_distributors")
    op.drop_index("ix_codes_code_norm", table_name="codes")
    op.create_index("ix_codes_code_norm", "codes", ["code_norm"])
    op.drop_index("ix_redemptions_key", table_name="redemptions")
    op.create_index("ix_codes_offer_issued", "codes", ["offer_id", "issued_at"])
    op.create_index("ix_codes_offer_unissued", "codes", ["offer_id", "issued_at", "origin"])
    op.drop_index("ix_codes_offer_pool", table_name="codes")
    op.create_table(
        "state_version",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_state_version")),
    )
    op.execute("INSERT INTO state_version (id, version) VALUES (1, 0)")
    with op.batch_alter_table("offers") as batch:
        batch.drop_column("pool_unissued")
