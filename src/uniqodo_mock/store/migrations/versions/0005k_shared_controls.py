"""shared test controls: fault rules with their counts and windows, the journal

Revision ID: 0005k
Revises: 0005t

Fault rules, their counts, ttl and rate-limit windows, and the request journal lived in each
process's memory: behind one address, two replicas each saw half the story. They live in the
database now (``store/controls.py``). ``control_state`` holds the rule set's generation (moved
by every write of the rules) and whether the fixtures' rules were seeded for the state in the
database: a database loaded before this revision gets them at the next start;
``journal_state`` the journal's dropped count. On a SQLite file the journal's two tables are
created in a file of their own beside it (``store/controls.py``: journal commits must not move
the mock database's data version); here they serve PostgreSQL and in-memory databases. SQLite
ids are ``AUTOINCREMENT``: never handed out twice.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005k"
down_revision = "0005t"
branch_labels = None
depends_on = None

_Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "control_state",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("generation", sa.BigInteger(), nullable=False),
        sa.Column("faults_seeded", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_control_state")),
    )
    op.execute("INSERT INTO control_state (id, generation, faults_seeded) VALUES (1, 0, false)")
    op.create_table(
        "fault_rules",
        sa.Column("id", _Id, autoincrement=True, nullable=False),
        sa.Column("target", sa.String(16), nullable=False),
        sa.Column("spec", sa.Text(), nullable=False),
        sa.Column("created", sa.Float(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=True),
        sa.Column("count_limit", sa.BigInteger(), nullable=True),
        sa.Column("applied", sa.BigInteger(), nullable=False),
        sa.Column("draws", sa.BigInteger(), nullable=False),
        sa.Column("window_start", sa.Float(), nullable=False),
        sa.Column("window_hits", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fault_rules")),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "journal_entries",
        sa.Column("id", _Id, autoincrement=True, nullable=False),
        sa.Column("at_us", sa.BigInteger(), nullable=False),
        sa.Column("mock_now_us", sa.BigInteger(), nullable=False),
        sa.Column("method", sa.String(16), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("operation", sa.String(64), nullable=True),
        sa.Column("params", sa.Text(), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("api_key", sa.Text(), nullable=True),
        sa.Column("code", sa.Text(), nullable=True),
        sa.Column("code_norm", sa.Text(), nullable=True),
        sa.Column("errors", sa.Text(), nullable=False),
        sa.Column("fault", sa.Text(), nullable=True),
        sa.Column("duration_ms", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journal_entries")),
        sqlite_autoincrement=True,
    )

    op.create_table(
        "journal_state",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("dropped", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journal_state")),
    )


def downgrade() -> None:
    op.drop_table("journal_state")
    op.drop_table("journal_entries")
    op.drop_table("fault_rules")
    op.drop_table("control_state")
