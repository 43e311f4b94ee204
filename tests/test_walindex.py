"""The wal-index header tells commits apart without a statement, as ``PRAGMA data_version``
does with one; where there is no wal-index the pragma is used."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import sqlalchemy as sa

from uniqodo_mock.store.engine import create_db_engine
from uniqodo_mock.store.readconn import ThreadReadConnections
from uniqodo_mock.store.walindex import WalIndexHeader


def _wal_database(path: Path) -> sqlite3.Connection:
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute("CREATE TABLE t (a INTEGER)")
    return writer


def test_header_changes_with_every_commit_and_only_then(tmp_path: Path) -> None:
    path = tmp_path / "w.db"
    writer = _wal_database(path)
    reader = sqlite3.connect(path, isolation_level=None)
    reader.execute("SELECT count(*) FROM t").fetchone()  # maps the wal-index
    header = WalIndexHeader.open(str(path))
    assert header is not None
    seen = [header.token()]
    assert seen[0] is not None
    assert header.token() == seen[0]  # nothing committed: the same token
    for value in range(3):
        writer.execute("INSERT INTO t VALUES (?)", (value,))
        seen.append(header.token())
        assert reader.execute("SELECT count(*) FROM t").fetchone() == (value + 1,)
    assert len(set(seen)) == 4  # each commit gave a new token
    writer.execute("PRAGMA wal_checkpoint(RESTART)")
    writer.execute("INSERT INTO t VALUES (9)")  # a restarted WAL: new salts
    assert header.token() not in seen
    header.close()
    assert header.token() is None  # closed: no token, never a crash
    reader.close()
    writer.close()


def test_no_header_without_wal(tmp_path: Path) -> None:
    path = tmp_path / "d.db"
    plain = sqlite3.connect(path, isolation_level=None)
    plain.execute("CREATE TABLE t (a INTEGER)")
    assert WalIndexHeader.open(str(path)) is None
    plain.close()


def test_read_connections_use_the_header_and_see_other_writers(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    engine = create_db_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE t (a INTEGER)"))
    reads = ThreadReadConnections(engine)
    first = reads.data_version()  # the pragma, which also maps the header
    second = reads.data_version()
    assert first is not None and second is not None
    assert isinstance(second[1], bytes)  # from the shared memory, no statement
    assert reads.data_version() == second
    other = sa.create_engine(url)  # another replica's connection
    with other.begin() as conn:
        conn.execute(sa.text("INSERT INTO t VALUES (1)"))
    other.dispose()
    third = reads.data_version()
    assert third is not None and third != second
    assert reads.data_version() == third
    reads.close()
    engine.dispose()
