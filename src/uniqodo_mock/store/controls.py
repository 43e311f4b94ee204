"""The test controls' tables: fault rules (with their counts, ttl and rate-limit windows) and
the request journal, shared by every replica and worker on one database.

The decisions are ``control/faults.py``'s; here are the statements they rest on, each one
atomic on its own: a use is counted by ``UPDATE ... SET applied = applied + 1 WHERE applied <
count AND not expired RETURNING applied``, a rate-limit window by one ``UPDATE`` that starts a
new window or counts in the current one. Every write of the rule set moves
``control_state.generation`` in its own transaction, so a replica re-reads the rules only when
they changed; on SQLite it even knows that without a query, from the data version
(``store/changes.py``): a request that no rule concerns costs nothing more there.

The journal is written after every request. On SQLite a commit to the mock's database changes
its data version, which keeps the answer cache (``mock/answers.py``) and the fault rules' copy
exact: journal commits there would void both on every request. So on a SQLite file the journal
has a database file of its own next to it (``state.db`` → ``state.db.requests.db``), which
every process on that file derives and shares alike; elsewhere its tables are the mock's own.

The rule set's generation changes in the mock's database, whose data version every code
issued or redeemed moves too: on a SQLite file, the replicas would re-read the generation after
every such write. So every commit that moved it (marked ``RULES_CHANGED``) is followed by a rewrite of a one-row
table in the journal's file (``RulesSignal``), and the replicas watch that file's data version instead: between rule
changes it moves only with journal batches, a few times a second at most.

These tables are controls, not state: they are not in ``schema.metadata``, so snapshots leave
them out (fixture loads clear and re-seed the fault rules themselves, ``mock/runtime.py``).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    and_,
    bindparam,
    case,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.schema import CreateTable

from uniqodo_mock.store.changes import DataVersion
from uniqodo_mock.store.engine import create_db_engine
from uniqodo_mock.store.repository import Repository, mark_changed
from uniqodo_mock.store.statements import Statement

__all__ = [
    "DatabaseFaultStore",
    "DatabaseJournalStore",
    "RuleRow",
    "RulesSignal",
    "control_metadata",
    "control_state",
    "fault_rules",
    "faults_seeded",
    "journal_entries",
    "journal_repository",
    "journal_state",
    "mark_faults_seeded",
]

control_metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "pk": "pk_%(table_name)s",
    }
)

# SQLite: an INTEGER PRIMARY KEY with AUTOINCREMENT never hands out an id again after a
# deletion (a rule id or a journal entry id names one thing only).
_Id = BigInteger().with_variant(Integer(), "sqlite")

# One row (id 1): the rule set's generation, and whether the fixtures' fault rules were
# seeded into ``fault_rules`` for the state in the database.
control_state = Table(
    "control_state",
    control_metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("generation", BigInteger, nullable=False),
    Column("faults_seeded", Boolean, nullable=False),
)

fault_rules = Table(
    "fault_rules",
    control_metadata,
    Column("id", _Id, primary_key=True, autoincrement=True),
    Column("target", String(16), nullable=False),
    Column("spec", Text, nullable=False),
    # Wall-clock seconds (time.time()): the replicas share the host's clock.
    Column("created", Float, nullable=False),
    Column("expires_at", Float, nullable=True),
    Column("count_limit", BigInteger, nullable=True),
    Column("applied", BigInteger, nullable=False),
    Column("draws", BigInteger, nullable=False),
    Column("window_start", Float, nullable=False),
    Column("window_hits", BigInteger, nullable=False),
    sqlite_autoincrement=True,
)

journal_entries = Table(
    "journal_entries",
    control_metadata,
    Column("id", _Id, primary_key=True, autoincrement=True),
    # Microseconds since the epoch (UTC): exact, and comparable in SQL for since/until.
    Column("at_us", BigInteger, nullable=False),
    Column("mock_now_us", BigInteger, nullable=False),
    Column("method", String(16), nullable=False),
    Column("path", Text, nullable=False),
    Column("operation", String(64), nullable=True),
    Column("params", Text, nullable=False),
    Column("status", Integer, nullable=False),
    Column("api_key", Text, nullable=True),
    Column("code", Text, nullable=True),
    Column("code_norm", Text, nullable=True),
    Column("errors", Text, nullable=False),
    Column("fault", Text, nullable=True),
    Column("duration_ms", Float, nullable=True),
    sqlite_autoincrement=True,
)

# What a transaction that moved the rule set's generation marks (``mark_changed``).
RULES_CHANGED = "fault_rules"

# Only in the journal's own file beside a SQLite database (``RulesSignal``), not in the
# mock's: one row, rewritten after every commit that changed the rule set.
_signal_metadata = MetaData()
rules_signal = Table(
    "rules_signal",
    _signal_metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("token", BigInteger, nullable=False),
)

# A rule as stored: id, target, spec, created, applied (``control/faults.py`` builds the rule).
RuleRow = tuple[int, str, dict[str, Any], float, int]

# One row (id 1): how many entries were trimmed as the journal outgrew its bound.
journal_state = Table(
    "journal_state",
    control_metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("dropped", BigInteger, nullable=False),
)

logger = logging.getLogger("uniqodo_mock")

_STATE = control_state.c.id == 1
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICRO = timedelta(microseconds=1)


def _upsert_state(conn: Connection, first: dict[str, Any], then: dict[str, Any]) -> None:
    """Change the state row by ``then``; create it with ``first`` if it is missing (a
    hand-emptied database)."""
    row = {"generation": secrets.randbits(63), "faults_seeded": False}
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(control_state).values(id=1, **{**row, **first})
    conn.execute(statement.on_conflict_do_update(index_elements=["id"], set_=then))


def _bump(conn: Connection) -> None:
    # A random generation, drawn anew at every change: never one a replica saw before, even
    # after the row was lost.
    generation = secrets.randbits(63)
    _upsert_state(conn, {"generation": generation}, {"generation": generation})
    mark_changed(conn, RULES_CHANGED)


# Read before most vendor requests after a write (SQLite) or always (PostgreSQL): prepared once.
_GENERATION = Statement(select(control_state.c.generation).where(_STATE))


def _generation(conn: Connection) -> int:
    row = _GENERATION.first(conn, {})
    return 0 if row is None or row["generation"] is None else int(row["generation"])


def faults_seeded(conn: Connection) -> bool:
    value = conn.execute(select(control_state.c.faults_seeded).where(_STATE)).scalar_one_or_none()
    return bool(value)


def mark_faults_seeded(conn: Connection) -> None:
    _upsert_state(conn, {"faults_seeded": True}, {"faults_seeded": True})


def _alive(rule_id: int, now: float) -> Any:
    return and_(
        fault_rules.c.id == rule_id,
        or_(fault_rules.c.count_limit.is_(None), fault_rules.c.applied < fault_rules.c.count_limit),
        or_(fault_rules.c.expires_at.is_(None), fault_rules.c.expires_at > now),
    )


def _rule_values(target: str, spec: dict[str, Any], created: float) -> dict[str, Any]:
    ttl, count = spec.get("ttl_seconds"), spec.get("count")
    return {
        "target": target,
        "spec": orjson.dumps(spec).decode(),
        "created": created,
        "expires_at": None if ttl is None else created + float(ttl),
        "count_limit": None if count is None else int(count),
        "applied": 0,
        "draws": 0,
        "window_start": 0.0,
        "window_hits": 0,
    }


class RulesSignal:
    """A change of the rule set, announced through the journal's file beside a SQLite
        database: ``announce()`` rewrites its one row (after the commit that changed the rules),
        so the file's data version (``version``) moves. The store announces every commit that
    marked the rules changed (``RULES_CHANGED``). That version stands while neither the
        rules nor the journal changed, whatever the mock's own database went through."""

    def __init__(self, journal_repo: Repository) -> None:
        self.engine = journal_repo.engine
        with self.engine.begin() as conn:
            conn.execute(CreateTable(rules_signal, if_not_exists=True))
        self.version = DataVersion(self.engine)

    def announce(self) -> None:
        # The engine that waits for the write lock (a journal batch holds it briefly): the
        # rule change has been committed already, this must not be undone by a retry.
        statement = sqlite.insert(rules_signal).values(id=1, token=secrets.randbits(63))
        statement = statement.on_conflict_do_update(
            index_elements=["id"], set_={"token": statement.excluded.token}
        )
        try:
            with self.engine.begin() as conn:
                conn.execute(statement)
        except Exception:  # the next journal batch moves the version as well
            logger.warning("could not announce a change of the fault rules", exc_info=True)

    def close(self) -> None:
        self.version.close()


