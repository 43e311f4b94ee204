"""Start ``uniqodo-mock serve`` (or ``receiver``) as a real subprocess on a free port and wait
for its health endpoint: the one subprocess helper of the tests (replicas, workers, faults,
persistence, contract, receiver crash tests)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from uniqodo_mock.serving import free_port, wait_healthy

__all__ = ["MockProcess", "free_port", "mock_server", "start_mock", "start_server"]


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


def start_server(
    command: str,
    db_url: str,
    *args: str,
    health_path: str = "/__admin/health",
    env: dict[str, str] | None = None,
) -> MockProcess:
    """``uniqodo-mock COMMAND --port P --db DB ARGS`` once ``health_path`` answers 200."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "uniqodo_mock", command, "--port", str(port), "--db", db_url, *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, **(env or {})},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url + health_path, process=process)
    except BaseException:
        process.kill()
        process.wait(10)
        raise
    return MockProcess(url, process)


def start_mock(db_url: str, *args: str, env: dict[str, str] | None = None) -> MockProcess:
    return start_server("serve", db_url, *args, env=env)


@contextmanager
def mock_server(
    db_url: str, *args: str, env: dict[str, str] | None = None
) -> Iterator[MockProcess]:
    server = start_mock(db_url, *args, env=env)
    try:
        yield server
    finally:
        server.stop()
