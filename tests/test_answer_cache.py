"""The one cache (``mock/answers.py``): answers of read-only requests are reused while the
database's data version, the settings, catalogue and clock say nothing changed, errors
included; any change, by this process or by another connection, is seen by the very next
request, and a reused answer is byte for byte the computed one."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient
from tests.mockapp import CODE_API_KEY, MERCHANT_KEY, PROMOTION, mock_client

from uniqodo_mock.mock.app import create_app
from uniqodo_mock.mock.runtime import MockConfig

UID = "memo@example.com"
CODE_URL = f"/code/{MERCHANT_KEY}/4883?uid={UID}"
QUERY_URL = f"/publisher/{MERCHANT_KEY}/query/user-redemption/{PROMOTION}?userId={UID}"
DOCS_QUERY_URL = f"/publisher/{MERCHANT_KEY}/query/user-redemption/{PROMOTION}?userId=ABC123"


def _body(client: TestClient, url: str) -> dict[str, Any]:
    body: dict[str, Any] = client.get(url).json()
    return body


def _cache(client: TestClient) -> Any:
    return client.app_ref.answers  # type: ignore[attr-defined]


def _computed(client: TestClient, url: str) -> dict[str, Any]:
    """The same request computed from scratch."""
    cache = _cache(client)
    enabled, cache.enabled = cache.enabled, False
    try:
        return _body(client, url)
    finally:
        cache.enabled = enabled


def test_repeated_reads_are_kept_and_own_writes_are_seen_at_once(db_url: str) -> None:
    with mock_client(db_url) as client:
        cache = _cache(client)
        issued = _body(client, CODE_URL)  # issues: a write, nothing kept
        code = issued["data"]["code"]
        assert _body(client, CODE_URL) == issued  # a read: computed, then kept
        first = _body(client, QUERY_URL)
        assert first["result"] == "success" and first["data"]["redemption"]["total"] == 0
        remaining = first["data"]["offer"]["code_remaining"]

        hits = cache.hits
        for _ in range(3):
            assert _body(client, CODE_URL) == issued
            assert _body(client, QUERY_URL) == first
        on_sqlite = db_url.startswith("sqlite")
        # SQLite has a data version to key on; PostgreSQL answers every read afresh.
        assert (cache.hits - hits == 6) if on_sqlite else (cache.hits == 0)

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
        assert after_redeem == _computed(client, QUERY_URL)
        assert _body(client, CODE_URL) == _computed(client, CODE_URL)


def test_answers_with_errors_are_kept_and_are_the_computed_bytes(sqlite_url: str) -> None:
    """The docs' Code Query example answers its data with error 201; unknown users error 204.
    Both are kept, and reusing them gives exactly the bytes a computation gives (references
    included: they are derived from the request, not drawn)."""
    unknown = f"/publisher/{MERCHANT_KEY}/query/user-redemption/{PROMOTION}?userId=nobody"
    with mock_client(sqlite_url) as client:
        cache = _cache(client)
        for url, code in ((DOCS_QUERY_URL, 201), (unknown, 204)):
            first = client.get(url)
            assert first.json()["errors"][0]["code"] == code
            hits = cache.hits
            again = client.get(url)
            assert cache.hits == hits + 1
            assert again.content == first.content
            cache.enabled = False
            assert client.get(url).content == first.content
            cache.enabled = True


def test_a_change_by_another_connection_is_seen_by_the_next_request(sqlite_url: str) -> None:
    """As another worker or replica would write: straight to the database file."""
    with mock_client(sqlite_url) as client:
        client.get(CODE_URL)
        assert _body(client, CODE_URL)["result"] == "success"
        assert _body(client, QUERY_URL)["result"] == "success"
        hits = _cache(client).hits
        assert _body(client, CODE_URL)["result"] == "success"
        assert _cache(client).hits == hits + 1  # kept

        other = sa.create_engine(sqlite_url)
        with other.begin() as conn:
            conn.execute(sa.text("UPDATE offers SET status = 'paused' WHERE id = 4883"))
        other.dispose()

        for url in (CODE_URL, QUERY_URL):
            paused = _body(client, url)
            assert paused["result"] == "failure", url
            assert paused == _computed(client, url)


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
            assert ended == _computed(client, url)


def test_an_admin_reset_is_seen(sqlite_url: str) -> None:
    """Before the reset the customer has redeemed a code (the kept query answer shows it);
    after ``POST /__admin/reset`` they hold nothing: the query answers the unknown user."""
    query = f"/publisher/{CODE_API_KEY}/query/user-redemption/5e0a3c1d9b7f4a2e8c6d1f0b3a5e7c9d"
    query += f"?userId={UID}"
    with mock_client(sqlite_url) as client:
        code = client.get(f"/code/{CODE_API_KEY}/1234?uid={UID}").json()["data"]["code"]
        assert client.get(f"/redeem/{MERCHANT_KEY}/{code}/1?orderId=R1").json()["result"] == (
            "success"
        )
        kept = _body(client, query)
        assert kept["data"]["redemption"]["total"] == 1
        assert _body(client, query) == kept
        assert client.post("/__admin/reset").status_code == 200
        after = _body(client, query)
        assert after["data"]["redemption"]["total"] == 0
        assert after["errors"][0]["code"] == 204
        assert after == _computed(client, query)


def test_switched_off_by_configuration(sqlite_url: str) -> None:
    app = create_app(MockConfig(db_url=sqlite_url, dispatch_callbacks=False, answer_cache=False))
    with TestClient(app) as client:
        for _ in range(3):
            assert client.get(CODE_URL).json()["result"] == "success"
    cache = app.answers
    app.runtime.close()
    assert cache.hits == 0 and not cache.enabled and len(cache) == 0


# -- with the cache and without: the same answers, whatever the sequence ---------------------
KEY = "k" * 40
FIXTURES = f"""
version: 1
settings: {{seed: 11}}
merchants:
  - {{id: 1, name: M, keys: [{KEY}]}}
