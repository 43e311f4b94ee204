"""The vendor API's statements, each compiled once per dialect and run on the transaction's
own DBAPI connection.

A request of the vendor API runs a handful of fixed statements. Run through
``Connection.execute``, each one also goes through SQLAlchemy's per-execution machinery
(execution context, events, result metadata), which costs several times what the database
itself spends on an indexed lookup (``docs/benchmarks.md``). A ``Statement`` keeps what that
machinery would work out again each time: the compiled SQL and its parameter order, and the
bind and result conversions of each column's type, taken from SQLAlchemy's public type API
(``TypeEngine.dialect_impl``, ``bind_processor``, ``result_processor``) so values come and go
exactly as SQLAlchemy converts them. It runs inside the caller's SQLAlchemy transaction, on that
transaction's connection (``Connection.connection.driver_connection``).
"""

from __future__ import annotations

import operator
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Generic, TypeVar

from sqlalchemy import Connection, CursorResult
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ClauseElement

__all__ = ["Statement", "new_id"]

Processor = Callable[[Any], Any] | None


class _Prepared:
    def __init__(self, statement: ClauseElement, dialect: Dialect, column_keys: list[str] | None):
        compiled = statement.compile(dialect=dialect, column_keys=column_keys)
        # A select, insert, update or delete compiles to a SQLCompiler (not DDL).
        assert isinstance(compiled, SQLCompiler)
        self.compiled = compiled
        self.sql = compiled.string
        self.positions: tuple[str, ...] | None = (
            tuple(compiled.positiontup or ()) if compiled.positional else None
        )
        # The positional values of a mapping, in order, in one call.
        self._pick: Callable[[Mapping[str, Any]], tuple[Any, ...]] | None = None
        if self.positions:
            getter = operator.itemgetter(*self.positions)
            self._pick = getter if len(self.positions) > 1 else (lambda values: (getter(values),))
        processors = {
            name: bind.type.dialect_impl(dialect).bind_processor(dialect)
            for name, bind in compiled.binds.items()
        }
        self.bind_processors = {name: p for name, p in processors.items() if p is not None}
        # Values written into the statement itself (``origin != 'generic'``): bound as given.
        self.literals = {
            name: bind.effective_value
            for name, bind in compiled.binds.items()
            if not bind.required and name not in (column_keys or ())
        }
        if hasattr(statement, "selected_columns"):
            self.columns = list(statement.selected_columns)
        else:  # an INSERT, UPDATE or DELETE: its RETURNING columns, if any
            described = getattr(statement, "returning_column_descriptions", None) or []
            self.columns = [entry["expr"] for entry in described]
        self.names = tuple(column.key for column in self.columns)
        self.dialect = dialect
        # From the first cursor's description: some conversions depend on the driver's type
        # codes (PostgreSQL's numeric OIDs), as in SQLAlchemy's own result set-up.
        self.result_processors: list[Processor] | None = None

    def parameters(self, params: Mapping[str, Any]) -> Any:
        values: Mapping[str, Any] = params
        if self.literals or self.bind_processors:
            converted = {**self.literals, **params}
            for name, process in self.bind_processors.items():
                value = converted.get(name)
                if value is not None:
                    converted[name] = process(value)
            values = converted
        if self.positions is not None:
            return self._pick(values) if self._pick is not None else ()
        return values

    def processors_for(self, description: Sequence[Any]) -> list[Processor]:
        if self.result_processors is None:
            self.result_processors = [
                column.type.dialect_impl(self.dialect).result_processor(self.dialect, entry[1])
                for column, entry in zip(self.columns, description, strict=True)
            ]
        return self.result_processors


S = TypeVar("S", bound=ClauseElement)


def new_id(result: CursorResult[Any]) -> int:
    """The primary key an INSERT of one row gave."""
    key = result.inserted_primary_key
    assert key is not None, "not the result of a single-row INSERT"
    return int(key[0])


def _cursor(conn: Connection) -> Any:
    """A cursor of the transaction's DBAPI connection (the driver's own type)."""
    driver = conn.connection.driver_connection
    assert driver is not None, "the connection was closed"
    return driver.cursor()


class Statement(Generic[S]):
    """A select, insert, update or delete with named bind parameters, built once."""

    def __init__(self, statement: S, *, column_keys: list[str] | None = None) -> None:
        """``column_keys``: for an INSERT or UPDATE without values of its own, the columns
        its parameters set."""
        self.statement = statement
        self.column_keys = column_keys
        self._by_dialect: dict[str, _Prepared] = {}
        self._lock = threading.Lock()

    def _prepared(self, dialect: Dialect) -> _Prepared:
        key = f"{dialect.name}+{dialect.driver}"
        prepared = self._by_dialect.get(key)
        if prepared is None:
            with self._lock:
                prepared = self._by_dialect.get(key)
                if prepared is None:
                    prepared = _Prepared(self.statement, dialect, self.column_keys)
                    self._by_dialect[key] = prepared
        return prepared

    def sql(self, dialect: Dialect) -> str:
        """The statement's SQL as compiled for ``dialect`` (with its bind placeholders)."""
        return self._prepared(dialect).sql

    def rows(self, conn: Connection, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        """The rows a select (or a statement with RETURNING) gives, one dict per row."""
        prepared = self._prepared(conn.dialect)
        cursor = _cursor(conn)
        try:
            cursor.execute(prepared.sql, prepared.parameters(params))
            fetched = cursor.fetchall()
            processors = prepared.result_processors
            if processors is None and fetched:
                processors = prepared.processors_for(cursor.description)
        finally:
            cursor.close()
        names = prepared.names
        if not processors or not any(processors):
            return [dict(zip(names, row, strict=True)) for row in fetched]
        return [
            {
                name: process(value) if process is not None and value is not None else value
                for name, value, process in zip(names, row, processors, strict=True)
            }
            for row in fetched
        ]

    def first(self, conn: Connection, params: Mapping[str, Any]) -> dict[str, Any] | None:
        found = self.rows(conn, params)
        return found[0] if found else None

    def run_many(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        """Execute an insert, update or delete once per row of parameters (the driver's
        ``executemany``: one prepared statement for the whole batch)."""
        if not rows:
            return
        prepared = self._prepared(conn.dialect)
        cursor = _cursor(conn)
        try:
            cursor.executemany(prepared.sql, [prepared.parameters(row) for row in rows])
        finally:
            cursor.close()

    def run(self, conn: Connection, params: Mapping[str, Any]) -> int:
        """Execute an insert, update or delete; the number of rows it changed."""
        prepared = self._prepared(conn.dialect)
        cursor = _cursor(conn)
        try:
            cursor.execute(prepared.sql, prepared.parameters(params))
            return int(cursor.rowcount)
        finally:
            cursor.close()
