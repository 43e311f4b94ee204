"""The live receiver over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import concurrent.futures
import os
import threading
import time

import httpx
import pytest

from uniqodo_mock.receiver.client import ReceiverClient, ReceiverError, WaitTimeout
from uniqodo_mock.receiver.settings import ReceiverSettings
from uniqodo_mock.testing.receiver import RunningReceiver, running_receiver

CALLBACK = (
    "code=XY23T4DF&orderId=ABC123456&orderValue=219.99&currency=USD"
    "&redeemedAt=2015-05-29T10%3A39%3A17%2B0000&id=126478&offerId=1256&merchantId=56"
)
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def test_arbitrary_bytes_come_back_byte_for_byte(
    receiver: RunningReceiver, client: ReceiverClient
) -> None:
    payload = os.urandom(4096) + bytes(range(256)) + b"\x00\r\n\xff"
    answer = httpx.post(
        f"{receiver.url}/bin/hook?raw=%00x&y",
        content=payload,
        headers={"Content-Type": "application/octet-stream"},
    )
    assert answer.status_code == 204
    call_id = int(answer.headers["x-receiver-call-id"])
    assert client.body(call_id) == payload
    call = client.show(call_id)
    assert base64.b64decode(call["body_base64"]) == payload
    assert call["query"] == "raw=%00x&y" and call["body_size"] == len(payload)


def test_headers_in_order_and_form_fields(
    receiver: RunningReceiver, client: ReceiverClient
) -> None:
    headers = [
        ("X-Uniqodo-Delivery-Id", "d-1"),
        ("X-B", "2"),
        ("X-A", "1"),
        ("X-B", "3"),
        ("Content-Type", "application/x-www-form-urlencoded; charset=iso-8859-1"),
    ]
    httpx.post(f"{receiver.url}/hook", content=CALLBACK + "&note=Ren%E9", headers=headers)
    call = client.list()["calls"][-1]
    names = [n.lower() for n, _ in call["headers"]]
    assert names.index("x-uniqodo-delivery-id") < names.index("x-b") < names.index("x-a")
    assert [v for n, v in call["headers"] if n.lower() == "x-b"] == ["2", "3"]
    fields = {p["name"]: p["value"] for p in call["params"] if p["source"] == "form"}
    assert fields["note"] == "René" and fields["redeemedAt"] == "2015-05-29T10:39:17+0000"
    assert call["callback"] == {"looks_like_callback": True, "conforms": True, "problems": []}


def test_nonconforming_callback_says_why(receiver: RunningReceiver, client: ReceiverClient) -> None:
    httpx.post(f"{receiver.url}/hook", content="code=X&orderValue=abc", headers=FORM)
    verdict = client.list(callback=True)["calls"][-1]["callback"]
    assert verdict["conforms"] is False
    assert "orderValue 'abc' is not a number" in verdict["problems"]


def test_oversized_body_gets_413_and_is_not_stored(
    receiver: RunningReceiver, client: ReceiverClient
) -> None:
    big = b"x" * (64 * 1024 + 1)
    answer = httpx.post(f"{receiver.url}/big", content=big)
    assert answer.status_code == 413
    assert answer.json()["error"]["status"] == 413
    call = client.show(int(answer.headers["x-receiver-call-id"]))
    assert call["rejected"] is True and call["body_base64"] == "" and call["response_status"] == 413
    assert call["body_size"] == len(big)

    def chunks():  # no Content-Length: the limit is enforced while reading
        for _ in range(80):
            yield b"y" * 1024

    assert httpx.post(f"{receiver.url}/big", content=chunks()).status_code == 413


def test_per_path_status_and_delay(db_url: str) -> None:
    from uniqodo_mock.receiver.responses import parse_rule

    settings = ReceiverSettings(db_url=db_url, responses=(parse_rule("/fail=500"),))
    with running_receiver(settings) as receiver, receiver.client() as client:
        assert httpx.post(f"{receiver.url}/fail", content=b"a").status_code == 500
        assert httpx.post(f"{receiver.url}/ok", content=b"a").status_code == 204
        client.set_responses([{"path": "/hooks/*", "status": 503, "delay": 0.3}])
        started = time.monotonic()
        assert httpx.get(f"{receiver.url}/hooks/a").status_code == 503
        assert time.monotonic() - started >= 0.3  # the delay was applied (a lower bound only)
        assert httpx.post(f"{receiver.url}/fail", content=b"a").status_code == 204
        assert client.responses() == [{"path": "/hooks/*", "status": 503, "delay": 0.3}]
        with pytest.raises(ReceiverError) as caught:
            client.set_responses([{"path": "/x", "status": 42}])
        assert caught.value.status == 400
        assert [c["response_status"] for c in client.list()["calls"]] == [500, 204, 503, 204]


def test_cursor_pagination_newest_last(receiver: RunningReceiver, client: ReceiverClient) -> None:
    for i in range(7):
        httpx.get(f"{receiver.url}/p", params={"i": str(i)})
    seen: list[str] = []
    page = client.list(limit=3)
    while True:
        seen += [c["query"] for c in page["calls"]]
        if not page["has_more"]:
            break
        page = client.list(limit=3, after=page["next_cursor"])
    assert seen == [f"i={i}" for i in range(7)]
    assert len(list(client.iter_calls(limit=2))) == 7


def test_filters_and_delete_by_filter(receiver: RunningReceiver, client: ReceiverClient) -> None:
    httpx.post(f"{receiver.url}/a", content="code=AB12E3GH", headers=FORM)
    httpx.get(f"{receiver.url}/b", params={"code": "AB12E3GH"})
    httpx.post(f"{receiver.url}/b", json={"code": "ZZ"})
    assert client.count(param="code:AB12E3GH") == 2
    assert client.count(param="code:ZZ") == 1  # a JSON field
    assert client.count(method="GET", param="code:AB12E3GH") == 1
    assert client.count(path="/b") == 2
    assert client.count(until="2000-01-01T00:00:00Z") == 0
    assert client.clear(path="/b") == 2
    assert client.count() == 1


def test_bad_filter_is_a_400_naming_the_parameter(receiver: RunningReceiver) -> None:
    answer = httpx.get(f"{receiver.url}/__receiver/calls", params={"since": "yesterday"})
    assert answer.status_code == 400
    assert "'since'" in answer.json()["error"]["message"]
    missing = httpx.get(f"{receiver.url}/__receiver/calls/999999")
    assert missing.status_code == 404 and missing.json()["error"]["status"] == 404


def test_wait_returns_a_call_that_arrives(
    receiver: RunningReceiver, client: ReceiverClient
) -> None:
    httpx.post(f"{receiver.url}/hook", content="code=OLD", headers=FORM)  # before the wait
    cursor = client.list()["next_cursor"]  # "from here on", without racing the wait's start
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        waiting = pool.submit(client.wait, 20, after=cursor, param="code:NEW")
        httpx.post(f"{receiver.url}/hook", content="code=OTHER", headers=FORM)
        httpx.post(f"{receiver.url}/hook", content="code=NEW", headers=FORM)
        call = waiting.result(30)
    assert call["body_text"] == "code=NEW"


def test_wait_after_cursor_sees_stored_calls(
    receiver: RunningReceiver, client: ReceiverClient
) -> None:
    first = httpx.post(f"{receiver.url}/hook", content="code=A1", headers=FORM)
    call = client.wait(1, after=0, param="code:A1")
    assert call["id"] == int(first.headers["x-receiver-call-id"])


def test_wait_times_out_with_408(client: ReceiverClient) -> None:
    with pytest.raises(WaitTimeout) as caught:
        client.wait(0.2, param="code:NEVER")
    assert caught.value.status == 408 and "0.2 seconds" in caught.value.message


def test_wait_sees_calls_stored_by_another_replica(receiver_settings: ReceiverSettings) -> None:
    with (
        running_receiver(receiver_settings) as a,
        running_receiver(receiver_settings) as b,
        b.client() as client_b,
    ):
        result: dict[str, object] = {}

        def wait() -> None:
            result["call"] = client_b.wait(20, after=0, param="code:REPLICA")

        thread = threading.Thread(target=wait)
        thread.start()
        httpx.post(f"{a.url}/hook", content="code=REPLICA", headers=FORM)
        thread.join(30)
        assert result["call"]["body_text"] == "code=REPLICA"  # type: ignore[index]


def test_calls_survive_a_restart(receiver_settings: ReceiverSettings) -> None:
    with running_receiver(receiver_settings) as first:
        httpx.post(f"{first.url}/keep", content=b"\x00kept\xff")
    with running_receiver(receiver_settings) as second, second.client() as client:
        [call] = client.list()["calls"]
        assert call["path"] == "/keep" and client.body(call["id"]) == b"\x00kept\xff"


def test_500_concurrent_posts_are_all_stored(
    receiver: RunningReceiver, client: ReceiverClient
) -> None:
    limits = httpx.Limits(max_connections=50, max_keepalive_connections=50)
    with httpx.Client(base_url=receiver.url, limits=limits) as http:

        def post(i: int) -> int:
            return http.post("/load", content=f"code=C{i}&orderId={i}", headers=FORM).status_code

        with concurrent.futures.ThreadPoolExecutor(50) as pool:
            statuses = list(pool.map(post, range(500)))
    assert statuses == [204] * 500
    assert client.count(path="/load") == 500
    assert client.count(param="code:C499") == 1


def test_admin_token_protects_api_and_page(db_url: str) -> None:
    settings = ReceiverSettings(db_url=db_url, admin_token="s3cret")
    with running_receiver(settings) as receiver:
        base = f"{receiver.url}/__receiver"
        assert httpx.get(f"{base}/calls").status_code == 401
        assert httpx.get(f"{base}/").status_code == 401
        assert (
            httpx.get(f"{base}/calls", headers={"Authorization": "Bearer wrong"}).status_code == 401
        )
        assert (
            httpx.get(f"{base}/calls", headers={"Authorization": "Bearer s3cret"}).status_code
            == 200
        )
        assert httpx.get(f"{base}/calls", params={"token": "s3cret"}).status_code == 200
        assert httpx.get(f"{base}/health").status_code == 200
        assert (
            httpx.post(f"{receiver.url}/hook", content=b"x").status_code == 204
        )  # recording is open


def test_hostile_filters_are_answered_not_500(receiver: RunningReceiver) -> None:
    """Found by fuzzing: a NUL in a path pattern (PostgreSQL text cannot hold it) and thousands
    of param filters (one subquery each) were 500s or ran for minutes."""
    base = f"{receiver.url}/__receiver/calls"
    httpx.post(f"{receiver.url}/a%00b", content="code=N", headers=FORM)
    assert httpx.get(f"{base}?path=%2Fa%00*").status_code == 200
    many = [("param", f"p{i}:v") for i in range(21)]
    answer = httpx.get(base, params=many)
    assert answer.status_code == 400 and "'param'" in answer.json()["error"]["message"]
    assert httpx.get(base, params=many[:20]).status_code == 200
