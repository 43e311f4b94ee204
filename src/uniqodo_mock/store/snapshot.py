"""The whole mock state as one JSON document, and back.

``export_snapshot`` dumps every mock table (never the receiver's); ``import_snapshot`` checks a
document completely, then replaces the state with it in one transaction: a bad snapshot
changes nothing. Ids and timestamps round-trip exactly; the id sequences (PostgreSQL's, SQLite's
AUTOINCREMENT counters) are moved to the restored ids so new rows continue after them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Integer, insert, select

from uniqodo_mock.store.fixtures import clear_state
from uniqodo_mock.store.repository import Repository
from uniqodo_mock.store.schema import metadata
from uniqodo_mock.store.template import restart_sequences

__all__ = ["FORMAT", "SnapshotError", "export_snapshot", "import_snapshot"]

FORMAT = "uniqodo-mock-snapshot/1"


class SnapshotError(ValueError):
    """A snapshot that cannot be restored; ``problems`` lists what is wrong."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def _tables() -> list[Any]:
    return list(metadata.sorted_tables)


def export_snapshot(repo: Repository) -> dict[str, Any]:
    out: dict[str, Any] = {"format": FORMAT, "database": repo.engine.dialect.name, "tables": {}}
    with repo.read() as conn:
        for table in _tables():
            order = list(table.primary_key.columns) or list(table.columns)
            rows = conn.execute(select(table).order_by(*order)).mappings().all()
            # Plain ``str`` keys: SQLAlchemy's names are a str subclass JSON encoders refuse.
            out["tables"]["".join(table.name)] = [
                {"".join(name): _dump(value) for name, value in row.items()} for row in rows
            ]
    return out


def _dump(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _load(column: Any, value: Any, where: str) -> Any:
    if value is None:
        if not column.nullable:
            raise ValueError(f"{where}: must not be null")
        return None
    if isinstance(column.type, DateTime):
        if not isinstance(value, str):
            raise ValueError(f"{where}: expected an ISO-8601 timestamp, got {value!r}")
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{where}: not an ISO-8601 timestamp: {value!r}") from None
    if isinstance(column.type, Integer | BigInteger) and (
        isinstance(value, bool) or not isinstance(value, int)
    ):
        raise ValueError(f"{where}: expected an integer, got {value!r}")
    return value


def _check(document: Any) -> dict[str, list[dict[str, Any]]]:
    if not isinstance(document, dict):
        raise SnapshotError(["a snapshot is a JSON object"])
    if document.get("format") != FORMAT:
        raise SnapshotError(
            [
                f"'format' must be {FORMAT!r} (a document from GET /__admin/snapshot), "
                f"got {document.get('format')!r}"
            ]
        )
    tables = document.get("tables")
    if not isinstance(tables, dict):
        raise SnapshotError(["'tables' must be an object of table name → rows"])
    known = {t.name: t for t in _tables()}
    problems = [f"tables.{name}: no such table" for name in tables if name not in known]
    out: dict[str, list[dict[str, Any]]] = {}
    for name, table in known.items():
        rows = tables.get(name, [])
        if not isinstance(rows, list):
            problems.append(f"tables.{name}: must be a list of rows")
            continue
        loaded = []
        for index, row in enumerate(rows):
            where = f"tables.{name}[{index}]"
            if not isinstance(row, dict):
                problems.append(f"{where}: a row is an object")
                continue
            extra = set(row) - set(table.c.keys())
            if extra:
                problems.append(f"{where}: unknown column(s) {', '.join(sorted(extra))}")
                continue
            values = {}
            for column in table.columns:
                default = column.default
                if column.name not in row and default is not None and default.is_scalar:
                    # A column newer than the snapshot: its default, as a new row gets.
                    values[column.name] = default.arg
                    continue
                try:
                    values[column.name] = _load(
                        column, row.get(column.name), f"{where}.{column.name}"
                    )
                except ValueError as error:
                    if column.name in row or not (column.nullable or column.default is not None):
                        problems.append(str(error))
            loaded.append(values)
        out[name] = loaded
        if len(problems) > 50:
            break
    if problems:
        raise SnapshotError(problems[:50])
    return out


def import_snapshot(repo: Repository, document: Any) -> dict[str, int]:
    """Replace the state with ``document``; returns rows restored per table."""
    rows_by_table = _check(document)
    counts: dict[str, int] = {}
    try:
        with repo.write() as conn:
            clear_state(conn)
            for table in _tables():
                rows = rows_by_table.get(table.name, [])
                if rows:
                    conn.execute(insert(table), rows)
                counts["".join(table.name)] = len(rows)
            # The counters follow from the rows (a snapshot of an older version has none).
            repo.recount_pool(conn)
            restart_sequences(conn)
    except SnapshotError:
        raise
    except Exception as error:  # integrity errors: the transaction rolled back, nothing lost
        first = str(getattr(error, "orig", error)).strip().splitlines()[0]
        raise SnapshotError([f"the rows do not fit together: {first}"]) from None
    return counts
