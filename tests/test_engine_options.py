"""``$UNIQODO_MOCK_DB_PRE_PING`` decides whether pooled PostgreSQL connections are pinged."""

from __future__ import annotations

import pytest

from uniqodo_mock.store.engine import create_db_engine

URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@pytest.mark.parametrize(
    ("value", "expected"), [(None, False), ("1", True), ("on", True), ("0", False), ("off", False)]
)
def test_pre_ping_setting(
    monkeypatch: pytest.MonkeyPatch, value: str | None, expected: bool
) -> None:
    if value is None:
        monkeypatch.delenv("UNIQODO_MOCK_DB_PRE_PING", raising=False)
    else:
        monkeypatch.setenv("UNIQODO_MOCK_DB_PRE_PING", value)
    engine = create_db_engine(URL)  # no connection is made until used
    try:
        assert engine.pool._pre_ping is expected
    finally:
        engine.dispose()
