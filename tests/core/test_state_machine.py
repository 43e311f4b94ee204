"""A hypothesis state machine over the domain core and its store (MockService): issue,
validate, redeem, query and advance time in any order, holding the invariants:

* no code is used beyond its use limit;
* pool counts stay consistent (remaining + issued from the pool = the pool's size);
* query totals equal the sum of their records;
* a used-up code is never valid again;
* every redemption has exactly one outbox delivery per matching subscription.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from sqlalchemy import func, select

from uniqodo_mock.core.errors import VendorError
from uniqodo_mock.fixtures.loader import load_fixture_text
from uniqodo_mock.mock.runtime import MockConfig, build_runtime
from uniqodo_mock.store.schema import codes, outbox, redemptions

KEY = "k" * 40
OTHER_MERCHANT_KEY = "m" * 40
POOL = 6
USES = 2
USERS = ["u1", "u2", "u3"]

FIXTURES = f"""
version: 1
settings: {{seed: 7, require_val_key: false}}
merchants:
  - {{id: 1, name: M, keys: [{KEY}], shares_data: true}}
  - {{id: 2, name: Other, keys: [{OTHER_MERCHANT_KEY}], shares_data: true}}
distributors:
  - {{id: 102, name: D, keys: [{KEY}]}}
offers:
  - id: 10
    promotion_uuid: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
    merchant: 1
    description: d
    status: active
    master_code: MASTER
    code_type: unique
    redemption_per_code: {USES}
    start_date: "01-01-2020 00:00:00"
    end_date: "31-12-2099 23:59:59"
    discount: {{type: percent, amount: 10}}
    distributors: [102]
    pool: {{generate: {POOL}, length: 8}}
subscriptions:
  - {{url: "http://127.0.0.1:9/all", method: POST}}
  - {{url: "http://127.0.0.1:9/merchant1", method: JSON, owner: {{merchant: 1}}}}
  - {{url: "http://127.0.0.1:9/merchant2", method: GET, owner: {{merchant: 2}}}}
  - {{url: "http://127.0.0.1:9/distributor", method: POST, owner: {{distributor: 102}}}}
"""
# Subscriptions whose owner matches a redemption of merchant 1's offer 10 via distributor 102.
MATCHING_SUBSCRIPTIONS = 3


@pytest.fixture
def runtime(db_url: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    fixtures = tmp_path / "f.yaml"
    fixtures.write_text(FIXTURES)
    rt = build_runtime(MockConfig(db_url=db_url, fixtures=fixtures))
    yield rt
    rt.engine.dispose()


def test_domain_invariants_hold_in_any_order(runtime) -> None:  # type: ignore[no-untyped-def]
    document = load_fixture_text(FIXTURES, "state-machine")

    class Voucher(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            runtime.load_fixtures(document)
            runtime.clock.reset()
            self.service = runtime.service
            self.repo = runtime.repo
            self.uses: dict[str, int] = {}  # code → redemptions we made
            self.issued: dict[str, str] = {}  # uid → code
            self.orders = 0

        @rule(user=st.sampled_from(USERS))
        def issue(self, user: str) -> None:
            try:
                data = self.service.issue_code(KEY, 10, user).data
            except VendorError as error:
                # Only a sold-out pool may refuse a new customer.
                assert len(set(self.issued.values())) == POOL, error
                return
            code = data["code"]
            if user in self.issued:
                assert code == self.issued[user], "a customer gets the same code again"
            self.issued[user] = code
            self.uses.setdefault(code, 0)

        @precondition(lambda self: self.uses)
        @rule(data=st.data())
        def validate(self, data: st.DataObject) -> None:
            code = data.draw(st.sampled_from(sorted(self.uses)))
            try:
                self.service.validate(KEY, code, 1, {})
                valid = True
            except VendorError as error:
                valid = False
                assert error.key is not None
            assert valid == (self.uses[code] < USES), (code, self.uses[code])

        @precondition(lambda self: self.uses)
        @rule(data=st.data(), value=st.integers(1, 500))
        def redeem(self, data: st.DataObject, value: int) -> None:
            code = data.draw(st.sampled_from(sorted(self.uses)))
            self.orders += 1
            params = {"orderId": f"o{self.orders}", "orderValue": str(value)}
            try:
                self.service.redeem(KEY, code, 1, params)
                self.uses[code] += 1
            except VendorError:
                assert self.uses[code] >= USES, "a usable code was refused"

        @rule(user=st.sampled_from(USERS))
        def query(self, user: str) -> None:
            outcome = self.service.publisher_query(KEY, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", user)
            records = outcome.data["redemption"]["records"]
            assert outcome.data["redemption"]["total"] == len(records)
            if user in self.issued:
                assert len(records) == self.uses[self.issued[user]]
            dist = self.service.distributor_query(KEY, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", user)
            if dist.data and dist.data.get("redemption"):
                recs = dist.data["redemption"]["records"]
                assert dist.data["redemption"]["total"] == len(recs)
                assert dist.data["total_order_value"] == pytest.approx(
                    sum(r["order_value"] for r in recs)
                )
                assert dist.data["total_discount_value"] == pytest.approx(
                    sum(r["discount_value"] for r in recs)
                )

        @rule(seconds=st.integers(0, 400 * 24 * 3600))
        def advance_time(self, seconds: int) -> None:
            # Within the offer's window (it ends in 2099), so validity depends on uses alone.
            runtime.clock.offset_by(seconds)

        @invariant()
        def no_code_beyond_its_limit(self) -> None:
            with self.repo.read() as conn:
                worst = conn.execute(select(func.max(codes.c.uses))).scalar_one() or 0
            assert worst <= USES

        @invariant()
        def pool_is_consistent(self) -> None:
            with self.repo.read() as conn:
                remaining = self.repo.code_remaining(conn, 10)
            assert remaining + len(set(self.issued.values())) == POOL

        @invariant()
        def redemptions_match_the_model(self) -> None:
            with self.repo.read() as conn:
                rows = conn.execute(
                    select(redemptions.c.code, func.count()).group_by(redemptions.c.code)
                ).all()
            assert {c: n for c, n in rows} == {c: n for c, n in self.uses.items() if n}

        @invariant()
        def one_delivery_per_matching_subscription(self) -> None:
            with self.repo.read() as conn:
                total = conn.execute(select(func.count()).select_from(redemptions)).scalar_one()
                per = conn.execute(
                    select(
                        outbox.c.redemption_id,
                        func.count(),
                        func.count(outbox.c.subscription_id.distinct()),
                    ).group_by(outbox.c.redemption_id)
                ).all()
            assert len(per) == total
            assert all(n == MATCHING_SUBSCRIPTIONS and d == n for _, n, d in per)

    Voucher.TestCase.settings = settings(
        max_examples=25,
        stateful_step_count=20,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    Voucher.TestCase().runTest()
