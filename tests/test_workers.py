"""``serve --workers N``: workers under uvicorn's supervisor (``uniqodo_mock.serving.
serve_workers``). Each worker answers from its own process; a dead worker is replaced; SIGTERM
stops them all; a worker that cannot start stops the command with status 1; a supervisor
killed with SIGKILL takes its workers with it, so the port is free for the next start."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from tests.live.servers import mock_server

from uniqodo_mock.serving import free_port
from uniqodo_mock.testing import wait_until

pytestmark = pytest.mark.slow

KEY = "64a287ae534cf1bd58f45f3e23de9d433caec669"

# A tiny app for serve_workers: answers its worker's pid; APP_FAILS makes the factory fail.
_APP = """
import os

from uniqodo_mock.mock.workers import worker_start


def factory():
    with worker_start():
        if os.environ.get("APP_FAILS"):
            raise RuntimeError("the app cannot be built")

    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": str(os.getpid()).encode()})

    return app
"""
_SERVER = """
import os, sys
from uniqodo_mock.mock.workers import SUPERVISOR_PID
from uniqodo_mock.serving import serve_workers

os.environ[SUPERVISOR_PID] = str(os.getpid())
sys.exit(serve_workers("tiny_app:factory", workers=2, host="127.0.0.1", port=int(sys.argv[1]),
                       log_level="warning"))
"""


def _children(pid: int) -> set[int]:
    """The worker processes of ``pid`` (multiprocessing's helpers, such as its resource
    tracker, are not workers)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                command = (entry / "cmdline").read_bytes()
            except (OSError, IndexError):
                continue
            if int(stat[1]) == pid and stat[0] != "Z" and b"spawn_main" in command:
                found.add(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return False
    return stat[0] != "Z"


@contextmanager
def _supervised_server(
    tmp_path: Path, env: dict[str, str] | None = None
) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    (tmp_path / "tiny_app.py").write_text(_APP)
    port = free_port()
    path = os.pathsep.join(filter(None, [str(tmp_path), os.environ.get("PYTHONPATH")]))
    process = subprocess.Popen(
        [sys.executable, "-c", _SERVER, str(port)],
        env={**os.environ, "PYTHONPATH": path, **(env or {})},
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


def test_workers_answer_from_their_processes_and_a_dead_one_is_replaced(tmp_path: Path) -> None:
    with _supervised_server(tmp_path) as (process, url):
        wait_until(lambda: _answer(url), what="the first answer", timeout=60)
        workers = wait_until(
            lambda: len(_children(process.pid)) == 2 and _children(process.pid),
            what="two workers",
            timeout=60,
        )
        assert isinstance(workers, set)
        assert _answer(url) in workers
        victim = min(workers)
        os.kill(victim, signal.SIGKILL)
        replaced = wait_until(
            lambda: (kids := _children(process.pid)) - workers and len(kids) == 2 and kids,
            what="a replacement worker",
            timeout=60,
        )
        assert isinstance(replaced, set)
        assert victim not in replaced
        assert (
            wait_until(lambda: _answer(url), what="an answer after the replacement", timeout=60)
            in replaced
        )
        assert process.poll() is None

        process.send_signal(signal.SIGTERM)
        assert process.wait(30) == 0
        # The parent returned only after reaping its workers: none is left running.
        assert not [pid for pid in replaced if _alive(pid)]


def test_a_worker_that_cannot_start_stops_the_command(tmp_path: Path) -> None:
    with _supervised_server(tmp_path, {"APP_FAILS": "1"}) as (process, _url):
        assert process.wait(60) == 1
        assert process.stderr is not None
        assert b"the app cannot be built" in process.stderr.read()


def test_serve_with_two_workers_serves_fixtures_and_stops_on_sigterm(tmp_path: Path) -> None:
    with mock_server(f"sqlite:///{tmp_path}/state.db", "--workers", "2") as server:
        workers = wait_until(
            lambda: len(_children(server.process.pid)) == 2, what="two workers", timeout=60
        )
        assert workers
        answer = httpx.get(f"{server.url}/code/{KEY}/4883?uid=forked@example.com", timeout=10)
        assert answer.status_code == 200
        assert answer.json()["result"] == "success"
        server.process.send_signal(signal.SIGTERM)
        assert server.process.wait(30) == 0


def test_workers_end_when_their_supervisor_is_killed(tmp_path: Path) -> None:
    """SIGKILL gives the supervisor no chance to stop its workers: they must notice on their
    own and stop serving, and the port is free again for the next start."""
    port = free_port()
    db = f"sqlite:///{tmp_path}/state.db"
    command = [sys.executable, "-m", "uniqodo_mock", "serve", "--port", str(port), "--db", db]
    process = subprocess.Popen(
        [*command, "--workers", "2"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        workers = wait_until(
            lambda: len(_children(process.pid)) == 2 and _children(process.pid),
            what="two workers",
            timeout=60,
        )
        assert isinstance(workers, set)
        url = f"http://127.0.0.1:{port}/__admin/health"
        wait_until(lambda: _status(url) == 200, what="a healthy answer", timeout=60)
        process.kill()
        process.wait(10)
        wait_until(
            lambda: not any(_alive(pid) for pid in workers), what="the workers to end", timeout=30
        )
        wait_until(lambda: _status(url) is None, what="the port to stop answering", timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
    # The next start binds the same port and serves.
    with _restarted(command) as restarted:
        wait_until(lambda: _status(url) == 200, what="the restarted mock", timeout=60)
        assert restarted.poll() is None


@contextmanager
def _restarted(command: list[str]) -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield process
    finally:
        process.terminate()
        process.wait(30)


def _status(url: str) -> int | None:
    try:
        return httpx.get(url, timeout=2).status_code
    except httpx.HTTPError:
        return None
