"""Repeated reads (``GET /code`` for a known customer, the publisher query) reuse their answer
while the database's data version, the catalogue, settings and clock say nothing changed; any
change, by this process or by another connection, is seen by the very next request."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from starlette.testclient import TestClient
from tests.mockapp import CODE_API_KEY, MERCHANT_KEY, PROMOTION, mock_client

UID = "memo@example.com"
CODE_URL = f"/code/{MERCHANT_KEY}/4883?uid={UID}"
QUERY_URL = f"/publisher/{MERCHANT_KEY}/query/user-redemption/{PROMOTION}?userId={UID}"


def _body(client: TestClient, url: str) -> dict[str, Any]:
    body = client.get(url).json()
    for error in body["errors"]:
        error.pop("reference")  # new per answer
    return body


def _memo(client: TestClient) -> Any:
    return client.app_ref.runtime.service.read_memo  # type: ignore[attr-defined]


def _without_memo(client: TestClient, url: str) -> dict[str, Any]:
    """The same request computed from scratch."""
    memo = _memo(client)
    memo.enabled = False
    try:
        return _body(client, url)
    finally:
        memo.enabled = True


def test_repeated_reads_are_kept_and_own_writes_are_seen_at_once(db_url: str) -> None:
    with mock_client(db_url) as client:
        memo = _memo(client)
        issued = _body(client, CODE_URL)  # issues: a write, nothing kept
        code = issued["data"]["code"]
        assert _body(client, CODE_URL) == issued  # a read: computed, then kept
        first = _body(client, QUERY_URL)
        assert first["result"] == "success" and first["data"]["redemption"]["total"] == 0
        remaining = first["data"]["offer"]["code_remaining"]

        hits = memo.hits
        for _ in range(3):
            assert _body(client, CODE_URL) == issued
            assert _body(client, QUERY_URL) == first
        on_sqlite = db_url.startswith("sqlite")
        # SQLite has a data version to key on; PostgreSQL answers every read afresh.
        assert (memo.hits - hits == 6) if on_sqlite else (memo.hits == 0)

        # Another customer takes a code: the pool count in the kept answer is now wrong.
        client.get(f"/code/{MERCHANT_KEY}/4883?uid=someone-else@example.com")
        after_issue = _body(client, QUERY_URL)
        assert after_issue["data"]["offer"]["code_remaining"] == remaining - 1

        val_key = client.get(f"/validate/{MERCHANT_KEY}/{code}/1").json()["data"]["val_key"]
        redeemed = client.get(
            f"/redeem/{MERCHANT_KEY}/{code}/1?orderId=M1&orderValue=20&valKey={val_key}"
        ).json()
        assert redeemed["result"] == "success"
        after_redeem = _body(client, QUERY_URL)
        assert after_redeem["data"]["redemption"]["total"] == 1
        assert after_redeem == _without_memo(client, QUERY_URL)
        assert _body(client, CODE_URL) == _without_memo(client, CODE_URL)


def test_a_change_by_another_connection_is_seen_by_the_next_request(sqlite_url: str) -> None:
    """As another worker or replica would write: straight to the database file."""
    with mock_client(sqlite_url) as client:
        client.get(CODE_URL)
        assert _body(client, CODE_URL)["result"] == "success"
        assert _body(client, QUERY_URL)["result"] == "success"
        hits = _memo(client).hits
        assert _body(client, CODE_URL)["result"] == "success"
        assert _memo(client).hits == hits + 1  # kept

        other = sa.create_engine(sqlite_url)
        with other.begin() as conn:
            conn.execute(sa.text("UPDATE offers SET status = 'paused' WHERE id = 4883"))
        other.dispose()

        for url in (CODE_URL, QUERY_URL):
            paused = _body(client, url)
            assert paused["result"] == "failure", url
            assert paused == _without_memo(client, url)


def test_time_alone_ends_a_kept_answer(sqlite_url: str) -> None:
    """The kept answer is valid until the offer ends on the mock's clock; moving the clock
    past the end answers with the ended promotion at once."""
    with mock_client(sqlite_url) as client:
        client.get(CODE_URL)
        assert _body(client, CODE_URL)["result"] == "success"
        assert _body(client, QUERY_URL)["result"] == "success"
        moved = client.put("/__admin/clock", json={"now": "2100-06-01T00:00:00Z", "frozen": True})
        assert moved.status_code == 200
        for url in (CODE_URL, QUERY_URL):
            ended = _body(client, url)
            assert ended["result"] == "failure", url
            assert ended == _without_memo(client, url)


def test_an_admin_reset_is_seen(sqlite_url: str) -> None:
    """After ``POST /__admin/reset`` the customer holds no code: the kept answer is not reused,
    a code is issued again, as without the memo."""
    url = f"/code/{CODE_API_KEY}/1234?uid={UID}"
    with mock_client(sqlite_url) as client:
        client.get(url)
        kept = _body(client, url)
        assert _body(client, url) == kept
        assert client.post("/__admin/reset").status_code == 200
        issued_again = _body(client, url)
        assert issued_again["result"] == "success"
        # The pool is issued in order: after the reset the customer gets the same first code.
        assert issued_again["data"]["code"] == kept["data"]["code"]
        assert _body(client, url) == _without_memo(client, url)


def test_switched_off_by_configuration(sqlite_url: str) -> None:
    from uniqodo_mock.mock.app import create_app
    from uniqodo_mock.mock.runtime import MockConfig

    app = create_app(MockConfig(db_url=sqlite_url, dispatch_callbacks=False, read_memo=False))
    with TestClient(app) as client:
        for _ in range(3):
            assert client.get(CODE_URL).json()["result"] == "success"
    memo = app.runtime.service.read_memo
    app.runtime.engine.dispose()
    assert memo.hits == 0 and not memo.enabled
