"""A live mock per test (real HTTP on a free port, real database) and its admin client."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
import uvicorn

from uniqodo_mock.admin_client import AdminClient
from uniqodo_mock.mock.app import create_app
from uniqodo_mock.mock.runtime import MockConfig

MERCHANT_KEY = "64a287ae534cf1bd58f45f3e23de9d433caec669"
DISTRIBUTOR_KEY = "6c702c6989223420f4ddde4e19da4016b2f9f54c"


@dataclass
class LiveMock:
    url: str
    app: object
    admin: AdminClient

    def get(self, path: str, **kwargs: object) -> httpx.Response:
        return httpx.get(self.url + path, timeout=10, **kwargs)  # type: ignore[arg-type]


def _serve(db_url: str) -> Iterator[LiveMock]:
    app = create_app(MockConfig(db_url=db_url))
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_level="critical", access_log=False)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not (server.started and server.servers):
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the mock did not start")
        time.sleep(0.01)
    url = f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    admin = AdminClient(url)
    admin.wait_ready(deadline=15)
    try:
        yield LiveMock(url, app, admin)
    finally:
        admin.close()
        server.should_exit = True
        thread.join(15)
        app.runtime.engine.dispose()  # type: ignore[attr-defined]


@pytest.fixture
def mock(db_url: str) -> Iterator[LiveMock]:
    """A live mock on SQLite and on PostgreSQL."""
    yield from _serve(db_url)


@pytest.fixture
def sqlite_mock(sqlite_url: str) -> Iterator[LiveMock]:
    """A live mock on SQLite only: for behaviour that does not depend on the database."""
    yield from _serve(sqlite_url)
