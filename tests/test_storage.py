"""The mock's service-level behaviour on both databases (SQLite and the machine's PostgreSQL):
fixtures load, state survives a restart, and issue/validate/redeem/queries answer identically."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from uniqodo_mock.core.errors import VendorError
from uniqodo_mock.mock.runtime import MockConfig, MockRuntime, build_runtime
from uniqodo_mock.store.schema import codes, redemptions
from uniqodo_mock.testing import wait_until

DIST_KEY = "64a287ae534cf1bd58f45f3e23de9d433caec669"  # merchant 1 and distributor 102
DIST_103 = "6c702c6989223420f4ddde4e19da4016b2f9f54c"
OFFER_UUID = "0821f4190897965c33eaca7954db5f23"


@pytest.fixture
def runtime(db_url: str) -> Iterator[MockRuntime]:
    rt = build_runtime(MockConfig(db_url=db_url))
    try:
        yield rt
    finally:
        rt.engine.dispose()


def _restart(rt: MockRuntime) -> MockRuntime:
    """A new engine and runtime over the same database, as after a process restart."""
    rt.engine.dispose()
    return build_runtime(MockConfig(db_url=rt.config.db_url))


def test_fixtures_load_and_offers_list(runtime: MockRuntime) -> None:
    outcome = runtime.service.list_offers(DIST_KEY)
    assert not outcome.errors
    ids = sorted(offer["offer_id"] for offer in outcome.data["offers"])
    assert ids == [1234, 4883]
    assert outcome.data["total"] == 2


def test_issue_same_uid_twice_gives_same_code_and_survives_restart(runtime: MockRuntime) -> None:
    first = runtime.service.issue_code(DIST_KEY, 4883, "alice@example.com").data
    again = runtime.service.issue_code(DIST_KEY, 4883, "ALICE@example.com ").data
    assert first["code"] == again["code"]
    other = runtime.service.issue_code(DIST_KEY, 4883, "bob@example.com").data
    assert other["code"] != first["code"]

    restarted = _restart(runtime)
    try:
        after = restarted.service.issue_code(DIST_KEY, 4883, "alice@example.com").data
        assert after["code"] == first["code"]
    finally:
        restarted.engine.dispose()


def test_validate_redeem_then_query(runtime: MockRuntime) -> None:
    service = runtime.service
    issued = service.issue_code(DIST_KEY, 4883, "carol@example.com").data["code"]
    validated = service.validate(DIST_KEY, issued, 1, {})
    assert not validated.errors
    val_key = validated.data["val_key"]
    redeemed = service.redeem(
        DIST_KEY, issued, 1, {"orderId": "o-1", "orderValue": "50.00", "valKey": val_key}
    )
    assert not redeemed.errors
    assert redeemed.data["redemption"]["code"] == issued

    with pytest.raises(VendorError) as again:
        service.redeem(DIST_KEY, issued, 1, {"orderId": "o-2", "orderValue": "10"})
    assert again.value.key == "already_redeemed"

    restarted = _restart(runtime)
    try:
        query = restarted.service.publisher_query(DIST_KEY, OFFER_UUID, "carol@example.com")
        assert query.data["redemption"]["total"] == 1
        assert query.data["redemption"]["records"][0]["code"] == issued
        history = restarted.service.distributor_query(DIST_KEY, OFFER_UUID, "carol@example.com")
        assert history.data["redemption"]["total"] == 1
    finally:
        restarted.engine.dispose()


def test_fixture_code_redeemed_once_and_reset_restores(runtime: MockRuntime) -> None:
    service = runtime.service
    assert not service.redeem(DIST_KEY, "ab12e3gh", 1, {"orderId": "x", "orderValue": "20"}).errors
    with pytest.raises(VendorError):
        service.redeem(DIST_KEY, "AB12E3GH", 1, {"orderId": "y", "orderValue": "20"})
    runtime.load_fixtures(runtime.fixtures)
    assert not service.redeem(DIST_KEY, "AB12E3GH", 1, {"orderId": "z", "orderValue": "20"}).errors
    # New rows after a reload get fresh ids (PostgreSQL sequences must not collide).
    issued = service.issue_code(DIST_KEY, 4883, "dave@example.com").data["code"]
    assert issued


def test_unknown_key_and_unauthorised_distributor(runtime: MockRuntime) -> None:
    with pytest.raises(VendorError) as unknown:
        runtime.service.issue_code("0" * 40, 4883, "x")
    assert unknown.value.key == "unknown_api_key"
    # Distributor 103 is authorised for offer 1234 only.
    with pytest.raises(VendorError):
        runtime.service.issue_code(DIST_103, 4883, "x")
    assert runtime.service.issue_code(DIST_103, 1234, "x").data["code"]


def test_concurrent_issuing_distinct_codes_and_one_code_per_uid(runtime: MockRuntime) -> None:
    service = runtime.service
    results: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def issue(uid: str) -> None:
        try:
            code = service.issue_code(DIST_KEY, 1234, uid).data["code"]
            with lock:
                results.append(code)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=issue, args=(f"user{i}@x.com",)) for i in range(16)]
    threads += [threading.Thread(target=issue, args=("same@x.com",)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    with runtime.repo.read() as conn:
        same = (
            conn.execute(
                select(codes.c.code).where(
                    codes.c.offer_id == 1234, codes.c.issued_to_norm == "same@x.com"
                )
            )
            .scalars()
            .all()
        )
        issued = conn.execute(
            select(func.count())
            .select_from(codes)
            .where(codes.c.offer_id == 1234, codes.c.issued_at.is_not(None))
        ).scalar_one()
    assert len(same) == 1
    assert issued == 17
    assert len(set(results)) == 17


def test_concurrent_redemptions_of_one_code_one_success(runtime: MockRuntime) -> None:
    service = runtime.service
    outcomes: list[str] = []
    lock = threading.Lock()

    def redeem(i: int) -> None:
        try:
            service.redeem(DIST_KEY, "AB12E3GH", 1, {"orderId": f"o{i}", "orderValue": "20"})
            result = "ok"
        except VendorError as error:
            result = error.key
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=redeem, args=(i,)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("ok") == 1
    assert set(outcomes) == {"ok", "already_redeemed"}
    with runtime.repo.read() as conn:
        count = conn.execute(
            select(func.count()).select_from(redemptions).where(redemptions.c.code == "AB12E3GH")
        ).scalar_one()
    assert count == 1


def _pause_offer(conn: object, offer_id: int) -> None:
    from sqlalchemy import update

    from uniqodo_mock.store.schema import offers

    conn.execute(update(offers).where(offers.c.id == offer_id).values(status="paused"))  # type: ignore[attr-defined]


def test_read_cache_sees_own_change_at_once(runtime: MockRuntime) -> None:
    service = runtime.service
    assert service.issue_code(DIST_KEY, 4883, "p1@x.com").data["code"]  # offer now cached
    with runtime.repo.write() as conn:
        _pause_offer(conn, 4883)
    with pytest.raises(VendorError) as paused:
        service.issue_code(DIST_KEY, 4883, "p1@x.com")
    assert paused.value.key == "promotion_paused"


def test_read_cache_sees_another_replicas_change(runtime: MockRuntime) -> None:

    from uniqodo_mock.store.engine import create_db_engine

    service = runtime.service
    assert service.issue_code(DIST_KEY, 4883, "p2@x.com").data["code"]
    other = create_db_engine(runtime.config.db_url)  # another replica, behind our back
    with other.begin() as conn:
        _pause_offer(conn, 4883)
    other.dispose()

    def refused() -> str | None:
        try:
            service.issue_code(DIST_KEY, 4883, "p2@x.com")
        except VendorError as error:
            return error.key
        return None

    # The condition: the change becomes visible.
    assert wait_until(refused, what="another replica's change") == "promotion_paused"


def test_code_remaining_exact_after_own_issue_and_fresh_after_others(
    runtime: MockRuntime,
) -> None:

    from uniqodo_mock.mock.runtime import build_runtime as build

    def remaining(rt: MockRuntime) -> int:
        offers = rt.service.list_offers(DIST_KEY).data["offers"]
        return next(o["code_remaining"] for o in offers if o["offer_id"] == 1234)

    before = remaining(runtime)
    runtime.service.issue_code(DIST_KEY, 1234, "r1@x.com")
    assert remaining(runtime) == before - 1  # own write: seen at once
    other = build(MockConfig(db_url=runtime.config.db_url))  # another replica issues one
    try:
        other.service.issue_code(DIST_KEY, 1234, "r2@x.com")
    finally:
        other.engine.dispose()
    wait_until(lambda: remaining(runtime) == before - 2, what="another replica's issue counted")


def test_keys_are_scoped(runtime: MockRuntime) -> None:
    service = runtime.service
    params = {"orderId": "s1", "orderValue": "20"}
    # A key that is no merchant's cannot redeem; a merchant key cannot act for another merchant.
    with pytest.raises(VendorError):
        service.redeem(DIST_103, "AB12E3GH", 1, params)
    with pytest.raises(VendorError):
        service.redeem(DIST_KEY, "AB12E3GH", 2, params)
    # Distributor 103 sees only the offers it is authorised for.
    offers = service.list_offers(DIST_103).data["offers"]
    assert [offer["offer_id"] for offer in offers] == [1234]
    # Nothing was redeemed by the refused calls.
    assert not service.redeem(DIST_KEY, "AB12E3GH", 1, params).errors
