"""``$UNIQODO_MOCK_DB_PRE_PING`` decides whether pooled PostgreSQL connections are pinged before
use: with it, a pooled connection the server dropped is replaced without the caller noticing;
without it (the default, one round trip less per transaction), the caller meets the error once
and the pool discards the connection."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from uniqodo_mock.store.engine import create_db_engine

pytestmark = pytest.mark.postgres


def _drop_pooled_connection(url: str, engine_pid: int) -> None:
    """The server ends the backend of the pooled connection (as a restart or a proxy would)."""
    admin = create_db_engine(url)
    try:
        with admin.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": engine_pid})
            conn.commit()
    finally:
        admin.dispose()


@pytest.mark.parametrize(
    ("value", "pinged"), [(None, False), ("1", True), ("on", True), ("0", False), ("off", False)]
)
def test_pre_ping_setting(
    monkeypatch: pytest.MonkeyPatch, pg_session_url: str, value: str | None, pinged: bool
) -> None:
    if value is None:
        monkeypatch.delenv("UNIQODO_MOCK_DB_PRE_PING", raising=False)
    else:
        monkeypatch.setenv("UNIQODO_MOCK_DB_PRE_PING", value)
    engine = create_db_engine(pg_session_url)
    try:
        with engine.connect() as conn:  # one connection, back in the pool after the block
            pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
        _drop_pooled_connection(pg_session_url, pid)
        if pinged:
            with engine.connect() as conn:
                assert conn.execute(text("SELECT pg_backend_pid()")).scalar_one() != pid
        else:
            with pytest.raises(DBAPIError) as caught, engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            assert caught.value.connection_invalidated
            with engine.connect() as conn:  # the pool replaced it
                assert conn.execute(text("SELECT 1")).scalar_one() == 1
    finally:
        engine.dispose()
