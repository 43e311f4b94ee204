"""Slow or too many connections cannot hold the mock or the receiver: over raw sockets, heads
trickled a few bytes a second are closed after the head timeout, a trickled body gets 408 and
its connection closed, and connections beyond the bound are answered 503 and closed, while a
normal client is still served. Every wait is on the condition (the server closed the socket),
bounded by a deadline."""

from __future__ import annotations

import contextlib
import selectors
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from tests.mockapp import MERCHANT_KEY

from uniqodo_mock.mock.runtime import MockConfig
from uniqodo_mock.receiver.settings import ReceiverSettings
from uniqodo_mock.serving import ConnectionLimits
from uniqodo_mock.testing.mock import running_mock
from uniqodo_mock.testing.receiver import running_receiver

HEAD_TIMEOUT = 1.0
# Four bytes a second per connection, as the attack run sent them.
TRICKLE_INTERVAL = 0.25
HEAD = b"GET /__admin/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 200


@dataclass
class Server:
    """How to start the mock or the receiver with given limits, and its paths."""

    start: Callable[[ConnectionLimits], AbstractContextManager[str]]
    health: str
    body_path: str


def _mock(tmp_path: Path) -> Server:
    @contextmanager
    def start(limits: ConnectionLimits) -> Iterator[str]:
        config = MockConfig(
            db_url=f"sqlite:///{tmp_path / 'mock.db'}", dispatch_callbacks=False, body_timeout=1.0
        )
        with running_mock(config, limits=limits) as mock:
            yield mock.url

    return Server(start, "/__admin/health", f"/validate/{MERCHANT_KEY}/AB12E3GH/1")


def _receiver(tmp_path: Path) -> Server:
    @contextmanager
    def start(limits: ConnectionLimits) -> Iterator[str]:
        settings = ReceiverSettings(db_url=f"sqlite:///{tmp_path / 'calls.db'}", body_timeout=1.0)
        with running_receiver(settings, limits=limits) as receiver:
            yield receiver.url

    return Server(start, "/__receiver/health", "/hook")


@pytest.fixture(params=["mock", "receiver"])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Server:
    return _mock(tmp_path) if request.param == "mock" else _receiver(tmp_path)


def _connect(url: str) -> socket.socket:
    parts = urlsplit(url)
    sock = socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 80), timeout=5)
    sock.setblocking(False)
    return sock


def _trickle_until_closed(
    socks: list[socket.socket], data: bytes, *, deadline: float
) -> tuple[float, dict[socket.socket, bytes]]:
    """Send ``data`` a byte at a time to every socket, pausing ``TRICKLE_INTERVAL`` between
    rounds (waiting meanwhile on the sockets), until the server has closed them all; the time
    that took and what each socket received. Fails at ``deadline``."""
    start = time.monotonic()
    received: dict[socket.socket, bytes] = {sock: b"" for sock in socks}
    open_socks = set(socks)
    selector = selectors.DefaultSelector()
    for sock in socks:
        selector.register(sock, selectors.EVENT_READ)
    sent = 0
    next_round = start
    try:
        while open_socks:
            now = time.monotonic()
            assert now < deadline, f"{len(open_socks)} of {len(socks)} connections still open"
            if now >= next_round and sent < len(data):
                for sock in list(open_socks):
                    with contextlib.suppress(OSError):  # closed by the server meanwhile
                        sock.send(data[sent : sent + 1])
                sent += 1
                next_round = now + TRICKLE_INTERVAL
            for key, _ in selector.select(timeout=max(0.0, next_round - time.monotonic())):
                sock = key.fileobj
                assert isinstance(sock, socket.socket)
                try:
                    chunk = sock.recv(65536)
                except (ConnectionResetError, BlockingIOError) as error:
                    if isinstance(error, BlockingIOError):
                        continue
                    chunk = b""
                if chunk:
                    received[sock] += chunk
                    continue
                selector.unregister(sock)
                open_socks.discard(sock)
        return time.monotonic() - start, received
    finally:
        selector.close()
        for sock in socks:
            sock.close()


def test_slow_heads_are_closed_after_the_head_timeout(server: Server) -> None:
    limits = ConnectionLimits(head_timeout=HEAD_TIMEOUT, max_connections=1000)
    with server.start(limits) as url:
        socks = [_connect(url) for _ in range(300)]
        took, received = _trickle_until_closed(
            socks, HEAD, deadline=time.monotonic() + HEAD_TIMEOUT + 15
        )
        # Closed by the timer (the head was far from whole), not answered.
        assert took >= HEAD_TIMEOUT * 0.9
        assert not any(received.values())
        assert httpx.get(url + server.health, timeout=5).status_code == 200


def test_a_connection_that_sends_nothing_is_closed(server: Server) -> None:
    with server.start(ConnectionLimits(head_timeout=HEAD_TIMEOUT)) as url:
        took, _ = _trickle_until_closed(
            [_connect(url)], b"", deadline=time.monotonic() + HEAD_TIMEOUT + 10
        )
        assert took >= HEAD_TIMEOUT * 0.9


