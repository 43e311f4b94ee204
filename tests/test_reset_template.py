"""A reset restores the template prepared when the fixtures were loaded (store/template.py):
exactly the state a new load of the same fixtures gives, on SQLite and PostgreSQL, after
issued codes, validations, redemptions, subscriptions, deliveries and imported codes; and every
cache of the process sees it as it sees a reload."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from uniqodo_mock.core.dates import to_db
from uniqodo_mock.core.errors import VendorError
from uniqodo_mock.fixtures import DEFAULT_FIXTURES
from uniqodo_mock.mock.runtime import MockConfig, MockRuntime, build_runtime
from uniqodo_mock.store.fixtures import apply_fixtures, restore_fixtures
from uniqodo_mock.store.outbox import AttemptRecord, OutboxStore
from uniqodo_mock.store.snapshot import export_snapshot
from uniqodo_mock.store.template import TEMPLATE_PREFIX, discard_template, restore_template
from uniqodo_mock.testing import running_mock

DIST_KEY = "64a287ae534cf1bd58f45f3e23de9d433caec669"  # merchant 1 and distributor 102
OFFER_UUID = "0821f4190897965c33eaca7954db5f23"

# Cells set from the moment of the load: codes issued (and expiring) "now", a redemption at
# "now", a fixture subscription; an explicit redemption id ahead of the sequence.
STAMPED_FIXTURES = """\
version: 1
settings: {timezone: Europe/London, seed: 7}
merchants:
  - {id: 1, name: M, keys: [64a287ae534cf1bd58f45f3e23de9d433caec669]}
distributors:
  - {id: 102, name: D, keys: [64a287ae534cf1bd58f45f3e23de9d433caec669]}
offers:
  - id: 4883
    promotion_uuid: 0821f4190897965c33eaca7954db5f23
    merchant: 1
    description: Expiring codes
    master_code: X
    code_expiry: 2h
    redemption_per_code: 5
    start_date: "01-01-2020 00:00:00"
    end_date: "31-12-2099 23:59:59"
    distributors: [102]
    pool: {generate: 40}
    codes:
      - {code: NOW01, issued: true}
      - {code: NOW02, issued_to: someone@example.com}
      - code: DONE01
        issued: true
        redemptions:
          - {order_id: o-1, order_value: 10}
          - {id: 500, order_id: o-2, order_value: 20, redeemed_at: "2021-01-01T00:00:00+00:00"}
subscriptions:
  - {url: "http://127.0.0.1:9/callback", params: {code: code, orderId: orderId}}
