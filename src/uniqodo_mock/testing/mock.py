"""Run a mock in this process for a test or a QA script: ``with running_mock(config) as mock``.

uvicorn serves ``create_app`` on a free port of 127.0.0.1 (port 0) in a background thread;
readiness is ``GET /__admin/health`` answering, never a fixed sleep. ``mock.stop()`` stops it
early (to simulate a restart, say); leaving the block stops it too.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import uvicorn

from uniqodo_mock.admin_client import AdminClient
from uniqodo_mock.mock.app import MockApp, create_app
from uniqodo_mock.mock.runtime import MockConfig, MockRuntime
from uniqodo_mock.serving import ConnectionLimits, serve_in_thread

__all__ = ["DISTRIBUTOR_KEY", "MERCHANT_KEY", "RunningMock", "running_mock"]

# Keys of the default fixtures (merchant 1 / distributor 102, and distributor 103).
MERCHANT_KEY = "64a287ae534cf1bd58f45f3e23de9d433caec669"
DISTRIBUTOR_KEY = "6c702c6989223420f4ddde4e19da4016b2f9f54c"


@dataclass
class RunningMock:
    url: str
    app: MockApp
    server: uvicorn.Server
    thread: threading.Thread
    # The mock's admin API: controls (``.clock``, ``.faults``, ``.journal``, ``.reset()``) and
    # raw requests relative to ``/__admin`` (``.get("/health")``).
    admin: AdminClient

    @property
    def runtime(self) -> MockRuntime:
        return self.app.runtime

    def client(self) -> httpx.Client:
        """A new HTTP client on the mock's root (close it, or use it as a context manager)."""
        return httpx.Client(base_url=self.url, timeout=30)

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        """One GET on the mock's root, e.g. ``mock.get("/code/KEY/4883?uid=u")``."""
        kwargs.setdefault("timeout", 10)
        return httpx.get(self.url + path, **kwargs)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(30)


@contextmanager
def running_mock(
    config: MockConfig, *, ready_timeout: float = 30.0, limits: ConnectionLimits | None = None
) -> Iterator[RunningMock]:
    app = create_app(config)
    try:
        with serve_in_thread(
            app,
            health_path="/__admin/health",
            name="mock-server",
            ready_timeout=ready_timeout,
            limits=limits,
        ) as served:
            admin = AdminClient(served.url, token=config.admin_token)
            running = RunningMock(served.url, app, served.server, served.thread, admin)
            try:
                yield running
            finally:
                admin.close()
    finally:
        app.runtime.close()
