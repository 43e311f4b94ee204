"""Ids the admin API shows are never handed out twice (SQLite's AUTOINCREMENT, migration 0005h;
PostgreSQL's sequences): a deleted subscription's id stays its own, so the delivery log filtered
by it lists only its deliveries. Upgrading an older SQLite database keeps every row."""

from __future__ import annotations

from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy import text
from starlette.testclient import TestClient
from tests.mockapp import CODE_API_KEY, MERCHANT_KEY, mock_client

from uniqodo_mock.store.engine import create_db_engine
from uniqodo_mock.store.migrate import MIGRATIONS_DIR, downgrade, upgrade


def _subscribe(client: TestClient, name: str) -> int:
    response = client.post("/__admin/callbacks", json={"url": f"http://127.0.0.1:9/{name}"})
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def _redeem_a_new_code(client: TestClient, order: str) -> int:
    issued = client.get(f"/code/{CODE_API_KEY}/1234?uid=customer-{order}").json()
    code = issued["data"]["code"]
    redeemed = client.get(f"/redeem/{MERCHANT_KEY}/{code}/1?orderId={order}").json()
    assert redeemed["result"] == "success", redeemed
    return int(redeemed["data"]["redemption"]["id"])


def _deliveries(client: TestClient, subscription: int) -> list[dict[str, object]]:
    response = client.get(f"/__admin/deliveries?subscription={subscription}")
    assert response.status_code == 200, response.text
    return list(response.json()["deliveries"])


def test_a_deleted_subscriptions_id_is_never_given_again(db_url: str) -> None:
    with mock_client(db_url) as client:
        first = _subscribe(client, "first")
        _redeem_a_new_code(client, "1")
        assert client.delete(f"/__admin/callbacks/{first}").status_code == 204
        second = _subscribe(client, "second")
        assert second > first
        _redeem_a_new_code(client, "2")
        assert client.delete(f"/__admin/callbacks/{second}").status_code == 204
        third = _subscribe(client, "third")
        assert third > second
        _redeem_a_new_code(client, "3")
        for subscription, url in ((first, "first"), (second, "second"), (third, "third")):
            [delivery] = _deliveries(client, subscription)
            assert delivery["url"] == f"http://127.0.0.1:9/{url}"


def test_ids_continue_after_a_restart(db_url: str) -> None:
    with mock_client(db_url) as client:
        first = _subscribe(client, "first")
        assert client.delete(f"/__admin/callbacks/{first}").status_code == 204
    with mock_client(db_url) as client:
        assert _subscribe(client, "again") > first


def test_a_redemption_id_is_never_given_again_after_a_deletion(db_url: str) -> None:
    with mock_client(db_url) as client:
        newest = _redeem_a_new_code(client, "1")
        # The store's own deletion of a redemption (as a snapshot or a cleanup does).
        engine = client.app_ref.runtime.engine  # type: ignore[attr-defined]
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM redemptions WHERE id = :id"), {"id": newest})
        assert _redeem_a_new_code(client, "2") > newest


def test_upgrading_an_older_sqlite_database_keeps_every_row(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    with mock_client(url) as client:
        subscription = _subscribe(client, "kept")
        _redeem_a_new_code(client, "1")
    engine = create_db_engine(url)
    try:
        # Back to the revision before 0005h, whatever the chain before it.
        before = ScriptDirectory(str(MIGRATIONS_DIR)).get_revision("0005h").down_revision
        downgrade(engine, str(before))
        with engine.begin() as conn:
            [(outbox_id, delivery_id)] = conn.execute(
                text("SELECT id, delivery_id FROM outbox")
            ).all()
            conn.execute(
                text(
                    "INSERT INTO delivery_attempts (outbox_id, delivery_id, attempt, started_at, "
                    "status_code, outcome) VALUES (:o, :d, 1, '2026-01-01 00:00:00', 500, "
                    "'retry')"
                ),
                {"o": outbox_id, "d": delivery_id},
            )
            assert "AUTOINCREMENT" not in _table_sql(conn, "subscriptions")
        upgrade(engine)
        with engine.connect() as conn:
            for table in ("subscriptions", "redemptions", "outbox", "delivery_attempts"):
                assert "AUTOINCREMENT" in _table_sql(conn, table), table
            assert conn.execute(text("SELECT count(*) FROM delivery_attempts")).scalar() == 1
            assert conn.execute(text("SELECT count(*) FROM outbox")).scalar() == 1
    finally:
        engine.dispose()
    with mock_client(url) as client:
        [delivery] = _deliveries(client, subscription)
        assert [a["status_code"] for a in delivery["attempts"]] == [500]  # type: ignore[union-attr]
        assert client.delete(f"/__admin/callbacks/{subscription}").status_code == 204
        assert _subscribe(client, "new") > subscription


def _table_sql(conn: object, table: str) -> str:
    row = conn.execute(  # type: ignore[attr-defined]
        text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = :name"),
        {"name": table},
    ).scalar_one()
    return str(row)
