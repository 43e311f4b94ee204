"""Test controls behave the same whichever replica a request or an admin call reaches: two
mocks (two apps, two servers) over one database, on SQLite and on PostgreSQL. Each control is
set through one replica and observed through the other: fault rules, their counts and ttl,
rate-limit windows, seeded probabilities, the journal; and the receiver's response rules over
two receivers."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from tests.live.servers import mock_server

from uniqodo_mock.admin_client import AdminClient
from uniqodo_mock.mock.runtime import MockConfig
from uniqodo_mock.receiver.client import ReceiverClient
from uniqodo_mock.receiver.settings import ReceiverSettings
from uniqodo_mock.testing import wait_until
from uniqodo_mock.testing.mock import DISTRIBUTOR_KEY, MERCHANT_KEY, RunningMock, running_mock
from uniqodo_mock.testing.receiver import running_receiver

VALIDATE = f"/validate/{MERCHANT_KEY}/AB12E3GH/1"
OFFERS = f"/offers/{DISTRIBUTOR_KEY}/json"


@pytest.fixture
def replicas(db_url: str) -> Iterator[tuple[RunningMock, RunningMock]]:
    """Two replicas of one mock: the second starts on the database the first has loaded."""
    config = MockConfig(db_url=db_url, dispatch_callbacks=False)
    with running_mock(config) as first, running_mock(config) as second:
        first.admin.faults.clear()  # no magic-code rules: only the rules of the test
        yield first, second


def _status(mock: RunningMock, path: str = VALIDATE) -> int:
    return mock.get(path).status_code


def test_a_rule_added_through_one_replica_fires_on_the_other(
    replicas: tuple[RunningMock, RunningMock],
) -> None:
    a, b = replicas
    assert _status(b) == 200  # b has read the (empty) rule set: its copy must notice the add
    rule = a.admin.faults.add(path="/validate/", status=503)
    response = b.get(VALIDATE)
    assert response.status_code == 503
    assert response.json()["errors"][0]["code"] == 341  # in the envelope
    # Listed through either replica, with the use b counted.
    for mock in (a, b):
        [listed] = mock.admin.faults.list()
        assert listed["id"] == rule["id"] and listed["applied"] == 1
    # Deleted through b: gone on a at once.
    b.admin.faults.delete(rule["id"])
    assert _status(a) == 200
    assert a.admin.faults.list() == []


def test_a_count_limited_rule_fires_exactly_count_times_over_both_replicas(
    replicas: tuple[RunningMock, RunningMock],
) -> None:
    a, b = replicas
    a.admin.faults.add(path="/validate/", status=503, count=3)
    # Ten requests at once, five through each replica: exactly three meet the rule.
    with ThreadPoolExecutor(10) as pool:
        statuses = list(pool.map(lambda i: _status((a, b)[i % 2]), range(10)))
    assert sorted(statuses) == [200] * 7 + [503] * 3
    # Used up for both: listed by neither, and neither answers 503 any more.
    assert a.admin.faults.list() == [] and b.admin.faults.list() == []
    assert [_status(a), _status(b)] == [200, 200]


def test_a_count_limited_rule_alternating_over_the_replicas(
    replicas: tuple[RunningMock, RunningMock],
) -> None:
    a, b = replicas
    b.admin.faults.add(path="/validate/", status=500, count=3)
    statuses = [_status((a, b)[i % 2]) for i in range(6)]
    assert statuses == [500, 500, 500, 200, 200, 200]


def test_a_ttl_rule_expires_for_both_replicas(replicas: tuple[RunningMock, RunningMock]) -> None:
    a, b = replicas
    rule = a.admin.faults.add(path="/validate/", status=503, ttl_seconds=1.5)
    assert [_status(a), _status(b)] == [503, 503]
    [listed] = b.admin.faults.list()
    assert 0 < listed["expires_in_seconds"] <= 1.5 and listed["id"] == rule["id"]
    # Waiting for the rule's own ttl to run out: then it is gone for both at once.
    wait_until(lambda: _status(b) == 200, what="the rule's ttl to run out", timeout=10)
    assert _status(a) == 200
    assert a.admin.faults.list() == [] and b.admin.faults.list() == []


def test_a_rate_limit_counts_the_requests_of_both_replicas(
    replicas: tuple[RunningMock, RunningMock],
) -> None:
    a, b = replicas
    a.admin.faults.add(path="/validate/", rate_limit={"requests": 3, "per_seconds": 60})
    assert [_status(a), _status(b), _status(a)] == [200, 200, 200]
    # The fourth and fifth requests of the window, whichever replica gets them.
    for mock in (b, a):
        limited = mock.get(VALIDATE)
        assert limited.status_code == 429
        assert 1 <= int(limited.headers["Retry-After"]) <= 60
        assert limited.json()["errors"][0]["code"] == 340


def test_a_rate_limit_under_concurrent_requests_on_both_replicas(
    replicas: tuple[RunningMock, RunningMock],
) -> None:
    a, b = replicas
    b.admin.faults.add(path="/validate/", rate_limit={"requests": 4, "per_seconds": 60})
    with ThreadPoolExecutor(10) as pool:
        statuses = list(pool.map(lambda i: _status((a, b)[i % 2]), range(10)))
    assert sorted(statuses) == [200] * 4 + [429] * 6


def test_a_seeded_probability_draws_one_sequence_across_replicas(
    replicas: tuple[RunningMock, RunningMock],
) -> None:
    a, b = replicas

    def run(targets: list[RunningMock]) -> list[int]:
        a.admin.faults.clear()
        b.admin.faults.add(path="/validate/", status=500, probability=0.5, seed=7)
        return [_status(mock) for mock in targets]

    on_one = run([a] * 12)
    spread = run([a, b] * 6)
    assert on_one == spread
    assert set(on_one) == {200, 500}


def test_the_journal_lists_the_requests_of_both_replicas_through_either(
    replicas: tuple[RunningMock, RunningMock],
) -> None:
    a, b = replicas
    a.admin.journal.clear()
    assert _status(a) == 200
    assert _status(b, OFFERS) == 200
    assert _status(a, f"/validate/{MERCHANT_KEY}/NOSUCHCODE/1") in (200, 400)
    # Read at once after the answers, through each replica: all three, newest first.
    for mock in (a, b):
        entries = mock.admin.journal.list()
        assert [entry["operation"] for entry in entries] == [
            "validate_code",
            "list_offers",
            "validate_code",
        ]
        assert entries[0]["code"] == "NOSUCHCODE" and entries[0]["errors"]
        assert [e["path"] for e in mock.admin.journal.list(operation="list_offers")] == [
            f"/offers/{DISTRIBUTOR_KEY}/json"
        ]
        assert len(mock.admin.journal.list(code="ab12e3gh")) == 1
    # A fault b applied is journaled with its rule, readable through a.
    rule = a.admin.faults.add(path="/offers/", status=503)
    assert _status(b, OFFERS) == 503
    [entry] = a.admin.journal.list(limit=1)
    assert entry["status"] == 503 and entry["fault"]["rule"] == rule["id"]
    # Cleared through b: empty for a too.
    assert b.admin.journal.clear() == 4
    assert a.admin.journal.list() == []


def test_the_journal_stays_bounded_across_replicas(db_url: str) -> None:
    config = MockConfig(db_url=db_url, dispatch_callbacks=False, journal_size=5)
    with running_mock(config) as a, running_mock(config) as b:
        a.admin.journal.clear()
        for i in range(8):
            assert _status((a, b)[i % 2]) == 200
        answer = b.admin.get("/journal").json()
        assert answer["held"] == 5 and answer["max_entries"] == 5
        assert answer["count"] == 5 and answer["dropped"] == 3


@pytest.mark.slow
def test_worker_processes_on_one_sqlite_file_share_counts_and_the_journal(
    sqlite_url: str,
) -> None:
    """``serve --workers 2``: real processes, each with its own copy of the rules."""
    with mock_server(sqlite_url, "--workers", "2") as server, AdminClient(server.url) as admin:
        admin.faults.clear()
        admin.journal.clear()
        admin.faults.add(path="/validate/", status=503, count=3)

        def status(_: int) -> int:
            # A new connection each time: either worker may accept it.
            return httpx.get(server.url + VALIDATE, timeout=10).status_code

        with ThreadPoolExecutor(8) as pool:
            statuses = list(pool.map(status, range(12)))
        assert sorted(statuses) == [200] * 9 + [503] * 3
        entries = admin.journal.list(operation="validate_code")
        assert len(entries) == 12
        assert sorted(entry["status"] for entry in entries) == [200] * 9 + [503] * 3


def test_a_response_rule_set_through_one_receiver_applies_on_the_other(db_url: str) -> None:
    settings = ReceiverSettings(db_url=db_url)
    with (
        running_receiver(settings) as first,
        running_receiver(settings) as second,
        ReceiverClient(first.url) as one,
        ReceiverClient(second.url) as other,
    ):
        one.set_responses([{"path": "/hook", "status": 503}])
        assert httpx.post(f"{second.url}/hook", content=b"x").status_code == 503
        assert other.responses() == [{"path": "/hook", "status": 503, "delay": 0.0}]
        other.set_responses([])
        assert httpx.post(f"{first.url}/hook", content=b"x").status_code == 204