"""

MOMENT = datetime(2030, 6, 1, 12, 0, 0, 123456, tzinfo=UTC)


@pytest.fixture(params=["default", "stamped"])
def fixture_file(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    if request.param == "default":
        return DEFAULT_FIXTURES
    path = tmp_path / "stamped.yaml"
    path.write_text(STAMPED_FIXTURES, encoding="utf-8")
    return path


@pytest.fixture
def runtime(db_url: str, fixture_file: Path) -> Iterator[MockRuntime]:
    rt = build_runtime(
        MockConfig(
            db_url=db_url, fixtures=fixture_file, reset_fixtures=True, dispatch_callbacks=False
        )
    )
    try:
        yield rt
    finally:
        rt.close()


def _load_at(runtime: MockRuntime, now: datetime) -> None:
    document = runtime.fixtures
    apply_fixtures(
        runtime.repo,
        document,
        replace=True,
        now=now,
        template_key=runtime.template_key(document),
    )


def _writes(runtime: MockRuntime, tag: str) -> dict[str, Any]:
    """Issue, validate and redeem codes, add a subscription, import codes, deliver a callback
    (one attempt failed, one delivered) and publish a clock: what a test leaves behind. Returns
    what the writes answered (codes, ids), to compare with the same writes after a reset."""
    service, repo = runtime.service, runtime.repo
    with repo.write() as conn:
        subscription = repo.add_subscription(
            conn,
            {
                "url": "http://127.0.0.1:9/hook",
                "method": "POST",
                "params": {"code": "code"},
                "headers": {},
                "owner_merchant_id": None,
                "owner_distributor_id": None,
                "origin": "runtime",
                "created_at": to_db(MOMENT),
            },
        )
    issued = [service.issue_code(DIST_KEY, 4883, f"{tag}-{n}@example.com").data for n in range(3)]
    code = issued[0]["code"]
    val_key = service.validate(DIST_KEY, code, 1, {}).data["val_key"]
    redeemed = service.redeem(
        DIST_KEY, code, 1, {"orderId": f"{tag}-o", "orderValue": "40", "valKey": val_key}
    ).data["redemption"]
    imported = service.import_codes(
        4883, f"code\n{tag.upper()}IMPORT1\n{tag.upper()}IMPORT2\n".encode()
    )
    outbox = OutboxStore(repo)
    claimed = outbox.claim("test", MOMENT, timedelta(seconds=30), 10)
    for delivery in claimed:
        outbox.record(
            delivery,
            "test",
            AttemptRecord(MOMENT, 500, 3.5, "HTTP 500", False, MOMENT + timedelta(seconds=5)),
        )
    runtime.controls.clock_sync.set(MOMENT, frozen=True)
    return {
        "subscription": subscription,
        "codes": [entry["code"] for entry in issued],
        "redemption": redeemed.get("id", redeemed.get("redemption_id")),
        "imported": imported,
        "deliveries": [delivery.id for delivery in claimed],
    }


def _state(runtime: MockRuntime) -> dict[str, Any]:
    snapshot = export_snapshot(runtime.repo)
    return snapshot["tables"]


def test_restore_gives_exactly_the_state_of_a_new_load(runtime: MockRuntime) -> None:
    _load_at(runtime, MOMENT)
    loaded = _state(runtime)
    first = _writes(runtime, "a")
    assert _state(runtime) != loaded

    assert restore_template(runtime.repo, runtime.template_key(runtime.fixtures), MOMENT)
    assert _state(runtime) == loaded
    # The same writes again get the same codes and ids: sequences (PostgreSQL) and row ids
    # (SQLite) continue exactly where a new load leaves them.
    assert _writes(runtime, "a") == first

    # A reload after the same writes gives that very state too: loads are deterministic.
    _load_at(runtime, MOMENT)
    assert _state(runtime) == loaded
    assert _writes(runtime, "a") == first


def test_restore_at_another_moment_stamps_it_as_a_load_then_would(runtime: MockRuntime) -> None:
    _load_at(runtime, MOMENT)
    _writes(runtime, "b")
    later = MOMENT + timedelta(days=3, microseconds=7)
    assert restore_template(runtime.repo, runtime.template_key(runtime.fixtures), later)
    restored = _state(runtime)
    _load_at(runtime, later)
    assert restored == _state(runtime)


def test_a_template_of_other_fixtures_or_schema_is_not_restored(runtime: MockRuntime) -> None:
    _writes(runtime, "c")
    written = _state(runtime)
    assert not restore_template(runtime.repo, "another document or schema", MOMENT)
    assert _state(runtime) == written  # nothing changed


def test_reset_loads_when_the_template_is_gone_and_prepares_it_again(
    runtime: MockRuntime,
) -> None:
    with runtime.repo.write() as conn:
        conn.execute(text(f"DROP TABLE {TEMPLATE_PREFIX}info"))
    runtime.service.issue_code(DIST_KEY, 4883, "d@example.com")
    runtime.reset()  # no template: the fixtures are loaded, and the template prepared
    key = runtime.template_key(runtime.fixtures)
    assert restore_template(runtime.repo, key, MOMENT)
    discard_template(runtime.repo)
    assert not restore_template(runtime.repo, key, MOMENT)
    runtime.reset()
    assert restore_template(runtime.repo, key, MOMENT)


def test_copies_of_an_older_schema_are_made_again(runtime: MockRuntime) -> None:
    """As after a migration that changed the tables: the copies' shape no longer fits, the
    key no longer matches; a reset loads the fixtures and makes the copies anew."""
    with runtime.repo.write() as conn:
        conn.execute(text(f"ALTER TABLE {TEMPLATE_PREFIX}codes DROP COLUMN lock_until"))
        conn.execute(text(f"UPDATE {TEMPLATE_PREFIX}info SET value = '\"older\"'"))
    key = runtime.template_key(runtime.fixtures)
    assert not restore_template(runtime.repo, key, MOMENT)
    runtime.reset()
    _load_at(runtime, MOMENT)
    loaded = _state(runtime)
    _writes(runtime, "g")
    assert restore_template(runtime.repo, key, MOMENT)
    assert _state(runtime) == loaded


def _normalised(tables: dict[str, Any]) -> dict[str, Any]:
    """Timestamps within a day of the load, as their distance from it: two resets at two
    moments compare equal when each stamped what a load at its moment would."""
    loaded_at = datetime.fromisoformat(
        next(row["value"] for row in tables["meta"] if row["key"] == "loaded_at")
    ).replace(tzinfo=None)

    def value(item: Any) -> Any:
        if isinstance(item, str) and len(item) >= 19 and item[4] == "-" and item[10] in "T ":
            try:
                moment = datetime.fromisoformat(item).replace(tzinfo=None)
            except ValueError:
                return item
            if abs(moment - loaded_at) < timedelta(days=1):
                return f"load+{moment - loaded_at}"
        return item

    return {
        name: [{column: value(item) for column, item in row.items()} for row in rows]
        for name, rows in tables.items()
    }


def _fault_specs(runtime: MockRuntime) -> list[dict[str, Any]]:
    # Rule ids go on counting across resets and reloads alike.
    return [
        {name: value for name, value in rule.to_json().items() if name != "id"}
        for rule in runtime.controls.faults.list()
    ]


def test_reset_through_the_runtime_is_a_reload_for_every_cache(runtime: MockRuntime) -> None:
    service = runtime.service
    runtime.load_fixtures(runtime.fixtures)
    reloaded = _normalised(_state(runtime))
    settings, catalogue = service.settings, service.catalogue
    answer = service.publisher_query(DIST_KEY, OFFER_UUID, "e-0@example.com").data
    _writes(runtime, "e")
    runtime.controls.faults.clear()
    runtime.controls.faults.add({"operation": "validate_code", "latency_ms": 300, "count": 5})
    assert runtime.clock.state.frozen_at == MOMENT

    runtime.reset()
    assert _normalised(_state(runtime)) == reloaded
    assert runtime.clock.state.frozen_at is None  # real time, as after a reload
    faults = _fault_specs(runtime)
    runtime.load_fixtures(runtime.fixtures)
    assert faults == _fault_specs(runtime)  # the fixtures' own rules, as after a reload
    # The settings and catalogue were read again (answers kept under the old ones are not
    # reused), and a query answers as right after the load.
    assert service.settings is not settings and service.catalogue is not catalogue
    runtime.reset()
    assert service.publisher_query(DIST_KEY, OFFER_UUID, "e-0@example.com").data == answer


def test_reset_through_the_admin_api_on_a_live_mock(db_url: str, tmp_path: Path) -> None:
    """POST /__admin/reset after writes over HTTP answers as before and leaves the snapshot a
    reload leaves; fixtures replaced with PUT /__admin/fixtures are what a reset then restores."""
    config = MockConfig(db_url=db_url, reset_fixtures=True, dispatch_callbacks=False)
    with running_mock(config) as mock:
        admin = mock.admin
        before = admin.post("/reset")
        assert before.status_code == 200
        fresh = mock.get(f"/code/{DIST_KEY}/4883?uid=api@example.com").json()["data"]["code"]
        admin.post(
            "/callbacks", json={"url": "http://127.0.0.1:9/x", "params": {"code": "code"}}
        ).raise_for_status()
        redeemed = mock.get(f"/redeem/{DIST_KEY}/{fresh}/1?orderId=api-1&orderValue=30")
        assert redeemed.status_code in (200, 201), redeemed.text
        answer = admin.post("/reset")
        assert answer.json() == before.json()
        restored = _normalised(admin.get("/snapshot").json()["tables"])
        # The same code is given out again: the pool is as the fixtures left it.
        again = mock.get(f"/code/{DIST_KEY}/4883?uid=api@example.com").json()["data"]["code"]
        assert again == fresh
        mock.runtime.load_fixtures(mock.runtime.fixtures)
        assert _normalised(admin.get("/snapshot").json()["tables"]) == restored

        admin.put(
            "/fixtures", content=STAMPED_FIXTURES, headers={"content-type": "application/yaml"}
        ).raise_for_status()
        mock.get(f"/code/{DIST_KEY}/4883?uid=other@example.com")
        admin.post("/reset").raise_for_status()
        tables = admin.get("/snapshot").json()["tables"]
        assert {row["code"] for row in tables["codes"]} >= {"NOW01", "NOW02", "DONE01"}
        assert not any(row["code"] == "AB12E3GH" for row in tables["codes"])
        assert [row["url"] for row in tables["subscriptions"]] == ["http://127.0.0.1:9/callback"]


@pytest.mark.parametrize("name", ["features.yaml", "docs.yaml"])
def test_every_fixture_set_restores_as_it_loads(db_url: str, name: str) -> None:
    """fixtures/features.yaml (every promotion feature: expiring codes, locks, basket rules,
    mystery discounts, embeddable claims) and fixtures/docs.yaml (codes validated at the load,
    a pinned clock): a restore at another moment after codes were given out is a load at that
    moment."""
    config = MockConfig(
        db_url=db_url,
        fixtures=DEFAULT_FIXTURES.with_name(name),
        reset_fixtures=True,
        dispatch_callbacks=False,
    )
    rt = build_runtime(config)
    try:
        _load_at(rt, MOMENT)
        for offer_id in (7012, 7013, 4883, 1234):
            with contextlib.suppress(VendorError):  # offers of the other set
                rt.service.issue_code(DIST_KEY, offer_id, "f@example.com")
        later = MOMENT + timedelta(hours=5)
        assert restore_fixtures(rt.repo, rt.fixtures, rt.template_key(rt.fixtures), later)
        restored = _state(rt)
        _load_at(rt, later)
        assert restored == _state(rt)
    finally:
        rt.close()


def test_a_reset_with_a_pinned_clock_is_a_reload_exactly(db_url: str) -> None:
    """fixtures/docs.yaml pins a frozen clock: a reset and a reload happen at the same moment,
    so their states compare equal as they are, fault rules included."""
    config = MockConfig(
        db_url=db_url,
        fixtures=DEFAULT_FIXTURES.with_name("docs.yaml"),
        reset_fixtures=True,
        dispatch_callbacks=False,
    )
    rt = build_runtime(config)
    try:
        rt.load_fixtures(rt.fixtures)
        reloaded, rules = _state(rt), _fault_specs(rt)
        _writes(rt, "p")
        rt.controls.faults.add({"operation": "validate_code", "latency_ms": 300})
        rt.reset()
        assert _state(rt) == reloaded
        assert _fault_specs(rt) == rules
        assert rt.clock.state.frozen_at == rt.fixtures.clock.now  # type: ignore[union-attr]
    finally:
        rt.close()
