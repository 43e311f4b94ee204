"""``serve --workers N``: workers forked from the parent (uniqodo_mock/prefork.py). Each worker
answers from its own process; a dead worker is replaced; SIGTERM stops them all; a worker that
cannot start stops the command with status 1."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from tests.live.servers import mock_server

from uniqodo_mock.serving import free_port

pytestmark = pytest.mark.slow

KEY = "64a287ae534cf1bd58f45f3e23de9d433caec669"

# A tiny app served by serve_forked: answers its worker's pid; APP_FAILS makes the factory fail.
_SERVER = """
import os, sys
from uniqodo_mock.prefork import serve_forked

def factory():
    if os.environ.get("APP_FAILS"):
        raise RuntimeError("the app cannot be built")
    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": str(os.getpid()).encode()})
    return app

sys.exit(serve_forked(factory, workers=2, host="127.0.0.1", port=int(sys.argv[1]),
                      log_level="warning"))
"""


def _wait_for(condition: Callable[[], object], what: str, timeout: float = 60) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _children(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if int(stat[1]) == pid and stat[0] != "Z":
                found.add(int(entry.name))
    return found


@contextmanager
def _forked_server(
    env: dict[str, str] | None = None,
) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-c", _SERVER, str(port)],
        env={**os.environ, **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        yield process, f"http://127.0.0.1:{port}/"
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(10)


def _answer(url: str) -> int | None:
    try:
        return int(httpx.get(url, timeout=2).text)
    except httpx.HTTPError:
        return None


def test_workers_answer_from_forked_children_and_a_dead_one_is_replaced() -> None:
    with _forked_server() as (process, url):
        _wait_for(lambda: _answer(url), "the first answer")
        workers = _wait_for(
            lambda: len(_children(process.pid)) == 2 and _children(process.pid), "two workers"
        )
        assert isinstance(workers, set)
        assert _answer(url) in workers
        victim = min(workers)
        os.kill(victim, signal.SIGKILL)
        replaced = _wait_for(
            lambda: (kids := _children(process.pid)) - workers and len(kids) == 2 and kids,
            "a replacement worker",
        )
        assert isinstance(replaced, set)
        assert victim not in replaced
        assert _wait_for(lambda: _answer(url), "an answer after the replacement") in replaced
        assert process.poll() is None

        process.send_signal(signal.SIGTERM)
        assert process.wait(30) == 0
        # The parent returned only after reaping its workers: none is left running.
        assert not [pid for pid in replaced if Path(f"/proc/{pid}").exists()]


def test_a_worker_that_cannot_start_stops_the_command() -> None:
    with _forked_server({"APP_FAILS": "1"}) as (process, _url):
        assert process.wait(60) == 1
        assert process.stderr is not None
        assert b"the app cannot be built" in process.stderr.read()


def test_serve_with_two_workers_serves_fixtures_and_stops_on_sigterm(tmp_path: Path) -> None:
    with mock_server(f"sqlite:///{tmp_path}/state.db", "--workers", "2") as server:
        workers = _wait_for(lambda: len(_children(server.process.pid)) == 2, "two workers")
        assert workers
        answer = httpx.get(f"{server.url}/code/{KEY}/4883?uid=forked@example.com", timeout=10)
        assert answer.status_code == 200
        assert answer.json()["result"] == "success"
        server.process.send_signal(signal.SIGTERM)
        assert server.process.wait(30) == 0