distributors:
  - {{id: 102, name: D, keys: [{KEY}]}}
offers:
  - id: 10
    promotion_uuid: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
    merchant: 1
    description: d
    master_code: MASTER
    redemption_per_code: 2
    start_date: "01-01-2030 00:00:00"
    end_date: "31-12-2030 23:59:59"
    discount: {{type: percent, amount: 10}}
    distributors: [102]
    code_expiry: 2d
    pool: {{generate: 4, length: 8}}
"""
USERS = ("u1", "U1 ", "u2", "u3", "nobody")
PROMO = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
MOMENTS = (
    "2029-12-31T00:00:00Z",
    "2030-06-01T00:00:00Z",
    "2030-06-02T12:00:00Z",
    "2031-01-02T00:00:00Z",
)

_step = st.one_of(
    st.tuples(st.just("code"), st.sampled_from(USERS)),
    st.tuples(st.just("query"), st.sampled_from(USERS)),
    st.tuples(st.just("history"), st.sampled_from(USERS)),
    st.tuples(st.just("enquiry"), st.sampled_from(USERS)),
    st.tuples(st.just("offers"), st.just("")),
    st.tuples(st.just("validate"), st.integers(0, 3)),
    st.tuples(st.just("redeem"), st.integers(0, 3)),
    st.tuples(st.just("clock"), st.sampled_from(MOMENTS)),
)


@contextmanager
def _pair(tmp_path: Path) -> Iterator[tuple[TestClient, TestClient]]:
    fixtures = tmp_path / "fixtures.yaml"
    fixtures.write_text(FIXTURES)
    apps = [
        create_app(
            MockConfig(
                db_url=f"sqlite:///{tmp_path / name}.db",
                fixtures=fixtures,
                dispatch_callbacks=False,
                answer_cache=cached,
            )
        )
        for name, cached in (("cached", True), ("computed", False))
    ]
    try:
        with TestClient(apps[0]) as cached_client, TestClient(apps[1]) as computed_client:
            yield cached_client, computed_client
    finally:
        for app in apps:
            app.runtime.close()


def _request(client: TestClient, step: tuple[str, Any], codes: list[str]) -> Any:
    kind, arg = step
    if kind == "code":
        response = client.get(f"/code/{KEY}/10", params={"uid": arg})
        code = response.json()["data"] and response.json()["data"].get("code")
        if code and code not in codes:
            codes.append(code)
        return response
    if kind == "query":
        return client.get(f"/publisher/{KEY}/query/user-redemption/{PROMO}", params={"userId": arg})
    if kind == "history":
        return client.get(
            f"/distributor/{KEY}/query/user-redemption/{PROMO}", params={"userId": arg}
        )
    if kind == "enquiry":
        return client.get(f"/user-code-enquiry/{KEY}/{PROMO}", params={"email": arg})
    if kind == "offers":
        return client.get(f"/offers/{KEY}/")
    if kind == "clock":
        return client.put("/__admin/clock", json={"now": arg, "frozen": True})
    code = codes[arg % len(codes)] if codes else "UNKNOWN1"
    if kind == "validate":
        return client.get(f"/validate/{KEY}/{code}/1")
    return client.get(f"/redeem/{KEY}/{code}/1", params={"orderId": "o", "orderValue": "10"})


def test_the_same_answers_with_and_without_the_cache(tmp_path: Path) -> None:
    with _pair(tmp_path) as (cached, computed):

        @settings(
            max_examples=25,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        )
        @given(st.lists(_step, min_size=1, max_size=30))
        def check(steps: list[tuple[str, Any]]) -> None:
            for client in (cached, computed):
                assert client.post("/__admin/reset").status_code == 200
                assert (
                    client.put(
                        "/__admin/clock", json={"now": MOMENTS[1], "frozen": True}
                    ).status_code
                    == 200
                )
            codes_cached: list[str] = []
            codes_computed: list[str] = []
            for step in steps:
                a = _request(cached, step, codes_cached)
                b = _request(computed, step, codes_computed)
                if step[0] == "clock":
                    continue  # answers "now" as the admin API's own JSON, not the vendor's
                assert (a.status_code, a.content) == (b.status_code, b.content), step

        check()
        assert cached.app.answers.hits > 0  # type: ignore[attr-defined]
