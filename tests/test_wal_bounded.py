"""SQLite's write-ahead log stays bounded under steady writes (``Repository.checkpoint``).

SQLite starts its log over only when a writer begins while every frame is already in the
database file; with writes going on while a checkpoint runs in another thread (the mock's
event loop writing, its checkpoint thread copying), that never happens by itself, and the log
would grow for as long as the load lasts. Here one thread commits small transactions without
pause while another checkpoints the way the mock does, and the log must stay small."""

from __future__ import annotations

import threading
from pathlib import Path

from sqlalchemy import text

from uniqodo_mock.store.engine import create_db_engine
from uniqodo_mock.store.repository import Repository

RESTART_ABOVE = 100  # frames


def _frames_in_log(repo: Repository) -> int:
    connection = repo.engine.raw_connection()
    try:
        cursor = connection.cursor()
        # PASSIVE waits for no one; its second value is the number of frames in the log.
        cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")
        frames = int(cursor.fetchone()[1])
        cursor.close()
        return frames
    finally:
        connection.close()


def test_the_log_stays_bounded_while_writes_never_pause(tmp_path: Path) -> None:
    restart_above = RESTART_ABOVE
    url = f"sqlite:///{tmp_path / 'state.db'}"
    # As the mock's: commits never checkpoint by themselves; a thread checkpoints.
    repo = Repository(create_db_engine(url, checkpoints=False))
    with repo.write() as conn:
        conn.execute(text("CREATE TABLE rows (id INTEGER PRIMARY KEY, payload BLOB)"))
    wanted_commits = 300 * restart_above  # each commit appends at least one frame
    commits = 0
    done = threading.Event()

    def write_without_pause() -> None:
        nonlocal commits
        try:
            while commits < wanted_commits:
                with repo.write() as conn:
                    conn.execute(text("INSERT INTO rows (payload) VALUES (randomblob(200))"))
                commits += 1
        finally:
            done.set()

    thread = threading.Thread(target=write_without_pause)
    thread.start()
    largest = 0
    try:
        while not done.is_set():
            repo.checkpoint(restart_above=restart_above)
            largest = max(largest, _frames_in_log(repo))
    finally:
        thread.join()
        repo.engine.dispose()
    assert commits == wanted_commits
    # Started over again and again: the log holds what was written since the last restart
    # (a few checkpoint rounds), never anything near what all those commits appended.
    assert largest < 30 * restart_above
