"""Per-thread read connections for SQLite files: fresh data, one connection per thread,
recovery from a broken connection."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
from sqlalchemy import text

from uniqodo_mock.store.engine import create_db_engine
from uniqodo_mock.store.readconn import ThreadReadConnections, supports_thread_reads


@pytest.fixture()
def setup(tmp_path: Path):
    engine = create_db_engine(f"sqlite:///{tmp_path}/r.db")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (v INTEGER)")
    reads = ThreadReadConnections(engine)
    yield engine, reads
    reads.close()
    engine.dispose()


def _count(reads: ThreadReadConnections) -> int:
    with reads.read() as conn:
        return conn.execute(text("SELECT count(*) FROM t")).scalar_one()


def test_only_sqlite_files_use_thread_reads(tmp_path: Path) -> None:
    assert supports_thread_reads(create_db_engine(f"sqlite:///{tmp_path}/x.db"))
    assert not supports_thread_reads(create_db_engine("sqlite://"))


def test_each_read_sees_writes_committed_before_it(setup) -> None:
    engine, reads = setup
    assert _count(reads) == 0
    with engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO t VALUES (1)")
    assert _count(reads) == 1


def test_threads_get_their_own_connection(setup) -> None:
    _engine, reads = setup
    seen: dict[str, int] = {}

    def grab(name: str) -> None:
        with reads.read() as conn:
            seen[name] = id(conn.connection.driver_connection)

    threads = [threading.Thread(target=grab, args=(str(i),)) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    grab("main")
    first = seen["main"]
    grab("main")
    assert seen["main"] == first  # kept for the thread
    assert len(set(seen.values())) == 4


def test_a_broken_connection_fails_once_then_is_replaced(setup) -> None:
    _engine, reads = setup
    with reads.read() as conn:
        driver = conn.connection.driver_connection
    driver.close()  # broken underneath SQLAlchemy
    with pytest.raises(Exception):  # noqa: B017 - the driver's error, wrapped or not
        _count(reads)
    assert _count(reads) == 0
    with reads.read() as conn:
        assert conn.connection.driver_connection is not driver


def test_an_error_inside_a_read_rolls_back_and_the_connection_is_reused(setup) -> None:
    _engine, reads = setup
    with pytest.raises(Exception), reads.read() as conn:  # noqa: B017
        conn.execute(text("SELECT * FROM missing"))
    assert _count(reads) == 0


def test_a_nested_read_gets_its_own_transaction(setup) -> None:
    _engine, reads = setup
    with reads.read() as outer, reads.read() as inner:
        assert inner is not outer
        assert inner.execute(text("SELECT 1")).scalar_one() == 1
    assert _count(reads) == 0


def test_reads_do_not_wait_for_a_held_write_lock(setup) -> None:
    engine, reads = setup
    holder = sqlite3.connect(engine.url.database, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        assert _count(reads) == 0
    finally:
        holder.rollback()
        holder.close()
