"""Run a mock in this process for a test or a script: ``with running_mock(config) as mock``.

The server listens on a free port of 127.0.0.1 in a background thread; readiness is
``GET /__admin/health`` answering 200, never a fixed sleep.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import uvicorn

from uniqodo_mock.admin_client import AdminClient
from uniqodo_mock.mock.app import create_app
from uniqodo_mock.mock.runtime import MockConfig

__all__ = ["DISTRIBUTOR_KEY", "MERCHANT_KEY", "LiveMock", "running_mock"]

# Keys of the default fixtures.
MERCHANT_KEY = "64a287ae534cf1bd58f45f3e23de9d433caec669"
DISTRIBUTOR_KEY = "6c702c6989223420f4ddde4e19da4016b2f9f54c"


@dataclass
class LiveMock:
    url: str
    app: Any
    admin: AdminClient

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        kwargs.setdefault("timeout", 10)
        return httpx.get(self.url + path, **kwargs)


@contextmanager
def running_mock(config: MockConfig, *, ready_timeout: float = 20.0) -> Iterator[LiveMock]:
    app = create_app(config)
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host="127.0.0.1",
            port=0,
            log_level="critical",
            access_log=False,
            # Requests held by a latency fault must not hold up the shutdown.
            timeout_graceful_shutdown=1,
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
    admin = AdminClient(url, token=config.admin_token)
    admin.wait_ready(deadline=max(1.0, deadline - time.monotonic()))
    try:
        yield LiveMock(url, app, admin)
    finally:
        admin.close()
        server.should_exit = True
        thread.join(15)
        app.runtime.engine.dispose()
