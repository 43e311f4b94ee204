"""Migration 0005b: subscriptions made before body templates keep working (their body is null,
they send their params), and the migration can be undone without losing them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, inspect, select, text

from uniqodo_mock.core.callbacks import Subscription, payload_for
from uniqodo_mock.store.engine import create_db_engine
from uniqodo_mock.store.migrate import downgrade, upgrade
from uniqodo_mock.store.schema import subscriptions


def _columns(engine: Engine) -> list[str]:
    return [column["name"] for column in inspect(engine).get_columns("subscriptions")]


def test_an_older_subscription_gets_a_null_body_and_survives_a_downgrade(
    fresh_db_url: str,
) -> None:
    engine = create_db_engine(fresh_db_url)
    try:
        upgrade(engine, "0004c")
        assert "body" not in _columns(engine)
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO subscriptions (url, method, params, headers, origin, created_at) "
                    "VALUES (:url, 'JSON', :params, '{}', 'runtime', :at)"
                ),
                {
                    "url": "http://127.0.0.1:1/old",
                    "params": '{"code": "voucher"}',
                    "at": datetime(2026, 1, 1, 12, 0),
                },
            )
        upgrade(engine)
        assert "body" in _columns(engine)
        with engine.connect() as conn:
            [row] = conn.execute(select(subscriptions)).mappings().all()
        assert row["body"] is None
        sent = payload_for(Subscription.from_mapping(row), {"code": "AB12E3GH", "id": 1})
        assert sent == {"voucher": "AB12E3GH"}

        downgrade(engine, "0004c")
        assert "body" not in _columns(engine)
        with engine.connect() as conn:
            urls = conn.execute(text("SELECT url FROM subscriptions")).scalars().all()
        assert urls == ["http://127.0.0.1:1/old"]
    finally:
        engine.dispose()
