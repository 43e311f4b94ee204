"""Shared by tests/test_features_*.py: a mock over fixtures/features.yaml, and the keys."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import uvicorn

from uniqodo_mock.mock.app import create_app
from uniqodo_mock.mock.runtime import MockConfig

__all__ = [
    "DIST",
    "DIST103",
    "FEATURES",
    "MERCHANT",
    "MERCHANT2",
    "features_app",
    "running_features_mock",
]

FEATURES = Path(__file__).resolve().parents[1] / "fixtures" / "features.yaml"
MERCHANT = "64a287ae534cf1bd58f45f3e23de9d433caec669"  # merchant 1 and distributor 102
DIST = MERCHANT
DIST103 = "6c702c6989223420f4ddde4e19da4016b2f9f54c"
MERCHANT2 = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c"


def features_app(db_url: str):
    return create_app(MockConfig(db_url=db_url, fixtures=FEATURES, reset_fixtures=True))


@contextmanager
def running_features_mock(db_url: str) -> Iterator[tuple[str, object]]:
    """A live mock over features.yaml on a free port; yields (base URL, app) once
    ``/__admin/health`` answers."""
    app = features_app(db_url)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, name="features-mock", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not (server.started and server.servers):
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the mock did not start")
        time.sleep(0.01)  # polling a condition with a deadline, not dodging a race
    url = f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    while True:
        try:
            if httpx.get(f"{url}/__admin/health", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError("the mock's health endpoint did not answer")
        time.sleep(0.01)
    try:
        yield url, app
    finally:
        server.should_exit = True
        thread.join(15)
