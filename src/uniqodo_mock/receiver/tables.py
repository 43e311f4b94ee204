"""The receiver's tables (SQLAlchemy Core). The schema itself is created and upgraded only by the
Alembic migrations in ``migrations/``; these objects describe it for queries.

``receiver_call_params`` is an index of the parameters each call carried (query, form and JSON
fields), so ``param=code:AB12E3GH`` is an indexed lookup on any database. Its names and values
are cut to ``PARAM_NAME_MAX`` / ``PARAM_VALUE_MAX`` characters to fit a B-tree index; the
full values live in ``receiver_calls.params``.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

__all__ = [
    "PARAM_NAME_MAX",
    "PARAM_VALUE_MAX",
    "call_params",
    "calls",
    "metadata",
    "response_rules",
]

PARAM_NAME_MAX = 100
PARAM_VALUE_MAX = 400

metadata = MetaData()

# BigInteger on PostgreSQL, INTEGER on SQLite so the id is the rowid alias (autoincrementing).
_ID = BigInteger().with_variant(Integer(), "sqlite")

calls = Table(
    "receiver_calls",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("received_at", BigInteger, nullable=False, index=True),
    Column("method", String(20), nullable=False),
    Column("path", Text, nullable=False),
    Column("query", Text, nullable=False),
    Column("headers", Text, nullable=False),
    Column("content_type", Text),
    Column("body", LargeBinary, nullable=False),
    Column("body_size", BigInteger, nullable=False),
    Column("rejected", Boolean, nullable=False),
    Column("client", Text),
    Column("response_status", Integer, nullable=False),
    Column("params", Text, nullable=False),
    Column("looks_like_callback", Boolean, nullable=False),
    Column("conforms", Boolean),
    Column("problems", Text, nullable=False),
    # SQLite: ids are never reused after a deletion (r0004), as on PostgreSQL.
    sqlite_autoincrement=True,
)

# No foreign key and no surrogate id (migration r0002): both were checked or drawn per indexed
# parameter on insert. The store deletes a call's rows with the call.
call_params = Table(
    "receiver_call_params",
    metadata,
    Column("call_id", _ID, nullable=False, index=True),
    Column("name", String(PARAM_NAME_MAX), nullable=False),
    Column("value", String(PARAM_VALUE_MAX), nullable=False),
    Index("ix_receiver_call_params_name_value", "name", "value"),
)

# One row (id 1): the response rules every receiver on this database applies (migration r0003).
response_rules = Table(
    "receiver_response_rules",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("generation", BigInteger, nullable=False),
    Column("rules", Text, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
)
