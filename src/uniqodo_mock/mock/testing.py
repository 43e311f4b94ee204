"""Run a mock in this process for a test or a QA script: ``with running_mock(config) as mock``.

uvicorn serves ``create_app`` on a free port of 127.0.0.1 (port 0) in a background thread;
readiness is ``GET /__admin/health`` answering, never a fixed sleep. ``mock.stop()`` stops it
early (to simulate a restart, say); leaving the block stops it too.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import connexion
import httpx
import uvicorn

from uniqodo_mock.mock.app import create_app
from uniqodo_mock.mock.runtime import MockConfig, MockRuntime

__all__ = ["RunningMock", "running_mock"]


@dataclass
class RunningMock:
    url: str
    app: connexion.AsyncApp
    server: uvicorn.Server
    thread: threading.Thread
    # An HTTP client on the mock's admin API (``/__admin``), for partners' tests.
    admin: httpx.Client

    @property
    def runtime(self) -> MockRuntime:
        return self.app.runtime  # type: ignore[attr-defined]

    def client(self) -> httpx.Client:
        """A new HTTP client on the mock's root (close it, or use it as a context manager)."""
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
    headers = {"Authorization": f"Bearer {config.admin_token}"} if config.admin_token else {}
    admin = httpx.Client(base_url=f"{url}/__admin", headers=headers, timeout=30)
    while True:  # the condition: the health endpoint answers
        try:
            if admin.get("/health").status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError("the mock's health endpoint did not answer")
        time.sleep(0.01)
    running = RunningMock(url, app, server, thread, admin)
    try:
        yield running
    finally:
        admin.close()
        running.stop()
        runtime = running.runtime
        runtime.engine.dispose()
