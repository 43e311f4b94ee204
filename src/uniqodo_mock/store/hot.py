"""Hot read statements run on the driver cursor, past SQLAlchemy's execution machinery.

A prebuilt ``select()`` still costs ~50 µs per execution in SQLAlchemy (execution context,
events, result metadata) against ~6 µs for the driver to run it on SQLite. The few reads made on
every request of the hot routes are compiled once per dialect here and executed on the
connection's DBAPI cursor, inside the caller's transaction; each column goes through the same
result processor SQLAlchemy would apply (so datetimes and JSON come back as usual). Statements
with expanding (``IN``) parameters are not supported: use ``conn.execute`` for those.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import Connection, Select

__all__ = ["HotStatement"]


class _Compiled:
    def __init__(self, statement: Select[Any], dialect: Any) -> None:
        compiled = statement.compile(dialect=dialect)
        self.sql = compiled.string
        # qmark/numeric styles bind by position, pyformat/named by name.
        self.positions: tuple[str, ...] | None = (
            tuple(compiled.positiontup) if compiled.positional and compiled.positiontup else None
        )
        self.dialect = dialect
        self.columns = list(statement.selected_columns)
        self.names = tuple(column.key for column in self.columns)
        # Filled from the first cursor's description: some processors depend on the driver's
        # column type codes (PostgreSQL numeric OIDs), as in SQLAlchemy's own result setup.
        self.processors: list[Callable[[Any], Any] | None] | None = None

    def processors_for(self, description: Any) -> list[Callable[[Any], Any] | None]:
        if self.processors is None:
            self.processors = [
                column.type._cached_result_processor(self.dialect, entry[1])
                for column, entry in zip(self.columns, description, strict=True)
            ]
        return self.processors


class HotStatement:
    """One select with named bind parameters; ``rows()`` returns a dict per row."""

    def __init__(self, statement: Select[Any]) -> None:
        self.statement = statement
        self._by_dialect: dict[str, _Compiled] = {}

    def _compiled(self, dialect: Any) -> _Compiled:
        key = f"{dialect.name}+{dialect.driver}"
        compiled = self._by_dialect.get(key)
        if compiled is None:
            compiled = self._by_dialect[key] = _Compiled(self.statement, dialect)
        return compiled

    def rows(self, conn: Connection, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        compiled = self._compiled(conn.dialect)
        values: Any = (
            tuple(params[name] for name in compiled.positions)
            if compiled.positions is not None
            else dict(params)
        )
        cursor = conn.connection.driver_connection.cursor()
        try:
            cursor.execute(compiled.sql, values)
            fetched = cursor.fetchall()
            processors = compiled.processors_for(cursor.description)
        finally:
            cursor.close()
        names = compiled.names
        if not any(processors):
            return [dict(zip(names, row, strict=True)) for row in fetched]
        return [
            {
                name: process(value) if process is not None and value is not None else value
                for name, value, process in zip(names, row, processors, strict=True)
            }
            for row in fetched
        ]
