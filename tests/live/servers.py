"""Start ``uniqodo-mock serve`` as a real subprocess on a free port and wait for its health
endpoint: the replicas, worker and fault tests share this."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx

__all__ = ["MockProcess", "free_port", "mock_server", "start_mock", "wait_healthy"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class MockProcess:
    url: str
    process: subprocess.Popen[bytes]

    def kill(self) -> None:
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()


def wait_healthy(url: str, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    """Poll ``/__admin/health`` until it answers 200 (the condition), within a deadline."""
    deadline = time.monotonic() + timeout
    with httpx.Client(timeout=2) as probe:
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the mock exited with {process.returncode}")
            try:
                if probe.get(f"{url}/__admin/health").status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the mock did not become healthy")
            time.sleep(0.05)


def start_mock(db_url: str, *args: str, env: dict[str, str] | None = None) -> MockProcess:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "uniqodo_mock", "serve", "--port", str(port), "--db", db_url, *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, **(env or {})},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, process)
    except BaseException:
        process.kill()
        process.wait(10)
        raise
    return MockProcess(url, process)


@contextmanager
def mock_server(
    db_url: str, *args: str, env: dict[str, str] | None = None
) -> Iterator[MockProcess]:
    server = start_mock(db_url, *args, env=env)
    try:
        yield server
    finally:
        server.stop()