def test_a_keep_alive_connection_trickling_its_next_head_is_closed(server: Server) -> None:
    with server.start(ConnectionLimits(head_timeout=HEAD_TIMEOUT)) as url:
        sock = _connect(url)
        sock.setblocking(True)
        sock.sendall(f"GET {server.health} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        first = sock.recv(65536)
        assert first.startswith(b"HTTP/1.1 200"), first
        sock.setblocking(False)
        _trickle_until_closed([sock], HEAD, deadline=time.monotonic() + HEAD_TIMEOUT + 10)


def test_an_oversized_head_is_closed(server: Server) -> None:
    with server.start(ConnectionLimits(head_timeout=30, max_head_bytes=4096)) as url:
        sock = socket.create_connection(_addr(url))
        sock.settimeout(10)
        try:
            for _ in range(200):
                sock.sendall(b"X-Filler: " + b"b" * 1000 + b"\r\n")
        except OSError:
            pass  # closed by the server: what the test wants
        else:
            try:
                answer = sock.recv(65536)
            except ConnectionResetError:
                answer = b""
            # Closed without an answer, or refused with a 4xx by the HTTP parser.
            assert answer == b"" or answer.startswith(b"HTTP/1.1 4"), answer[:100]
        finally:
            sock.close()


def test_connections_beyond_the_bound_get_503_and_are_closed(server: Server) -> None:
    limits = ConnectionLimits(head_timeout=HEAD_TIMEOUT * 5, max_connections=20)
    with server.start(limits) as url:
        held = [_connect(url) for _ in range(20)]
        try:
            # The server saw the 20 first (their accept is in order): wait on that condition.
            _wait_refused(url)
            extra = [_connect(url) for _ in range(10)]
            _, received = _trickle_until_closed(extra, b"", deadline=time.monotonic() + 10)
            for answer in received.values():
                assert answer.startswith(b"HTTP/1.1 503"), answer[:80]
                assert b'"code":341' in answer
        finally:
            for sock in held:
                sock.close()
        # Once the held connections are gone, clients are served again.
        from uniqodo_mock.testing import wait_until

        wait_until(
            lambda: _get(url + server.health) == 200, timeout=10, what="the server answers again"
        )


def test_a_trickled_body_gets_408_and_its_connection_closed(server: Server) -> None:
    with server.start(ConnectionLimits(head_timeout=HEAD_TIMEOUT)) as url:
        sock = _connect(url)
        sock.setblocking(True)
        sock.sendall(
            f"POST {server.body_path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            "Content-Length: 400\r\n\r\n".encode()
        )
        sock.setblocking(False)
        _, received = _trickle_until_closed(
            [sock], b"{" + b" " * 398, deadline=time.monotonic() + 30
        )
        answer = received[sock]
        assert answer.startswith(b"HTTP/1.1 408"), answer[:200]


def _addr(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or 80


def _get(url: str) -> int:
    try:
        return httpx.get(url, timeout=5).status_code
    except httpx.HTTPError:
        return 0


def _wait_refused(url: str) -> None:
    """Until one more connection is refused (the server has accepted the ones held)."""
    from uniqodo_mock.testing import wait_until

    def refused() -> bool:
        with socket.create_connection(_addr(url), timeout=5) as probe:
            probe.settimeout(5)
            try:
                return probe.recv(100).startswith(b"HTTP/1.1 503")
            except OSError:
                return False

    wait_until(refused, timeout=10, what="a connection beyond the bound refused")


def test_the_h11_protocol_is_bounded_too(tmp_path: Path) -> None:
    """Where httptools is not installed, uvicorn's h11 protocol carries the same bounds."""
    from uniqodo_mock.receiver.app import create_receiver_app
    from uniqodo_mock.serving import BoundedH11Protocol, serve_in_thread

    app = create_receiver_app(ReceiverSettings(db_url=f"sqlite:///{tmp_path / 'calls.db'}"))
    limits = ConnectionLimits(head_timeout=HEAD_TIMEOUT, max_connections=5)
    with serve_in_thread(
        app, health_path="/__receiver/health", limits=limits, http=BoundedH11Protocol
    ) as served:
        socks = [_connect(served.url) for _ in range(5)]
        _wait_refused(served.url)
        took, received = _trickle_until_closed(
            socks, HEAD, deadline=time.monotonic() + HEAD_TIMEOUT + 10
        )
        assert took >= HEAD_TIMEOUT * 0.9 and not any(received.values())
        assert _get(served.url + "/__receiver/health") == 200


@pytest.mark.parametrize(
    ("command", "prefix"),
    [("serve", "UNIQODO_MOCK"), ("up", "UNIQODO_MOCK"), ("receiver", "UNIQODO_RECEIVER")],
)
def test_the_limits_are_options_with_environment_variables(command: str, prefix: str) -> None:
    from click.testing import CliRunner

    from uniqodo_mock.cli import cli

    result = CliRunner().invoke(cli, [command, "--help"], terminal_width=200)
    assert result.exit_code == 0, result.output
    for name in ("--head-timeout", "--max-connections", f"{prefix}_HEAD_TIMEOUT"):
        assert name in result.output, (command, name)
    assert f"{prefix}_MAX_CONNECTIONS" in result.output


@pytest.mark.parametrize("workers", ["1", "2"])
def test_serve_takes_the_head_timeout_from_its_environment(tmp_path: Path, workers: str) -> None:
    from tests.live.servers import mock_server

    env = {"UNIQODO_MOCK_HEAD_TIMEOUT": str(HEAD_TIMEOUT)}
    db = f"sqlite:///{tmp_path / 'state.db'}"
    with mock_server(db, "--workers", workers, env=env) as server:
        socks = [_connect(server.url) for _ in range(20)]
        took, received = _trickle_until_closed(
            socks, HEAD, deadline=time.monotonic() + HEAD_TIMEOUT + 15
        )
        assert took >= HEAD_TIMEOUT * 0.9 and not any(received.values())
        assert _get(server.url + "/__admin/health") == 200
