"""Serve an ASGI app on a free port of 127.0.0.1 in a background thread, and wait on health.

The one implementation behind ``mock.testing.running_mock``, ``receiver.testing.running_receiver``
and the subprocess helpers of the tests and benchmarks. Readiness is always a condition (the
health endpoint answers 200) polled against a deadline, never a fixed sleep.
"""

from __future__ import annotations

import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import uvicorn

__all__ = ["ThreadedServer", "free_port", "serve_in_thread", "serve_workers", "wait_healthy"]


def free_port() -> int:
    """A port of 127.0.0.1 that was free a moment ago (for servers started as subprocesses;
    in-process servers bind port 0 instead, which cannot race)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_healthy(
    url: str, *, process: subprocess.Popen[Any] | None = None, timeout: float = 60.0
) -> None:
    """Poll ``url`` until it answers 200, within ``timeout`` seconds; fail at once when
    ``process`` (the server, if it is a subprocess) has exited."""
    deadline = time.monotonic() + timeout
    with httpx.Client(timeout=2) as probe:
        while True:
            if process is not None and process.poll() is not None:
                raise RuntimeError(f"the server exited with {process.returncode}")
            try:
                if probe.get(url).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{url} did not answer 200 within {timeout:g} s")
            time.sleep(0.02)


@dataclass
class ThreadedServer:
    url: str
    server: uvicorn.Server
    thread: threading.Thread

    def stop(self, timeout: float = 30.0) -> None:
        self.server.should_exit = True
        self.thread.join(timeout)


@contextmanager
def serve_in_thread(
    app: Any,
    *,
    health_path: str,
    name: str = "server",
    ready_timeout: float = 30.0,
    graceful_timeout: int = 1,
) -> Iterator[ThreadedServer]:
    """Yield once ``app`` listens and ``GET health_path`` answers 200; stop it on exit.

    ``graceful_timeout`` is short so a request held open (a latency fault, a live stream)
    cannot hold up the end of a test.
    """
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host="127.0.0.1",
            port=0,
            log_level="warning",
            access_log=False,
            lifespan="on",
            timeout_graceful_shutdown=graceful_timeout,
        )
    )
    thread = threading.Thread(target=server.run, name=name, daemon=True)
    thread.start()
    deadline = time.monotonic() + ready_timeout
    while not (server.started and server.servers):  # the condition: the socket is bound
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError(f"the {name} did not start")
        time.sleep(0.01)
    url = f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    running = ThreadedServer(url, server, thread)
    try:
        wait_healthy(url + health_path, timeout=max(1.0, deadline - time.monotonic()))
        yield running
    finally:
        running.stop()


def serve_workers(app_factory: str, *, workers: int, **options: Any) -> int:
    """Serve ``workers`` processes of the app that the factory ``app_factory`` (an import
    string, ``"module:function"``) builds, under uvicorn's supervisor, until stopped; the
    exit status for the command: 1 when a worker could not start (the supervisor then stops
    them all), else 0. ``options``: ``uvicorn.Config``'s (host, port, log_level, ...)."""
    from uvicorn.config import STARTUP_FAILURE
    from uvicorn.supervisors import Multiprocess

    config = uvicorn.Config(app_factory, factory=True, workers=workers, **options)
    supervisor = Multiprocess(config, sockets=[config.bind_socket()])
    supervisor.run()
    failed = any(process.exitcode == STARTUP_FAILURE for process in supervisor.processes)
    return 1 if failed else 0
