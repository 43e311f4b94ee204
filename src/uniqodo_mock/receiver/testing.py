"""Run a receiver in this process for a test or a QA script: ``with running_receiver(s) as r``.

The server listens on a free port of 127.0.0.1 (port 0) in a background thread; readiness is
``GET /__receiver/health`` answering, never a fixed sleep.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
import uvicorn
from starlette.applications import Starlette

from uniqodo_mock.receiver.app import create_receiver_app
from uniqodo_mock.receiver.client import ReceiverClient
from uniqodo_mock.receiver.settings import ReceiverSettings

__all__ = ["RunningReceiver", "running_receiver"]


@dataclass
class RunningReceiver:
    url: str
    app: Starlette
    server: uvicorn.Server

    def client(self, token: str | None = None) -> ReceiverClient:
        return ReceiverClient(self.url, token=token)


@contextmanager
def running_receiver(
    settings: ReceiverSettings, *, ready_timeout: float = 15.0
) -> Iterator[RunningReceiver]:
    app = create_receiver_app(settings)
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=0,
        log_level="warning",
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="receiver-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + ready_timeout
    while not (server.started and server.servers):
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the receiver did not start")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    while True:  # the condition: the health endpoint answers
        try:
            if httpx.get(f"{url}/__receiver/health", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError("the receiver's health endpoint did not answer")
        time.sleep(0.01)
    try:
        yield RunningReceiver(url, app, server)
    finally:
        app.state.receiver.closing = True  # ends live streams so shutdown is quick
        server.should_exit = True
        thread.join(15)
