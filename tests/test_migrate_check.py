"""Start-up skips Alembic when the database is already at the scripts' head; anything else is
still migrated by Alembic."""

from __future__ import annotations

from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from uniqodo_mock.store.engine import create_db_engine
from uniqodo_mock.store.migrate import MIGRATIONS_DIR, _at_head, script_heads, upgrade


def test_heads_read_from_the_scripts_match_alembic() -> None:
    assert script_heads() == set(ScriptDirectory(str(MIGRATIONS_DIR)).get_heads())


def test_a_new_database_is_not_at_head_until_upgraded(tmp_path: Path) -> None:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'new.db'}")
    try:
        assert not _at_head(engine)  # no alembic_version table yet
        upgrade(engine)
        assert _at_head(engine)
    finally:
        engine.dispose()


def test_upgrade_from_an_older_revision(db_url: str) -> None:
    # The PostgreSQL database of the session may be migrated already: upgrade first.
    engine = create_db_engine(db_url)
    try:
        upgrade(engine)
        assert _at_head(engine)
        assert "pool_unissued" in _offer_columns(engine)  # the newest migration's column
        # Back to the first revision: the quick check must see it and Alembic must upgrade.
        upgrade_to_first(engine)
        assert not _at_head(engine)
        upgrade(engine)
        assert _at_head(engine)
        assert "pool_unissued" in _offer_columns(engine)
    finally:
        engine.dispose()


def _offer_columns(engine) -> list[str]:  # type: ignore[no-untyped-def]
    return [column["name"] for column in inspect(engine).get_columns("offers")]


def upgrade_to_first(engine) -> None:  # type: ignore[no-untyped-def]
    from uniqodo_mock.store.migrate import downgrade

    downgrade(engine, "0001")
    with engine.connect() as connection:
        assert (
            connection.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0001"
        )
