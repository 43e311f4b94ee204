"""Request bodies are bounded in time and size, over real sockets: a body trickled in gets 408
and its connection closed, a body sent without end gets 413 and its connection closed, and a
body a little over the limit still gets its 413 on a connection that stays usable. Each refused
call is recorded; nothing stored before is lost."""

from __future__ import annotations

import select
import socket
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest
from tests.live.servers import start_server

from uniqodo_mock.receiver.client import ReceiverClient
from uniqodo_mock.receiver.settings import ReceiverSettings
from uniqodo_mock.testing.receiver import RunningReceiver, running_receiver

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
LIMIT = 64 * 1024
# How long the tests keep a slow client going before they give up on the receiver answering.
GIVE_UP = 30.0


def _connect(url: str) -> socket.socket:
    parts = urlsplit(url)
    assert parts.hostname and parts.port
    return socket.create_connection((parts.hostname, parts.port), timeout=GIVE_UP)


def _answered(sock: socket.socket, pace: float) -> bool:
    """Wait up to ``pace`` seconds for the receiver to start answering (the socket readable)."""
    readable, _, _ = select.select([sock], [], [], pace)
    return bool(readable)


def _read_to_close(sock: socket.socket) -> tuple[bytes, bool]:
    """Everything the receiver sends until it closes the connection; and whether it did."""
    raw = b""
    sock.settimeout(GIVE_UP)
    try:
        while chunk := sock.recv(65536):
            raw += chunk
    except ConnectionResetError:
        pass  # closed with our unread bytes in its buffer: a reset, after the answer
    except TimeoutError:
        return raw, False
    return raw, True


def _trickle(sock: socket.socket, head: bytes, byte: bytes = b"x") -> int:
    """Send ``head``, then one byte per pacing interval until the receiver answers; return how
    many bytes of body were trickled."""
    sock.sendall(head)
    sent = 0
    deadline = time.monotonic() + GIVE_UP
    while not _answered(sock, 0.05):
        assert time.monotonic() < deadline, "the receiver never cut the slow body off"
        try:
            sock.sendall(byte)
        except (BrokenPipeError, ConnectionResetError):
            break
        sent += 1
    return sent


def _status(raw: bytes) -> int:
    return int(raw.split(b" ", 2)[1])


def _head(raw: bytes) -> bytes:
    return raw.partition(b"\r\n\r\n")[0].lower()


@pytest.fixture
def receiver(db_url: str) -> Iterator[RunningReceiver]:
    settings = ReceiverSettings(
        db_url=db_url, max_body_bytes=LIMIT, body_timeout=0.5, poll_interval=0.05
    )
    with running_receiver(settings) as running:
        yield running


def test_a_trickled_body_gets_408_closed_and_recorded(db_url: str) -> None:
    """Against ``uniqodo-mock receiver --body-timeout``, a real process."""
    server = start_server(
        "receiver", db_url, "--body-timeout", "0.5", health_path="/__receiver/health"
    )
    try:
        with ReceiverClient(server.url) as client:
            kept = httpx.post(f"{server.url}/before", content="code=KEPT", headers=FORM)
            kept_id = int(kept.headers["x-receiver-call-id"])
            with _connect(server.url) as slow:
                head = (
                    b"POST /slow?code=SLOW HTTP/1.1\r\nHost: x\r\n"
                    b"Content-Type: application/x-www-form-urlencoded\r\n"
                    b"Content-Length: 100000\r\n\r\ncode="
                )
                sent = _trickle(slow, head)
                raw, closed = _read_to_close(slow)
            assert _status(raw) == 408 and closed
            assert b"connection: close" in _head(raw)
            assert b"did not arrive within 0.5 seconds" in raw
            [refused] = client.list(path="/slow")["calls"]
            assert refused["rejected"] is True and refused["response_status"] == 408
            assert refused["body_base64"] == "" and 5 <= refused["body_size"] <= 5 + sent
            assert refused["query"] == "code=SLOW"
            # What was stored before is still there, and the receiver goes on recording.
            assert client.show(kept_id)["body_text"] == "code=KEPT"
            assert httpx.post(f"{server.url}/after", content=b"x").status_code == 204
            assert client.count() == 3
    finally:
        server.stop()


def test_a_trickle_holds_no_one_else_up(receiver: RunningReceiver) -> None:
    with _connect(receiver.url) as slow:
        slow.sendall(b"POST /slow HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nab")
        # While the slow body is pending, other calls are recorded and answered.
        assert httpx.post(f"{receiver.url}/fast", content=b"x").status_code == 204
        raw, closed = _read_to_close(slow)
    assert _status(raw) == 408 and closed


def test_an_endless_chunked_body_gets_413_and_its_connection_closed(
    receiver: RunningReceiver,
) -> None:
    """No Content-Length: the limit is counted as the chunks arrive, and the connection is
    closed while the client is still sending."""
    chunk = b"y" * 4096
    framed = b"%x\r\n%s\r\n" % (len(chunk), chunk)
    with _connect(receiver.url) as endless:
        endless.sendall(b"POST /endless HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
        sent = 0
        while not _answered(endless, 0.01):
            assert sent < 100 * LIMIT, "the receiver read far past its limit without answering"
            endless.sendall(framed)
            sent += len(chunk)
        answer = endless.recv(65536)
        assert _status(answer) == 413 and b"connection: close" in _head(answer)
        # The client goes on sending: the receiver has closed, sending fails or reads EOF.
        closed = False
        deadline = time.monotonic() + GIVE_UP
        while not closed:
            assert time.monotonic() < deadline, "the connection stayed open after the 413"
            try:
                endless.sendall(framed)
                closed = _answered(endless, 0.01) and endless.recv(65536) == b""
            except (BrokenPipeError, ConnectionResetError):
                closed = True
    with receiver.client() as client:
        [refused] = client.list(path="/endless")["calls"]
    assert refused["rejected"] is True and refused["response_status"] == 413
    assert LIMIT < refused["body_size"] <= sent and refused["body_base64"] == ""


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_body_just_over_the_limit_gets_413_on_a_connection_that_stays_usable(
    receiver: RunningReceiver, chunked: bool
) -> None:
    body = b"z" * (LIMIT + 1)
    if chunked:
        framing = b"Transfer-Encoding: chunked\r\n\r\n"
        payload = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
    else:
        framing = b"Content-Length: %d\r\n\r\n" % len(body)
        payload = body
    with _connect(receiver.url) as sock:
        sock.sendall(b"POST /big HTTP/1.1\r\nHost: x\r\n" + framing + payload)
        answer = b""
        while b"}" not in answer:  # the 413's JSON body
            answer += sock.recv(65536)
        assert _status(answer) == 413 and b"connection: close" not in _head(answer)
        # The body was read to its end: the same connection serves the next call.
        sock.sendall(b"POST /next HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\nn")
        following = sock.recv(65536)
    assert _status(following) == 204
    with receiver.client() as client:
        assert client.list(path="/big")["calls"][0]["response_status"] == 413
        assert client.count(path="/next") == 1


def test_the_api_bounds_its_own_bodies(receiver: RunningReceiver) -> None:
    with _connect(receiver.url) as slow:
        head = (
            b"PUT /__receiver/responses HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n["
        )
        _trickle(slow, head, b" ")
        raw, closed = _read_to_close(slow)
    assert _status(raw) == 408 and closed
    too_big = httpx.put(f"{receiver.url}/__receiver/responses", content=b" " * (LIMIT + 1))
    assert too_big.status_code == 413
    assert httpx.get(f"{receiver.url}/__receiver/responses").json() == []
