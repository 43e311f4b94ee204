"""Admin request bodies are bounded like vendor bodies: without an admin token anyone who can
reach the mock may upload to /__admin, so a body over ``admin_max_body_bytes`` is refused with
413 in the envelope, declared (at once, before any of it is read) or streamed (as soon as it
grows past the bound, long before the client has sent it all)."""

from __future__ import annotations

import selectors
import socket
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner

from uniqodo_mock.cli import cli
from uniqodo_mock.mock.runtime import MockConfig
from uniqodo_mock.testing.mock import RunningMock, running_mock

LIMIT = 1_048_576


@pytest.fixture(scope="module")
def mock(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningMock]:
    db = tmp_path_factory.mktemp("admin-bodies") / "state.db"
    config = MockConfig(db_url=f"sqlite:///{db}", dispatch_callbacks=False)
    config.admin_max_body_bytes = LIMIT
    with running_mock(config) as running:
        yield running


def _connect(url: str) -> socket.socket:
    parts = urlsplit(url)
    return socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 80), timeout=10)


def _read_answer(sock: socket.socket) -> bytes:
    answer = b""
    while b"\r\n\r\n" not in answer:
        chunk = sock.recv(65536)
        if not chunk:
            break
        answer += chunk
    return answer


def test_a_declared_body_over_the_bound_is_refused_before_it_is_sent(mock: RunningMock) -> None:
    with _connect(mock.url) as sock:
        # 100 MB announced, not one byte of it sent: the answer comes at once.
        sock.sendall(
            b"PUT /__admin/fixtures HTTP/1.1\r\nHost: x\r\nContent-Type: text/yaml\r\n"
            b"Content-Length: 104857600\r\n\r\n"
        )
        answer = _read_answer(sock)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b'"code":334' in answer or b"334" in answer


def test_a_streamed_body_is_refused_once_it_grows_past_the_bound(mock: RunningMock) -> None:
    chunk = b"x" * 65536
    framed = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    sent = 0
    with _connect(mock.url) as sock:
        sock.sendall(
            b"PUT /__admin/fixtures HTTP/1.1\r\nHost: x\r\nContent-Type: text/yaml\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
        )
        sock.setblocking(False)
        selector = selectors.DefaultSelector()
        selector.register(sock, selectors.EVENT_READ | selectors.EVENT_WRITE)
        answer = b""
        try:
            # Up to 100 MB, stopping as soon as the server answers (or closes).
            while sent < 100 * LIMIT and b"\r\n\r\n" not in answer:
                for _key, events in selector.select(timeout=10):
                    if events & selectors.EVENT_READ:
                        try:
                            data = sock.recv(65536)
                        except ConnectionResetError:
                            data = b""
                        if not data:
                            raise EOFError
                        answer += data
                    elif events & selectors.EVENT_WRITE:
                        try:
                            sent += sock.send(framed)
                        except (BrokenPipeError, ConnectionResetError):
                            raise EOFError from None
        except EOFError:
            pass
        finally:
            selector.close()
    assert answer.startswith(b"HTTP/1.1 413"), (sent, answer[:200])
    # Refused near the bound, not after the whole upload (socket buffers add some slack).
    assert sent < 16 * LIMIT, sent


def test_a_body_within_the_bound_still_reaches_the_admin_api(mock: RunningMock) -> None:
    with mock.client() as http:
        response = http.put(
            "/__admin/fixtures",
            content=b"not: [a fixture document" + b" " * (LIMIT // 2),
            headers={"content-type": "text/yaml"},
        )
    assert response.status_code == 400, response.text  # the loader's answer, not a 413


def test_the_admin_bound_is_an_option_of_serve() -> None:
    result = CliRunner().invoke(cli, ["serve", "--help"])
    assert "--admin-max-body-bytes" in result.output
    assert "UNIQODO_MOCK_ADMIN_MAX_BODY_BYTES" in result.output


def test_the_default_admin_bound_refuses_a_100_mb_upload(tmp_path: Path) -> None:
    config = MockConfig(db_url=f"sqlite:///{tmp_path / 'state.db'}", dispatch_callbacks=False)
    assert config.admin_max_body_bytes < 100_000_000
    with running_mock(config) as running, _connect(running.url) as sock:
        sock.sendall(
            b"PUT /__admin/snapshot HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 100000000\r\n\r\n"
        )
        assert _read_answer(sock).startswith(b"HTTP/1.1 413")
