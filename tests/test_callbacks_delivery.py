"""Callback delivery guarantees: ownership, retries while the subscriber is down, nothing lost
across a restart or a killed dispatcher, one sender per delivery across replicas."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import update

from callback_helpers import (
    FAST,
    deliveries,
    fields,
    fixture_with,
    issue,
    receiver_on_port,
    redeem,
)
from uniqodo_mock.mock.runtime import MockConfig
from uniqodo_mock.receiver.client import ReceiverClient
from uniqodo_mock.receiver.settings import ReceiverSettings
from uniqodo_mock.serving import free_port
from uniqodo_mock.store.schema import outbox
from uniqodo_mock.testing import wait_until
from uniqodo_mock.testing.mock import running_mock
from uniqodo_mock.testing.receiver import running_receiver


def _receiver(tmp_path: Path, name: str = "calls.db") -> ReceiverSettings:
    return ReceiverSettings(db_url=f"sqlite:///{tmp_path / name}")


def _subscribe(http, url: str, **extra) -> int:
    response = http.post("/__admin/callbacks", json={"url": url, **extra})
    assert response.status_code == 201, response.text
    return response.json()["id"]


def test_distributor_gets_only_authorised_offers_of_sharing_merchants(
    db_url: str, tmp_path: Path
) -> None:
    with (
        running_receiver(_receiver(tmp_path)) as receiver,
        running_mock(MockConfig(db_url=db_url, dispatch=FAST)) as mock,
        mock.client() as http,
        receiver.client() as calls,
    ):
        _subscribe(http, f"{receiver.url}/d103", owner={"distributor": 103})
        _subscribe(http, f"{receiver.url}/m1", owner={"merchant": 1})
        redeem(http, "AB12E3GH", "o-4883")  # offer 4883: distributor 102 only
        code = issue(http, 1234, "someone@example.com")  # offer 1234: 102 and 103
        redeem(http, code, "o-1234")
        call = calls.wait(timeout=10, after=0, path="/d103")
        assert fields(call) == {"code": code, "orderId": "o-1234"}
        wait_until(lambda: calls.count(path="/m1") == 2, what="both merchant callbacks")
        wait_until(
            lambda: all(d["status"] == "delivered" for d in deliveries(http)),
            what="every delivery delivered",
        )
        assert calls.count(path="/d103") == 1


def test_merchant_not_sharing_data_sends_nothing_to_distributors(
    sqlite_url: str, tmp_path: Path
) -> None:
    def private(data: dict) -> None:
        data["merchants"][0]["shares_data"] = False

    config = MockConfig(db_url=sqlite_url, fixtures=fixture_with(tmp_path, private), dispatch=FAST)
    with (
        running_receiver(_receiver(tmp_path)) as receiver,
        running_mock(config) as mock,
        mock.client() as http,
        receiver.client() as calls,
    ):
        _subscribe(http, f"{receiver.url}/d102", owner={"distributor": 102})
        _subscribe(http, f"{receiver.url}/m1", owner={"merchant": 1})
        redeem(http, "AB12E3GH", "145789")
        calls.wait(timeout=10, after=0, path="/m1")
        assert [d["url"] for d in deliveries(http)] == [f"{receiver.url}/m1"]
        assert calls.count(path="/d102") == 0


def test_subscriber_down_then_up_still_gets_the_call(sqlite_url: str, tmp_path: Path) -> None:
    port = free_port()
    with running_mock(MockConfig(db_url=sqlite_url, dispatch=FAST)) as mock, mock.client() as http:
        _subscribe(http, f"http://127.0.0.1:{port}/late")
        redeem(http, "AB12E3GH", "145789")
        wait_until(
            lambda: [d for d in deliveries(http) if len(d["attempts"]) >= 2],
            what="two failed attempts while the subscriber is down",
        )
        with receiver_on_port(_receiver(tmp_path), port) as url, ReceiverClient(url) as calls:
            call = calls.wait(timeout=15, after=0, path="/late")
            assert fields(call) == {"code": "AB12E3GH", "orderId": "145789"}
            [delivery] = wait_until(
                lambda: [d for d in deliveries(http) if d["status"] == "delivered"],
                what="the delivery marked delivered",
            )
    outcomes = [a["outcome"] for a in delivery["attempts"]]
    assert outcomes[-1] == "delivered" and set(outcomes[:-1]) == {"retry"}
    assert len(outcomes) >= 3
    assert all(a["error"] and a["status_code"] is None for a in delivery["attempts"][:-1])
    assert delivery["attempt_count"] == len(outcomes)
    assert [a["attempt"] for a in delivery["attempts"]] == list(range(1, len(outcomes) + 1))


def test_gives_up_after_max_attempts(sqlite_url: str) -> None:
    from dataclasses import replace

    config = MockConfig(db_url=sqlite_url, dispatch=replace(FAST, max_attempts=3))
    with running_mock(config) as mock, mock.client() as http:
        _subscribe(http, f"http://127.0.0.1:{free_port()}/never")
        redeem(http, "AB12E3GH", "145789")
        [delivery] = wait_until(
            lambda: deliveries(http, status="failed"), what="the delivery to be given up"
        )
    assert [a["outcome"] for a in delivery["attempts"]] == ["retry", "retry", "gave_up"]


def test_pending_and_orphaned_deliveries_go_out_after_restart(db_url: str, tmp_path: Path) -> None:
    with running_receiver(_receiver(tmp_path)) as receiver, receiver.client() as calls:
        # 1. A mock that queues but does not deliver (its dispatcher is "down").
        config = MockConfig(db_url=db_url, dispatch_callbacks=False, dispatch=FAST)
        with running_mock(config) as mock, mock.client() as http:
            _subscribe(http, f"{receiver.url}/cb")
            redeem(http, "AB12E3GH", "first")
            code = issue(http, 4883, "second@example.com")
            redeem(http, code, "second")
            queued = deliveries(http)
            assert [d["status"] for d in queued] == ["pending", "pending"]
            # 2. The second as if a dispatcher had claimed it and was killed mid-send.
            with mock.runtime.repo.write() as conn:
                conn.execute(
                    update(outbox)
                    .where(outbox.c.delivery_id == queued[0]["delivery_id"])
                    .values(
                        claimed_by="killed-dispatcher",
                        claimed_until=(datetime.now(UTC) + timedelta(seconds=1)).replace(
                            tzinfo=None
                        ),
                    )
                )
        assert calls.count() == 0
        # 3. Restart with delivery on: both arrive (the orphan once its claim expires).
        with running_mock(MockConfig(db_url=db_url, dispatch=FAST)) as mock, mock.client() as http:
            wait_until(lambda: calls.count(path="/cb") == 2, what="both callbacks after restart")
            orders = sorted(fields(c)["orderId"] for c in calls.iter_calls(path="/cb"))
            assert orders == ["first", "second"]
            wait_until(lambda: deliveries(http, status="delivered"), what="marked delivered")


def test_two_dispatchers_on_one_database_send_each_delivery_once(
    db_url: str, tmp_path: Path
) -> None:
    count = 12
    with (
        running_receiver(_receiver(tmp_path)) as receiver,
        receiver.client() as calls,
        running_mock(MockConfig(db_url=db_url, dispatch=FAST)) as first,
        running_mock(MockConfig(db_url=db_url, dispatch=FAST)) as second,
        first.client() as a,
        second.client() as b,
    ):
        _subscribe(a, f"{receiver.url}/cb")
        for i in range(count):
            http = a if i % 2 else b
            redeem(http, issue(http, 1234, f"user{i}@example.com"), f"order-{i}")
        wait_until(
            lambda: len(deliveries(a, status="delivered", limit=100)) == count,
            timeout=30,
            what="every delivery delivered",
        )
        ids = [
            next(v for k, v in c["headers"] if k == "x-uniqodo-delivery-id")
            for c in calls.iter_calls(path="/cb")
        ]
        assert len(ids) == count
        assert Counter(ids).most_common(1)[0][1] == 1
        assert all(len(d["attempts"]) == 1 for d in deliveries(a))


def test_fixture_callback_settings_apply_and_options_override_them(
    sqlite_url: str, tmp_path: Path
) -> None:
    def fast_retries(data: dict) -> None:
        data["settings"]["callbacks"] = {
            "max_attempts": 2,
            "backoff_base": 0.01,
            "backoff_cap": 0.05,
            "poll_interval": 0.05,
        }

    fixtures = fixture_with(tmp_path, fast_retries)
    config = MockConfig(db_url=sqlite_url, fixtures=fixtures)
    with running_mock(config) as mock, mock.client() as http:
        assert mock.runtime.dispatcher.settings.max_attempts == 2
        _subscribe(http, f"http://127.0.0.1:{free_port()}/never")
        redeem(http, "AB12E3GH", "145789")
        [delivery] = wait_until(lambda: deliveries(http, status="failed"), what="given up")
        assert len(delivery["attempts"]) == 2
    overridden = MockConfig(
        db_url=f"sqlite:///{tmp_path / 'other.db'}",
        fixtures=fixtures,
        dispatch_overrides={"max_attempts": 5},
    )
    with running_mock(overridden) as mock:
        assert mock.runtime.dispatcher.settings.max_attempts == 5
        assert mock.runtime.dispatcher.settings.backoff_base == 0.01


def test_a_delivery_sent_again_after_its_dispatcher_died_carries_the_next_attempt(
    db_url: str, tmp_path: Path
) -> None:
    """The first dispatcher sends attempt 1 and hangs in it (the subscriber answers late) past
    its claim, as a dispatcher killed mid-delivery would; another (a restarted mock, a
    replica) takes the delivery over and sends it again: attempt 2, not 1 again."""
    from uniqodo_mock.dispatch.dispatcher import DispatchSettings
    from uniqodo_mock.receiver.responses import ResponseRule

    slow = ReceiverSettings(
        db_url=f"sqlite:///{tmp_path / 'calls.db'}", responses=(ResponseRule("/cb", 200, 3.0),)
    )
    hung = DispatchSettings(
        max_attempts=5, poll_interval=0.1, timeout=30.0, concurrency=1, claim_seconds=0.5
    )
    with running_receiver(slow) as receiver, receiver.client() as calls:
        with running_mock(MockConfig(db_url=db_url, dispatch=hung)) as first, first.client() as a:
            _subscribe(a, f"{receiver.url}/cb")
            redeem(a, "AB12E3GH", "145789")
            calls.wait(timeout=10, after=0, path="/cb")  # attempt 1 is out, unanswered
            patient = DispatchSettings(max_attempts=5, poll_interval=0.1, timeout=10.0)
            with (
                running_mock(MockConfig(db_url=db_url, dispatch=patient)) as second,
                second.client() as b,
            ):
                wait_until(lambda: calls.count(path="/cb") == 2, what="the delivery sent again")
                wait_until(lambda: deliveries(b, status="delivered"), what="marked delivered")
        sent = [
            next(v for k, v in c["headers"] if k == "x-uniqodo-delivery-attempt")
            for c in calls.iter_calls(path="/cb")
        ]
        assert sent == ["1", "2"]
        ids = {
            next(v for k, v in c["headers"] if k == "x-uniqodo-delivery-id")
            for c in calls.iter_calls(path="/cb")
        }
        assert len(ids) == 1  # the same delivery, for the receiver to de-duplicate