class DatabaseFaultStore:
    """The fault rules' store over the database (``control.faults.FaultStore``; blocking:
    run it off the event loop)."""

    def __init__(
        self,
        repo: Repository,
        version: DataVersion | None = None,
        *,
        signal: RulesSignal | None = None,
    ) -> None:
        """``version``: the mock's database's data version (SQLite), which vouches for the
        generation read last while it stands; with a ``signal``, its file's version does
        instead (and rule changes are announced through it). Neither (PostgreSQL): every
        ``generation()`` asks the database."""
        self.repo = repo
        self.signal = signal
        if signal is not None:
            version = signal.version
            # Every commit that moved the generation, whichever code wrote it (this store,
            # a fixture load or reset), is announced once it has committed.
            repo.commit_listeners.append(
                lambda changed: signal.announce() if RULES_CHANGED in changed else None
            )
        self._version = version if version is not None and version.available else None
        self._seen: tuple[int, int] | None = None  # (data version, generation)

    def known_generation(self) -> int | None:
        seen, version = self._seen, self._version
        if seen is None or version is None:
            return None
        return seen[1] if version.read() == seen[0] else None

    def _note(self, data_version: int | None, generation: int) -> None:
        self._seen = None if data_version is None else (data_version, generation)

    def seeded(self) -> bool:
        """Whether the fixtures' rules were seeded for the state in the database."""
        with self.repo.read() as conn:
            return faults_seeded(conn)

    def replace(self, rules: Sequence[tuple[str, dict[str, Any], float]]) -> None:
        with self.repo.write() as conn:
            self.replace_in(conn, rules)

    def generation(self) -> int:
        # The data version is read before the generation: a change committed in between
        # moves the data version again, so the pair never vouches for a stale generation.
        data_version = self._version.read() if self._version is not None else None
        with self.repo.read() as conn:
            generation = _generation(conn)
        self._note(data_version, generation)
        return generation

    def load(self) -> tuple[int, list[RuleRow]]:
        data_version = self._version.read() if self._version is not None else None
        with self.repo.read() as conn:
            generation = _generation(conn)
            rows = conn.execute(select(fault_rules).order_by(fault_rules.c.id)).mappings().all()
        self._note(data_version, generation)
        rules: list[RuleRow] = [
            (
                int(row["id"]),
                row["target"],
                orjson.loads(row["spec"]),
                float(row["created"]),
                int(row["applied"]),
            )
            for row in rows
        ]
        return generation, rules

    def add(self, target: str, spec: dict[str, Any], created: float) -> int:
        with self.repo.write() as conn:
            rule_id = self.add_in(conn, target, spec, created)
            _bump(conn)
        return rule_id

    @staticmethod
    def add_in(conn: Connection, target: str, spec: dict[str, Any], created: float) -> int:
        """Store one rule in ``conn``'s transaction (the caller moves the generation)."""
        rule_id = conn.execute(
            insert(fault_rules)
            .values(_rule_values(target, spec, created))
            .returning(fault_rules.c.id)
        ).scalar_one()
        return int(rule_id)

    @staticmethod
    def replace_in(conn: Connection, rules: Sequence[tuple[str, dict[str, Any], float]]) -> None:
        """Replace every rule by ``rules`` (target, spec, created) in ``conn``'s transaction:
        the fixtures' rules at a load, so that replicas never see the rule set half seeded."""
        conn.execute(delete(fault_rules))
        if rules:
            # One statement for all of them (every reset runs this), ids in the rules' order.
            conn.execute(
                insert(fault_rules),
                [_rule_values(target, spec, created) for target, spec, created in rules],
            )
        _bump(conn)
        mark_faults_seeded(conn)

    def delete(self, rule_id: int) -> bool:
        with self.repo.write() as conn:
            found = conn.execute(delete(fault_rules).where(fault_rules.c.id == rule_id)).rowcount
            if found:
                _bump(conn)
        return bool(found)

    def clear(self) -> int:
        with self.repo.write() as conn:
            count = self.clear_in(conn)
        return count

    @staticmethod
    def clear_in(conn: Connection) -> int:
        count = int(conn.execute(delete(fault_rules)).rowcount or 0)
        _bump(conn)
        return count

    def prune(self, now: float) -> int:
        spent = or_(
            and_(
                fault_rules.c.count_limit.is_not(None),
                fault_rules.c.applied >= fault_rules.c.count_limit,
            ),
            and_(fault_rules.c.expires_at.is_not(None), fault_rules.c.expires_at <= now),
        )
        with self.repo.read() as conn:
            # Most lists find nothing to prune: no write (and no SQLite write lock) for them.
            if (
                conn.execute(
                    select(func.count()).select_from(fault_rules).where(spent)
                ).scalar_one()
                == 0
            ):
                return 0
        with self.repo.write() as conn:
            count = int(conn.execute(delete(fault_rules).where(spent)).rowcount or 0)
            if count:
                _bump(conn)
        return count

    def claim(self, rule_id: int, now: float) -> int | None:
        with self.repo.write() as conn:
            applied = conn.execute(
                update(fault_rules)
                .where(_alive(rule_id, now))
                .values(applied=fault_rules.c.applied + 1)
                .returning(fault_rules.c.applied)
            ).scalar_one_or_none()
        return None if applied is None else int(applied)

    def window_hit(self, rule_id: int, now: float, per_seconds: float) -> tuple[float, int] | None:
        over = now - fault_rules.c.window_start >= per_seconds
        with self.repo.write() as conn:
            row = conn.execute(
                update(fault_rules)
                .where(fault_rules.c.id == rule_id)
                .values(
                    # Both right-hand sides read the row as it was before this statement.
                    window_start=case((over, now), else_=fault_rules.c.window_start),
                    window_hits=case((over, 1), else_=fault_rules.c.window_hits + 1),
                )
                .returning(fault_rules.c.window_start, fault_rules.c.window_hits)
            ).first()
        return None if row is None else (float(row[0]), int(row[1]))

    def draw(self, rule_id: int) -> int | None:
        with self.repo.write() as conn:
            draws = conn.execute(
                update(fault_rules)
                .where(fault_rules.c.id == rule_id)
                .values(draws=fault_rules.c.draws + 1)
                .returning(fault_rules.c.draws)
            ).scalar_one_or_none()
        return None if draws is None else int(draws)


