"""Response rules live in the receiver's database: two receiver processes on one database (a
SQLite file, a PostgreSQL database) answer by the same rules, at once, whichever of them the
rules were set through."""

from __future__ import annotations

import time

import httpx
from tests.live.servers import MockProcess, start_server

from uniqodo_mock.receiver.client import ReceiverClient

HEALTH = "/__receiver/health"


def _receiver(db_url: str, *args: str) -> MockProcess:
    return start_server("receiver", db_url, *args, health_path=HEALTH)


def test_rules_set_through_one_replica_apply_on_the_other(db_url: str) -> None:
    a, b = _receiver(db_url), _receiver(db_url)
    try:
        with ReceiverClient(a.url) as client_a, ReceiverClient(b.url) as client_b:
            rules = [
                {"path": "/hook", "status": 503, "delay": 0.0},
                {"path": "/slow/*", "status": 202, "delay": 0.3},
            ]
            client_a.set_responses(rules)
            # Set through A: B answers by them on its very next call, and lists them.
            assert httpx.post(f"{b.url}/hook", content=b"x").status_code == 503
            started = time.monotonic()
            slow = httpx.post(f"{b.url}/slow/x", content=b"x")
            assert slow.status_code == 202 and time.monotonic() - started >= 0.3
            assert client_b.responses() == rules
            # Deleted through B: gone on A at once.
            client_b.set_responses([])
            assert httpx.post(f"{a.url}/hook", content=b"x").status_code == 204
            assert client_a.responses() == []
            answered = [c["response_status"] for c in client_a.list()["calls"]]
            assert answered == [503, 202, 204]
    finally:
        a.stop()
        b.stop()


def test_rules_given_at_start_replace_the_stored_ones_for_every_replica(db_url: str) -> None:
    running = _receiver(db_url)
    try:
        with ReceiverClient(running.url) as client:
            client.set_responses([{"path": "/hook", "status": 500}])
            started = _receiver(db_url, "--respond", "/hook=418", "--respond", "/x=204:0.5")
            try:
                assert httpx.post(f"{running.url}/hook", content=b"x").status_code == 418
                assert client.responses() == [
                    {"path": "/hook", "status": 418, "delay": 0.0},
                    {"path": "/x", "status": 204, "delay": 0.5},
                ]
            finally:
                started.stop()
        # A restart without --respond keeps the stored rules.
        running.stop()
        running = _receiver(db_url)
        assert httpx.post(f"{running.url}/hook", content=b"x").status_code == 418
    finally:
        running.stop()
