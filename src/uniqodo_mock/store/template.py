"""A prepared copy of the state the fixtures load, to reset to without loading them again.

Loading the fixtures builds every row from the fixture document (thousands of generated pool
codes among them). A reset before each of a partner's tests needs only that same state again:
when the fixtures are loaded, the same transaction copies every state table into a template
table of its own (``uqm_template_<table>``, no indexes beyond the primary key), and
``restore_template`` brings the state back to the template's rows in one transaction, touching
only the rows that differ: rows added since are deleted, rows changed are updated, rows deleted
are inserted again. Ids, counters and (on PostgreSQL) the id sequences end up exactly as a new
load of the same document leaves them.

A few values of a load depend on the moment of the load (codes issued "now", the load's own
time, subscriptions' creation time): ``Stamp`` names each such cell and its distance from that
moment, and a restore writes them for its own moment, as a load at that moment would.

The template is tied to one fixture document and one schema (``template_key``): fixtures
replaced, or a migration that changes the tables, and the key no longer matches; the next
reset then loads the fixtures and prepares the template again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    ColumnElement,
    Connection,
    MetaData,
    String,
    Table,
    Text,
    and_,
    bindparam,
    cast,
    delete,
    exists,
    false,
    func,
    insert,
    inspect,
    or_,
    select,
    text,
    tuple_,
    update,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError, IntegrityError

from uniqodo_mock.core.dates import to_db
from uniqodo_mock.store.migrate import script_heads
from uniqodo_mock.store.repository import Repository
from uniqodo_mock.store.schema import metadata
from uniqodo_mock.store.statements import Statement

__all__ = [
    "TEMPLATE_PREFIX",
    "Stamp",
    "discard_template",
    "prepare_template",
    "restart_sequences",
    "restore_template",
    "template_key",
]

TEMPLATE_PREFIX = "uqm_template_"
_FORMAT = "uniqodo-mock-template/1"

_template_metadata = MetaData()
# What the template is for (its key) and the stamps of its load; written last, in the
# transaction that fills the copies, so a template is complete or absent.
_info = Table(
    f"{TEMPLATE_PREFIX}info",
    _template_metadata,
    Column("name", String(32), primary_key=True),
    Column("value", JSON, nullable=False),
)


def _copy_of(table: Table) -> Table:
    # The same columns and primary key; no defaults, constraints or other indexes: the copy is
    # only ever read whole or by primary key.
    return Table(
        f"{TEMPLATE_PREFIX}{table.name}",
        _template_metadata,
        *(
            Column(
                column.name,
                column.type,
                primary_key=column.primary_key,
                autoincrement=False,
                nullable=not column.primary_key,
            )
            for column in table.columns
        ),
    )


def _key_of(table: Table) -> Column[Any]:
    return next(iter(table.primary_key.columns))


# Parents first (inserts), reversed for deletes: foreign keys hold throughout.
_STATE_TABLES: tuple[Table, ...] = tuple(metadata.sorted_tables)
_COPIES: dict[str, Table] = {table.name: _copy_of(table) for table in _STATE_TABLES}


@dataclass(frozen=True)
class Stamp:
    """Cells of one column of ``table`` that a load sets from its own moment: that moment plus
    ``offset`` (as a stored timestamp, or ``iso``: as the ISO text of the aware moment)."""

    table: str
    column: str
    keys: tuple[Any, ...]
    offset: timedelta = timedelta(0)
    iso: bool = False

    def to_json(self) -> list[Any]:
        micros = self.offset // timedelta(microseconds=1)
        return [self.table, self.column, list(self.keys), micros, self.iso]

    @classmethod
    def from_json(cls, value: list[Any]) -> Stamp:
        table, column, keys, micros, iso = value
        return cls(table, column, tuple(keys), timedelta(microseconds=micros), bool(iso))


def _merged(stamps: Iterable[Stamp]) -> list[Stamp]:
    """One stamp per column and offset (one UPDATE each at a restore)."""
    keys: dict[tuple[str, str, timedelta, bool], list[Any]] = {}
    for stamp in stamps:
        keys.setdefault((stamp.table, stamp.column, stamp.offset, stamp.iso), []).extend(stamp.keys)
    return [
        Stamp(table, column, tuple(found), offset, iso)
        for (table, column, offset, iso), found in keys.items()
    ]


def _schema() -> list[Any]:
    return [
        [table.name, [[c.name, repr(c.type), c.primary_key] for c in table.columns]]
        for table in _STATE_TABLES
    ]


def _digest(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# The copies' own shape: when the state tables change, they are made again.
_SCHEMA_DIGEST = _digest([_FORMAT, _schema()])


def template_key(document_data: Any, source: str) -> str:
    """What a template is valid for: this fixture document from this source, loaded into
    these tables at these migrations."""
    return _digest([_FORMAT, sorted(script_heads()), _schema(), source, document_data])


def _template_exists(repo: Repository) -> bool:
    with repo.read() as conn:
        return inspect(conn).has_table(_info.name)


def _copies_fit(conn: Connection) -> bool:
    """The template tables exist, made for the state tables as they are now."""
    if not inspect(conn).has_table(_info.name):
        return False
    shape = conn.execute(select(_info.c.value).where(_info.c.name == "schema")).scalar()
    return bool(shape == _SCHEMA_DIGEST)


def prepare_template(conn: Connection, key: str, stamps: Iterable[Stamp]) -> None:
    """Copy the state as it is now (just loaded from the fixtures) into the template, for
    ``key``. Runs in the loading transaction."""
    postgres = conn.dialect.name == "postgresql"
    if _copies_fit(conn):
        if postgres:
            # Emptied without leaving dead rows behind (TRUNCATE is transactional there).
            names = ", ".join(table.name for table in _template_metadata.sorted_tables)
            conn.execute(text(f"TRUNCATE {names}"))
        else:
            for copy in _COPIES.values():
                conn.execute(delete(copy))
            conn.execute(delete(_info))
    else:
        _template_metadata.drop_all(conn, checkfirst=True)
        _template_metadata.create_all(conn)
    for table in _STATE_TABLES:
        copy = _COPIES[table.name]
        conn.execute(insert(copy).from_select(list(table.c.keys()), select(table)))
    conn.execute(
        insert(_info),
        [
            {"name": "schema", "value": _SCHEMA_DIGEST},
            {"name": "stamps", "value": [stamp.to_json() for stamp in _merged(stamps)]},
            {"name": "key", "value": key},
        ],
    )
    if postgres:
        # Statistics for the planner: the copies are read by every restore.
        for copy in _COPIES.values():
            conn.execute(text(f"ANALYZE {copy.name}"))


def discard_template(repo: Repository) -> None:
    """Forget the template: the next reset loads the fixtures (and prepares it again)."""
    with repo.write() as conn:
        if inspect(conn).has_table(_info.name):
            conn.execute(delete(_info).where(_info.c.name == "key"))


def restore_template(
    repo: Repository,
    key: str,
    now: datetime,
    *,
    also: Callable[[Connection], None] | None = None,
) -> bool:
    """Bring the state back to the template of ``key``, as a load of its fixtures at ``now``
    leaves it, in one transaction (``also``: more of the load's work, in that transaction).
    False (and nothing changed) when there is no template for ``key``: the caller loads the
    fixtures instead."""
    try:
        return _restore(repo, key, now, also)
    except IntegrityError:
        # Rows another process wrote meanwhile do not fit (the transaction rolled back,
        # nothing changed): a load of the fixtures replaces everything instead.
        return False
    except DBAPIError:
        # No template tables (never prepared, or dropped): looked up only now, so that a
        # reset with a template costs no catalogue query. Any other failure is the caller's.
        if _template_exists(repo):
            raise
        return False


def _restore(
    repo: Repository, key: str, now: datetime, also: Callable[[Connection], None] | None
) -> bool:
    with repo.write() as conn:
        info = {name: value for name, value in conn.execute(_INFO)}
        if info.get("key") != key:
            return False
        if repo.is_postgres:
            # A handful of small statements: compiling them to machine code (PostgreSQL's JIT,
            # which their cost estimates over unanalysed copies can trigger) costs far more
            # than running them.
            conn.execute(text("SET LOCAL jit = off"))
        for stamp in (Stamp.from_json(value) for value in info.get("stamps") or []):
            _write_stamp(conn, stamp, now)
        if repo.is_postgres:
            # One round trip for all of them: a PL/pgSQL block (they take no parameters).
            conn.exec_driver_sql(_postgres_script(conn.dialect))
            restart_sequences(conn)
        else:
            for statement in _restore_statements(postgres=False):
                statement.run(conn, {})
            restart_sequences(conn)
        if also is not None:
            also(conn)
    return True


def _comparable(column: Any) -> Any:
    # PostgreSQL's json has no equality: JSON values are compared as their text.
    return cast(column, Text) if isinstance(column.type, JSON) else column


def _restore_statements(*, postgres: bool) -> list[Statement[Any]]:
    """Deletes children first, then updates and inserts parents first."""
    statements: list[Statement[Any]] = [r.delete_added for r in reversed(_RESTORES)]
    for restore in _RESTORES:
        update_rows = restore.update_from if postgres else restore.update_changed
        if update_rows is not None:
            statements.append(update_rows)
        statements.append(restore.insert_missing)
    return statements


_SCRIPTS: dict[str, str] = {}


def _postgres_script(dialect: Dialect) -> str:
    key = f"{dialect.name}+{dialect.driver}"
    script = _SCRIPTS.get(key)
    if script is None:
        body = "".join(f"{s.sql(dialect)};\n" for s in _restore_statements(postgres=True))
        script = _SCRIPTS[key] = f"DO $uqm_restore$ BEGIN\n{body}END $uqm_restore$"
    return script


def _differs(table: Any, copy: Table, columns: list[Column[Any]]) -> ColumnElement[bool]:
    return or_(
        false(),
        *(
            _comparable(table.c[column.name]).is_distinct_from(_comparable(copy.c[column.name]))
            for column in columns
        ),
    )


class _TableRestore:
    """The three statements that bring one table back to its copy, built once: rows whose
    key the copy lacks are deleted, rows that differ from the copy's are updated, the copy's
    rows the table lacks are inserted."""

    def __init__(self, table: Table) -> None:
        copy = _COPIES[table.name]
        keys = list(table.primary_key.columns)
        others = [column for column in table.columns if not column.primary_key]
        if len(keys) == 1:
            key, copy_key = keys[0], copy.c[keys[0].name]
            added: ColumnElement[bool] = key.not_in(select(copy_key))
            missing: ColumnElement[bool] = copy_key.not_in(select(key))
        else:
            same = and_(*(copy.c[column.name] == column for column in keys))
            added = ~exists().where(same)
            missing = ~exists().where(same)
        self.delete_added = Statement(delete(table).where(added))
        self.insert_missing = Statement(
            insert(table).from_select(list(table.c.keys()), select(copy).where(missing))
        )
        self.update_changed: Statement[Any] | None = None
        self.update_from: Statement[Any] | None = None
        if others:
            same_key = and_(*(copy.c[column.name] == column for column in keys))
            # PostgreSQL: UPDATE ... FROM the copy, joined by key (a hash join).
            self.update_from = Statement(
                update(table)
                .values({column.name: copy.c[column.name] for column in others})
                .where(same_key, _differs(table, copy, others))
            )
            # SQLite: its UPDATE ... FROM builds the whole join first; the keys of the rows
            # that differ, found through an alias, then one update of those rows alone.
            current = table.alias(f"current_{table.name}")
            changed = (
                select(*(current.c[column.name] for column in keys))
                .join(copy, and_(*(copy.c[c.name] == current.c[c.name] for c in keys)))
                .where(_differs(current, copy, others))
            )
            target = keys[0] if len(keys) == 1 else tuple_(*keys)
            self.update_changed = Statement(
                update(table)
                .values(
                    {
                        column.name: select(copy.c[column.name]).where(same_key).scalar_subquery()
                        for column in others
                    }
                )
                .where(target.in_(changed))
            )


_RESTORES = tuple(_TableRestore(table) for table in _STATE_TABLES)
_INFO = select(_info.c.name, _info.c.value)
# One statement per column a stamp may name, built once: the keys are an expanding IN list.
_STAMP_UPDATES = {
    (table.name, column.name): update(_COPIES[table.name])
    .where(_key_of(_COPIES[table.name]).in_(bindparam("keys", expanding=True)))
    .values({column.name: bindparam("stamp_value")})
    for table in _STATE_TABLES
    if len(table.primary_key.columns) == 1
    for column in table.columns
    if not column.primary_key
}


def _write_stamp(conn: Connection, stamp: Stamp, now: datetime) -> None:
    moment = now + stamp.offset
    value: Any = moment.isoformat() if stamp.iso else to_db(moment)
    conn.execute(
        _STAMP_UPDATES[(stamp.table, stamp.column)],
        {"keys": list(stamp.keys), "stamp_value": value},
    )


# Tables whose ids come from a sequence (PostgreSQL): codes, redemptions, subscriptions, the
# outbox and its attempts.
_SEQUENCED = tuple(
    table
    for table in _STATE_TABLES
    if len(table.primary_key.columns) == 1 and _key_of(table).autoincrement is True
)
_SEQUENCE_NAMES = Statement(
    select(
        *(
            func.pg_get_serial_sequence(table.name, _key_of(table).name).label(table.name)
            for table in _SEQUENCED
        )
    )
)
_NEXT_IDS = Statement(
    select(
        *(
            select(func.coalesce(func.max(_key_of(table)), 0) + 1)
            .scalar_subquery()
            .label(table.name)
            for table in _SEQUENCED
        )
    )
)


def restart_sequences(conn: Connection) -> None:
    """The id counters of the state tables restarted right after the ids the tables hold (at
    1 when they are empty, as in a new database; a load then gives the same ids every time).
    PostgreSQL: ``ALTER SEQUENCE ... RESTART`` is transactional, unlike ``setval``: a
    transaction that rolls back leaves the sequences where they were; sequences already
    there are left alone. SQLite: the AUTOINCREMENT counters in ``sqlite_sequence`` (0005h),
    which otherwise keep the highest id ever given, even of rows a reset removed."""
    if conn.dialect.name == "sqlite":
        for table in _SEQUENCED:
            if table.kwargs.get("sqlite_autoincrement"):
                key = _key_of(table).name
                conn.execute(
                    text(
                        f"UPDATE sqlite_sequence SET seq = (SELECT COALESCE(MAX({key}), 0) "
                        f"FROM {table.name}) WHERE name = '{table.name}'"
                    )
                )
        return
    names = _SEQUENCE_NAMES.first(conn, {}) or {}
    wanted = _NEXT_IDS.first(conn, {}) or {}
    # Sequence names come from PostgreSQL itself, quoted as needed.
    upcoming = conn.execute(
        text(
            "SELECT "
            + ", ".join(
                f"(SELECT CASE WHEN is_called THEN last_value + 1 ELSE last_value END "
                f"FROM {names[table.name]})"
                for table in _SEQUENCED
            )
        )
    ).one()
    for table, current in zip(_SEQUENCED, upcoming, strict=True):
        start = int(wanted.get(table.name, 1))
        if current != start:
            conn.execute(text(f"ALTER SEQUENCE {names[table.name]} RESTART WITH {start}"))