def _micros(moment: datetime) -> int:
    return (moment - _EPOCH) // _MICRO


def _moment(micros: int) -> datetime:
    return _EPOCH + timedelta(microseconds=int(micros))


def _json_text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, bytearray):
        return bytes(value).decode()
    return orjson.dumps(value).decode()


def journal_repository(repo: Repository, *, busy_timeout_ms: int = 10_000) -> Repository:
    """Where the journal is kept for ``repo``'s database: a file of its own beside a SQLite
    file (created on first use, by every process alike), else ``repo`` itself. The file's
    repository has connections that never wait, as the mock's own: its writes run on the
    event loop unless they would wait for another process (``mock/dbcalls.py``), and its WAL is
    checkpointed from a thread (``Repository.checkpoint``)."""
    engine = repo.engine
    database = engine.url.database
    if (
        engine.dialect.name != "sqlite"
        or not database
        or database == ":memory:"
        or database.startswith("file:")
        or "mode=memory" in database
    ):
        return repo
    url = engine.url.set(database=f"{database}.requests.db").render_as_string(hide_password=False)
    journal_engine = create_db_engine(url, busy_timeout_ms=busy_timeout_ms)
    with journal_engine.begin() as conn:
        # IF NOT EXISTS: processes starting together on one file all create them safely.
        for table in (journal_entries, journal_state):
            conn.execute(CreateTable(table, if_not_exists=True))
    no_wait = create_db_engine(url, busy_timeout_ms=0, checkpoints=False)
    return Repository(journal_engine, no_wait_engine=no_wait)


