"""Run a mock in this process for a test or a QA script: ``with running_mock(config) as m``.

It listens on a free port of 127.0.0.1 in a background thread; readiness is
``GET /__admin/health`` answering, never a fixed sleep. ``m.stop()`` stops it early (to
simulate a restart, say); leaving the block stops it too.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
import uvicorn

from uniqodo_mock.mock.app import create_app
from uniqodo_mock.mock.runtime import MockConfig, MockRuntime

__all__ = ["RunningMock", "running_mock"]


@dataclass
class RunningMock:
    url: str
    runtime: MockRuntime
    server: uvicorn.Server
    thread: threading.Thread

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(30)


@contextmanager
def running_mock(config: MockConfig, *, ready_timeout: float = 30.0) -> Iterator[RunningMock]:
    app = create_app(config)
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host="127.0.0.1",
            port=0,
            log_level="warning",
            access_log=False,
            lifespan="on",
            timeout_graceful_shutdown=2,
        )
    )
    thread = threading.Thread(target=server.run, name="mock-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + ready_timeout
    while not (server.started and server.servers):
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the mock did not start")
        time.sleep(0.01)
    url = f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    while True:  # the condition: the health endpoint answers
        try:
            if httpx.get(f"{url}/__admin/health", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError("the mock's health endpoint did not answer")
        time.sleep(0.01)
    running = RunningMock(url, app.runtime, server, thread)  # type: ignore[attr-defined]
    try:
        yield running
    finally:
        running.stop()
        app.runtime.engine.dispose()  # type: ignore[attr-defined]
