"""Durable storage of recorded calls (SQLAlchemy Core; no web framework).

Writes come in batches (``insert_many``, or a ``BatchInserter`` held by the app's writer): the
writer groups the calls that arrive while the previous transaction commits, so one commit
acknowledges many calls (group commit) and every call is committed before it is answered.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy import Engine, and_, delete, exists, func, select
from sqlalchemy.sql.elements import ColumnElement

from uniqodo_mock.receiver.filters import CallFilter
from uniqodo_mock.receiver.inserter import BatchInserter
from uniqodo_mock.receiver.model import Param, RecordedCall, Verdict
from uniqodo_mock.receiver.tables import PARAM_NAME_MAX, PARAM_VALUE_MAX, call_params, calls

__all__ = ["CallStore"]


# Ids per ``IN (...)`` when deleting index rows on SQLite (under its bound-variable limit).
_ID_CHUNK = 10_000


def _text(value: str) -> str:
    """PostgreSQL text cannot hold NUL; the exact bytes are kept in ``body``/JSON columns."""
    return value.replace("\x00", "\ufffd") if "\x00" in value else value


def _like_pattern(pattern: str) -> str:
    escaped = _text(pattern).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped.replace("*", "%")


class CallStore:
    """Recorded calls in one database. Thread-safe: each method uses its own connection."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # -- writing ---------------------------------------------------------------------------

    def insert_many(self, records: Sequence[RecordedCall]) -> list[int]:
        """Insert and commit ``records`` in one transaction; set and return their ids.

        The receiver's writer keeps one ``BatchInserter`` (and its connection) instead."""
        with BatchInserter(self.engine) as inserter:
            return inserter.insert(records)

    def delete(self, call_filter: CallFilter) -> int:
        """Delete the matching calls (all of them for an empty filter); return how many.

        Their parameter index rows go with them, in the same transaction."""
        where = self._where(call_filter)
        with self.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                # One statement: the index rows of exactly the calls it deletes, even if a batch
                # commits meanwhile (two statements would each see a different snapshot).
                gone = delete(calls).where(where).returning(calls.c.id).cte("gone")
                index_gone = (
                    delete(call_params)
                    .where(call_params.c.call_id.in_(select(gone.c.id)))
                    .cte("index_gone")
                )
                count = select(func.count()).select_from(gone).add_cte(index_gone)
                return int(conn.execute(count).scalar_one())
            # SQLite: the transaction holds the write lock (BEGIN IMMEDIATE), no batch between.
            if call_filter.is_empty():
                conn.execute(delete(call_params))
                return conn.execute(delete(calls)).rowcount or 0
            ids = list(conn.execute(delete(calls).where(where).returning(calls.c.id)).scalars())
            for start in range(0, len(ids), _ID_CHUNK):
                chunk = ids[start : start + _ID_CHUNK]
                conn.execute(delete(call_params).where(call_params.c.call_id.in_(chunk)))
            return len(ids)

    # -- reading ---------------------------------------------------------------------------

    def get(self, call_id: int) -> RecordedCall | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(calls).where(calls.c.id == call_id)).mappings().first()
        return self._record(row) if row else None

    def list(self, call_filter: CallFilter, *, limit: int | None = None) -> list[RecordedCall]:
        """Matching calls, oldest first (newest last), after the filter's cursor."""
        query = (
            select(calls)
            .where(self._where(call_filter))
            .order_by(calls.c.id)
            .limit(limit if limit is not None else call_filter.limit)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
        return [self._record(row) for row in rows]

    def count(self, call_filter: CallFilter) -> int:
        with self.engine.connect() as conn:
            query = select(func.count()).select_from(calls).where(self._where(call_filter))
            return int(conn.execute(query).scalar_one())

    def max_id(self) -> int:
        """The newest id stored (0 when empty): the cursor meaning "from now on"."""
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.coalesce(func.max(calls.c.id), 0))).scalar_one())

    # -- helpers ---------------------------------------------------------------------------

    @staticmethod
    def _where(f: CallFilter) -> ColumnElement[bool]:
        conditions: list[ColumnElement[bool]] = []
        if f.methods:
            conditions.append(calls.c.method.in_(f.methods))
        if f.path is not None:
            if f.path_is_pattern():
                conditions.append(calls.c.path.like(_like_pattern(f.path), escape="\\"))
            else:
                conditions.append(calls.c.path == _text(f.path))
        if f.since is not None:
            conditions.append(calls.c.received_at >= f.since)
        if f.until is not None:
            conditions.append(calls.c.received_at < f.until)
        if f.callback is not None:
            conditions.append(calls.c.looks_like_callback.is_(f.callback))
        if f.conforms is not None:
            conditions.append(calls.c.conforms.is_(f.conforms))
        if f.after is not None:
            conditions.append(calls.c.id > f.after)
        for name, value in f.params:
            match = [
                call_params.c.call_id == calls.c.id,
                call_params.c.name == _text(name[:PARAM_NAME_MAX]),
            ]
            if value is not None:
                match.append(call_params.c.value == _text(value[:PARAM_VALUE_MAX]))
            conditions.append(exists().where(*match))
        return and_(True, *conditions)

    @staticmethod
    def _record(row: Any) -> RecordedCall:
        problems = orjson.loads(row["problems"])
        return RecordedCall(
            id=row["id"],
            received_at=row["received_at"],
            method=row["method"],
            path=row["path"],
            query=row["query"],
            headers=[(name, value) for name, value in orjson.loads(row["headers"])],
            content_type=row["content_type"],
            body=bytes(row["body"]),
            body_size=row["body_size"],
            rejected=bool(row["rejected"]),
            client=row["client"],
            response_status=row["response_status"],
            params=[Param(s, n, v) for s, n, v in orjson.loads(row["params"])],
            verdict=Verdict(
                bool(row["looks_like_callback"]),
                None if row["conforms"] is None else bool(row["conforms"]),
                tuple(problems),
            ),
        )