# Written after every batch of vendor requests: prepared once. The newest id after the insert
# is the batch's last (this transaction holds the write lock on SQLite; on PostgreSQL ids of
# concurrent batches may interleave, and trimming by the greatest is as right).
_ENTRY_COLUMNS = [c.key for c in journal_entries.columns if c.key != "id"]
_INSERT_ENTRY = Statement(insert(journal_entries), column_keys=_ENTRY_COLUMNS)
_NEWEST_ENTRY = Statement(select(func.max(journal_entries.c.id).label("newest")))
_TRIM_ENTRIES = Statement(
    delete(journal_entries).where(journal_entries.c.id <= bindparam("oldest_dropped"))
)


class DatabaseJournalStore:
    """The journal's store over the database (``control.journal.JournalStore``; blocking:
    run it off the event loop). Bounded: each write trims the oldest entries beyond
    ``max_entries``. Records are tuples as ``control.journal.JournalEntry.as_record`` gives
    them."""

    def __init__(self, repo: Repository, *, owned: bool = False) -> None:
        """``owned``: ``repo`` is the journal's own (a SQLite file beside the mock's), closed
        with the store."""
        self.repo = repo
        self.owned = owned

    def close(self) -> None:
        if self.owned:
            self.repo.close()
            self.repo.engine.dispose()

    def append(self, records: Sequence[tuple[Any, ...]], max_entries: int) -> None:
        if not records:
            return
        rows = []
        for record in records:
            code = record[9]
            rows.append(
                {
                    "at_us": _micros(record[1]),
                    "mock_now_us": _micros(record[2]),
                    "method": record[3],
                    "path": record[4],
                    "operation": record[5],
                    "params": _json_text(record[6]),
                    "status": record[7],
                    "api_key": record[8],
                    "code": code,
                    "code_norm": code.strip().upper() if code else None,
                    "errors": _json_text(record[10]),
                    "fault": None if record[11] is None else _json_text(record[11]),
                    "duration_ms": record[12],
                }
            )
        with self.repo.write() as conn:
            if conn.dialect.name == "postgresql":
                # Seen by every session at commit all the same; only a crash of the server
                # itself could lose the newest entries, which a test aid can afford, and the
                # commit does not wait for the disk.
                conn.exec_driver_sql("SET LOCAL synchronous_commit = off")
            _INSERT_ENTRY.run_many(conn, rows)
            found = _NEWEST_ENTRY.first(conn, {})
            assert found is not None and found["newest"] is not None
            newest = int(found["newest"])
            # Ids grow with every entry: all but the newest max_entries are below this one.
            trimmed = _TRIM_ENTRIES.run(conn, {"oldest_dropped": newest - max_entries})
            if trimmed:
                dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
                conn.execute(
                    dialect.insert(journal_state)
                    .values(id=1, dropped=trimmed)
                    .on_conflict_do_update(
                        index_elements=["id"], set_={"dropped": journal_state.c.dropped + trimmed}
                    )
                )

    def query(
        self,
        *,
        operation: str | None = None,
        code: str | None = None,
        key: str | None = None,
        status: int | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 100,
        keep: Callable[[tuple[Any, ...]], bool] | None = None,
    ) -> list[tuple[Any, ...]]:
        """Newest first: the records SQL can select by the plain filters, then ``keep`` (the
        filters inside the JSON), at most ``limit``."""
        c = journal_entries.c
        statement = select(journal_entries).order_by(c.id.desc())
        if operation:
            statement = statement.where(c.operation == operation)
        if code:
            statement = statement.where(c.code_norm == code.strip().upper())
        if key:
            statement = statement.where(c.api_key == key)
        if status is not None:
            statement = statement.where(c.status == status)
        if since:
            statement = statement.where(c.at_us >= _micros(since))
        if until:
            statement = statement.where(c.at_us <= _micros(until))
        if keep is None:
            statement = statement.limit(limit)
        out: list[tuple[Any, ...]] = []
        with self.repo.read(streaming=True) as conn:
            # Streamed: a query that finds its ``limit`` among the newest rows reads no more.
            for row in conn.execution_options(yield_per=256).execute(statement):
                record = (
                    int(row.id),
                    _moment(row.at_us),
                    _moment(row.mock_now_us),
                    row.method,
                    row.path,
                    row.operation,
                    row.params,
                    int(row.status),
                    row.api_key,
                    row.code,
                    row.errors,
                    row.fault,
                    row.duration_ms,
                )
                if keep is not None and not keep(record):
                    continue
                out.append(record)
                if len(out) >= limit:
                    break
        return out

    def held(self) -> int:
        with self.repo.read() as conn:
            return int(conn.execute(select(func.count()).select_from(journal_entries)).scalar_one())

    def dropped(self) -> int:
        with self.repo.read() as conn:
            value = conn.execute(
                select(journal_state.c.dropped).where(journal_state.c.id == 1)
            ).scalar_one_or_none()
        return int(value or 0)

    def clear(self) -> int:
        with self.repo.write() as conn:
            return int(conn.execute(delete(journal_entries)).rowcount or 0)
