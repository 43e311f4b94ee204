"""state_version: a counter bumped by triggers whenever accounts, offers or authorisations change

Revision ID: 0002p
Revises: 0001

Each process caches those rarely-changing rows (they are read on every request) and re-reads
the counter to know when its cache is stale. Triggers, not application code, bump it: every
writer (fixtures, admin, other replicas, other branches' features) is covered.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002p"
down_revision = "0001"
branch_labels = None
depends_on = None

_WATCHED = ("merchants", "distributors", "api_keys", "offers", "offer_distributors")


def upgrade() -> None:
    op.create_table(
        "state_version",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_state_version")),
    )
    op.execute("INSERT INTO state_version (id, version) VALUES (1, 0)")
    # code_remaining counts an offer's unissued pool codes on every query answer: a covering
    # index makes that an index-only count.
    op.create_index("ix_codes_offer_unissued", "codes", ["offer_id", "issued_at", "origin"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION uqm_bump_state_version() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                UPDATE state_version SET version = version + 1 WHERE id = 1;
                RETURN NULL;
            END $$
            """
        )
        for table in _WATCHED:
            op.execute(
                f"CREATE TRIGGER tr_{table}_state_version "
                f"AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION uqm_bump_state_version()"
            )
        return
    for table in _WATCHED:
        for event in ("INSERT", "UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER tr_{table}_{event.lower()}_state_version "
                f"AFTER {event} ON {table} "
                "BEGIN UPDATE state_version SET version = version + 1 WHERE id = 1; END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in _WATCHED:
            op.execute(f"DROP TRIGGER IF EXISTS tr_{table}_state_version ON {table}")
        op.execute("DROP FUNCTION IF EXISTS uqm_bump_state_version()")
    else:
        for table in _WATCHED:
            for event in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS tr_{table}_{event}_state_version")
    op.drop_index("ix_codes_offer_unissued", table_name="codes")
    op.drop_table("state_version")
