"""customer lookups: indexes that also give the ORDER BY

Revision ID: 0003s
Revises: 0002p

``GET /code?uid=`` (a repeat customer) and the user-redemption queries read one customer's codes
or redemptions of one offer in issue/redemption order. With ``(offer_id, issued_to_norm)`` alone,
SQLite's planner (no ANALYZE statistics) preferred ``ix_codes_offer_issued`` because it yields the
ORDER BY, and scanned the offer's whole pool: a cost per request growing with the pool. Ending
the customer indexes with the sort columns makes both an index seek with no sort, on SQLite and
PostgreSQL alike. They replace their two-column prefixes.
"""

from __future__ import annotations

from alembic import op

revision = "0003s"
down_revision = "0002p"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_codes_offer_issued_to", table_name="codes")
    op.create_index(
        "ix_codes_offer_user_order", "codes", ["offer_id", "issued_to_norm", "issued_at", "id"]
    )
    op.drop_index("ix_redemptions_offer_user", table_name="redemptions")
    op.create_index(
        "ix_redemptions_offer_user_order",
        "redemptions",
        ["offer_id", "user_id_norm", "redeemed_at", "id"],
    )


def downgrade() -> None:
    op.drop_index("ix_redemptions_offer_user_order", table_name="redemptions")
    op.create_index("ix_redemptions_offer_user", "redemptions", ["offer_id", "user_id_norm"])
    op.drop_index("ix_codes_offer_user_order", table_name="codes")
    op.create_index("ix_codes_offer_issued_to", "codes", ["offer_id", "issued_to_norm"])
