"""Helpers shared by the mock's tests: an in-process client and a live server."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
from starlette.testclient import TestClient

from uniqodo_mock.mock.app import create_app
from uniqodo_mock.mock.runtime import MockConfig

REPO = Path(__file__).resolve().parents[1]
MERCHANT_KEY = "64a287ae534cf1bd58f45f3e23de9d433caec669"
OTHER_MERCHANT_KEY = "50d858e0985ecc7f60418aaf0cc5ab587f42c257"
CODE_API_KEY = "6c702c6989223420f4ddde4e19da4016b2f9f54c"
PROMOTION = "0821f4190897965c33eaca7954db5f23"


@contextlib.contextmanager
def mock_client(db_url: str, fixtures: Path | None = None) -> Iterator[TestClient]:
    app = create_app(MockConfig(db_url=db_url, fixtures=fixtures, dispatch_callbacks=False))
    with TestClient(app, raise_server_exceptions=False) as client:
        client.app_ref = app  # type: ignore[attr-defined]
        yield client
    app.runtime.engine.dispose()  # type: ignore[attr-defined]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_ready(
    url: str, process: subprocess.Popen[bytes] | None = None, timeout: float = 30
) -> None:
    """Poll ``url`` until it answers 200 (fails early if the process died)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(
                f"server exited with {process.returncode}: {process.stderr.read().decode() if process.stderr else ''}"
            )
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise TimeoutError(f"{url} not ready after {timeout}s")


@contextlib.contextmanager
def live_mock(db_url: str, *extra: str) -> Iterator[str]:
    """``uniqodo-mock serve`` as a subprocess on a free port; yields its base URL."""
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uniqodo_mock",
            "serve",
            "--port",
            str(port),
            "--db",
            db_url,
            *extra,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(f"{base}/__admin/health", process)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
