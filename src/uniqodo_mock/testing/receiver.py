"""Run a receiver in this process for a test or a QA script: ``with running_receiver(s) as r``.

The server listens on a free port of 127.0.0.1 (port 0) in a background thread; readiness is
``GET /__receiver/health`` answering, never a fixed sleep.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import uvicorn
from starlette.applications import Starlette

from uniqodo_mock.receiver.app import create_receiver_app
from uniqodo_mock.receiver.client import ReceiverClient
from uniqodo_mock.receiver.settings import ReceiverSettings
from uniqodo_mock.serving import ConnectionLimits, serve_in_thread

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
    settings: ReceiverSettings,
    *,
    ready_timeout: float = 15.0,
    limits: ConnectionLimits | None = None,
) -> Iterator[RunningReceiver]:
    app = create_receiver_app(settings)
    with serve_in_thread(
        app,
        health_path="/__receiver/health",
        name="receiver-server",
        ready_timeout=ready_timeout,
        limits=limits,
    ) as served:
        try:
            yield RunningReceiver(served.url, app, served.server)
        finally:
            app.state.receiver.closing = True  # ends live streams so shutdown is quick
