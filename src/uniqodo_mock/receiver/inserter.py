"""Write batches of recorded calls over one held connection: the writer thread's hot path.

A batch is committed in one transaction before any of its calls is acknowledged. The SQL is sent
to the driver directly with constant statement texts, because SQLAlchemy's per-row parameter
processing and the driver's parsing of a new multi-row statement per batch size were most of the
writer's CPU per call:

- PostgreSQL: the whole batch is **one statement** in autocommit (its own transaction, one round
  trip): the calls and their parameter index rows go in as column arrays (``unnest``), the
  parameter rows joined to the ids the calls got. The driver prepares the statement once.
- SQLite: ``BEGIN IMMEDIATE``, ids assigned after the largest ever used (``max(id)`` and the
  table's AUTOINCREMENT counter, what SQLite itself would assign) under the write lock, two
  ``executemany``, ``COMMIT``.
- The receiver's writer also reads the shared response rules' row first (one small select per
  batch, before the PostgreSQL statement, inside the SQLite transaction), which decides what
  each call of the batch is answered (``shared_responses.py``).

Ids are committed in increasing order even with several writers on one database (replicas,
workers): PostgreSQL batches take a transaction advisory lock before drawing ids, SQLite's write
lock serialises them. A reader's cursor (``after=ID``) therefore never skips a call that commits
late.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy import Connection, Engine

from uniqodo_mock.receiver.model import Param, RecordedCall
from uniqodo_mock.receiver.shared_responses import SharedResponses
from uniqodo_mock.receiver.tables import PARAM_NAME_MAX, PARAM_VALUE_MAX

__all__ = ["RECHECK_AFTER_IDLE", "BatchInserter"]

# A connection idle longer than this goes back to the pool and is checked out again (the pool's
# pre-ping then finds one broken while idle, e.g. by a server restart). Under load: no ping.
RECHECK_AFTER_IDLE = 1.0

# Arbitrary constant shared by every receiver process: the advisory lock key of the id order.
_ID_ORDER_LOCK = 0x7265636569766572  # "receiver"

_COLUMNS = (
    "received_at, method, path, query, headers, content_type, body, body_size, rejected, "
    "client, response_status, params, looks_like_callback, conforms, problems"
)

# The batch travels as one JSON document, one array per call: the columns in ``_COLUMNS`` order
# (the body in base64), then the parameter index as [[name, value], ...]. Serialising it is one
# orjson call; the driver's array parameters escaped every element in Python (2x slower).
# The lock is a one-row CTE joined to the rows to insert, so it is taken before the first id is
# drawn; it is released when the statement's transaction ends, after its rows are visible.
# ``ORDER BY n`` makes the ids follow the batch order (the sequence is drawn row by row), so the
# k-th smallest id is the k-th call: the parameter rows are joined on that rank.
_PG_INSERT_BATCH = f"""
WITH id_order AS (SELECT pg_advisory_xact_lock({_ID_ORDER_LOCK}) AS locked),
batch AS (SELECT c, n FROM jsonb_array_elements(%s::jsonb) WITH ORDINALITY AS b(c, n)),
new AS (
    INSERT INTO receiver_calls ({_COLUMNS})
    SELECT (c->>0)::bigint, c->>1, c->>2, c->>3, c->>4, c->>5, decode(c->>6, 'base64'),
        (c->>7)::bigint, (c->>8)::boolean, c->>9, (c->>10)::integer, c->>11,
        (c->>12)::boolean, (c->>13)::boolean, c->>14
    FROM batch CROSS JOIN id_order
    ORDER BY n
    RETURNING id
),
ranked AS (SELECT id, row_number() OVER (ORDER BY id) AS n FROM new),
indexed AS (
    INSERT INTO receiver_call_params (call_id, name, value)
    SELECT ranked.id, p->>0, p->>1
    FROM batch JOIN ranked USING (n) CROSS JOIN jsonb_array_elements(c->15) AS p
)
SELECT id FROM ranked ORDER BY id
"""

_SQLITE_INSERT_CALL = (
    f"INSERT INTO receiver_calls (id, {_COLUMNS}) VALUES (?, {', '.join('?' * 15)})"
)
_SQLITE_INSERT_PARAM = "INSERT INTO receiver_call_params (call_id, name, value) VALUES (?, ?, ?)"


def _text(value: str) -> str:
    """PostgreSQL text cannot hold NUL; the exact bytes are kept in ``body``/JSON columns."""
    return value.replace("\x00", "\ufffd") if "\x00" in value else value


def _row(r: RecordedCall) -> tuple[Any, ...]:
    verdict = r.verdict
    return (
        r.received_at,
        _text(r.method),
        _text(r.path),
        _text(r.query),
        orjson.dumps(r.headers).decode(),
        _text(r.content_type) if r.content_type is not None else None,
        r.body,
        r.body_size,
        r.rejected,
        _text(r.client) if r.client is not None else None,
        r.response_status,
        orjson.dumps([(p.source, p.name, p.value) for p in r.params]).decode(),
        verdict.looks_like_callback,
        verdict.conforms,
        orjson.dumps(verdict.problems).decode(),
    )


def _index_entry(param: Param) -> tuple[str, str]:
    """A parameter as the index keeps it: cut to fit a B-tree entry, NUL-free."""
    return _text(param.name[:PARAM_NAME_MAX]), _text(param.value[:PARAM_VALUE_MAX])


# Deleted calls' ids are not drawn again: the counter remembers them (migration r0004).
_SQLITE_NEXT_ID = (
    "SELECT max(coalesce((SELECT max(id) FROM receiver_calls), 0), coalesce((SELECT seq FROM "
    "sqlite_sequence WHERE name = 'receiver_calls'), 0)) + 1"
)


class BatchInserter:
    """Inserts batches over one connection held between batches. One thread at a time.

    With ``responses``, each batch first reads the shared response rules over the same
    connection (SQLite: in the batch's transaction) and sets the answer of every call that is
    not refused, before it is stored."""

    def __init__(
        self,
        engine: Engine,
        *,
        recheck_after_idle: float = RECHECK_AFTER_IDLE,
        responses: SharedResponses | None = None,
    ) -> None:
        self._engine = engine
        self._responses = responses
        self._postgresql = engine.dialect.name == "postgresql"
        self._recheck_after_idle = recheck_after_idle
        self._conn: Connection | None = None
        self._last_used = 0.0

    def __enter__(self) -> BatchInserter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def insert(self, records: Sequence[RecordedCall]) -> list[int]:
        """Insert and commit ``records`` in one transaction; set and return their ids."""
        if not records:
            return []
        conn = self._connection()
        try:
            insert = self._insert_postgresql if self._postgresql else self._insert_sqlite
            ids = insert(conn, records, self._responses)
        except BaseException:
            # The connection's state is unknown (broken, or mid-transaction): never reuse it.
            self._conn = None
            conn.invalidate()
            conn.close()
            raise
        self._last_used = time.monotonic()
        for call_id, record in zip(ids, records, strict=True):
            record.id = call_id
        return ids

    def _connection(self) -> Connection:
        if self._conn is not None and time.monotonic() - self._last_used > self._recheck_after_idle:
            self.close()
        if self._conn is None:
            conn = self._engine.connect()
            if self._postgresql:
                conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            self._conn = conn
        return self._conn

    @staticmethod
    def _insert_postgresql(
        conn: Connection, records: Sequence[RecordedCall], responses: SharedResponses | None
    ) -> list[int]:
        driver = conn.connection.driver_connection
        assert driver is not None
        with driver.cursor() as cursor:
            if responses is not None:
                responses.apply(cursor, records)
            batch = []
            for record in records:
                row: list[Any] = list(_row(record))
                row[6] = base64.b64encode(record.body).decode("ascii")
                row.append([_index_entry(p) for p in record.params])
                batch.append(row)
            cursor.execute(_PG_INSERT_BATCH, (orjson.dumps(batch).decode(),))
            return [row[0] for row in cursor.fetchall()]

    @staticmethod
    def _insert_sqlite(
        conn: Connection, records: Sequence[RecordedCall], responses: SharedResponses | None
    ) -> list[int]:
        with conn.begin():  # BEGIN IMMEDIATE (store.engine): the write lock, held to COMMIT
            cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
            try:
                if responses is not None:
                    responses.apply(cursor, records)
                first = cursor.execute(_SQLITE_NEXT_ID)
                start = int(first.fetchone()[0])
                ids = list(range(start, start + len(records)))
                cursor.executemany(
                    _SQLITE_INSERT_CALL,
                    [(call_id, *_row(r)) for call_id, r in zip(ids, records, strict=True)],
                )
                index_rows = [
                    (call_id, *_index_entry(p))
                    for call_id, record in zip(ids, records, strict=True)
                    for p in record.params
                ]
                if index_rows:
                    cursor.executemany(_SQLITE_INSERT_PARAM, index_rows)
            finally:
                cursor.close()
        return ids
