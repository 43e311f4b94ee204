"""Migration 0005t: offers made before offer tags get none (``[]``), codes no fixed reference
(derived); the migration can be undone without losing them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, inspect, select, text

from uniqodo_mock.store.engine import create_db_engine
from uniqodo_mock.store.migrate import downgrade, upgrade
from uniqodo_mock.store.schema import codes, offers


def _columns(engine: Engine, table: str) -> list[str]:
    return [column["name"] for column in inspect(engine).get_columns(table)]


def test_older_offers_and_codes_survive_the_migration_and_its_downgrade(
    fresh_db_url: str,
) -> None:
    engine = create_db_engine(fresh_db_url)
    try:
        upgrade(engine, "0004c")
        assert "tags" not in _columns(engine, "offers")
        at = datetime(2026, 1, 1, 12, 0)
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO merchants (id, name, shares_data, config) "
                    "VALUES (1, 'M', true, '{}')"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO offers (id, promotion_uuid, merchant_id, offer_description, "
                    "description, status, master_code, code_type, redemption_per_code, start_at, "
                    "end_at, url, discount_type, discount_amount, codes_per_customer, config) "
                    "VALUES (7, '00000000000000000000000000000007', 1, 'old', '', 'active', "
                    "'OLD', 'unique', 1, :at, :at, '', 'percent', 10, 1, '{}')"
                ),
                {"at": at},
            )
            conn.execute(
                text(
                    "INSERT INTO codes (offer_id, code, code_norm, origin, uses) "
                    "VALUES (7, 'OLD01', 'OLD01', 'fixture', 0)"
                )
            )
        upgrade(engine)
        with engine.connect() as conn:
            [offer] = conn.execute(select(offers.c.id, offers.c.tags)).mappings().all()
            [code] = conn.execute(select(codes.c.code, codes.c.reference)).mappings().all()
        assert offer["tags"] == [] and code["reference"] is None

        downgrade(engine, "0004c")
        assert "tags" not in _columns(engine, "offers")
        assert "reference" not in _columns(engine, "codes")
        with engine.connect() as conn:
            assert conn.execute(text("SELECT code FROM codes")).scalars().all() == ["OLD01"]
            assert conn.execute(text("SELECT id FROM offers")).scalars().all() == [7]
    finally:
        engine.dispose()
