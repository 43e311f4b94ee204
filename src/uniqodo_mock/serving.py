"""Serve an ASGI app on a free port of 127.0.0.1 in a background thread, and wait on health.

The one implementation behind ``mock.testing.running_mock``, ``receiver.testing.running_receiver``
and the subprocess helpers of the tests and benchmarks. Readiness is always a condition (the
health endpoint answers 200) polled against a deadline, never a fixed sleep.

Every server of the package (``serve``, ``receiver``, ``up``, the workers, the threaded
servers) gets its uvicorn configuration from ``server_config``, which bounds connections before
any request reaches an app (``ConnectionLimits``, x-source: simulator):

* a request's head (request line and headers) must arrive within ``head_timeout`` seconds of
  the connection opening or of the previous response's end, and hold at most
  ``max_head_bytes``; otherwise the connection is closed (slowloris). The head timer also
  bounds a body the app did not read, once the answer is sent. Bodies the app reads have
  their own timeout in the app (``mock/limits.py``, ``receiver/recorder.py``): a 408 there.
* at most ``max_connections`` connections are open at once (per process); one more is
  answered 503 in the vendor's envelope and closed.

uvicorn's ``limit_concurrency`` answers 503 only once a request's head has arrived, so it
bounds neither slow heads nor idle connections: the bound is enforced as connections open, by
the protocol classes below (uvicorn's own, passed as ``Config(http=...)``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from uniqodo_mock.core.errors import default_catalogue

__all__ = [
    "DEFAULT_HEAD_TIMEOUT",
    "DEFAULT_MAX_CONNECTIONS",
    "BoundedH11Protocol",
    "ConnectionLimits",
    "ServerConfig",
    "ThreadedServer",
    "free_port",
    "run_server",
    "serve_in_thread",
    "serve_workers",
    "server_config",
    "wait_healthy",
]

logger = logging.getLogger("uniqodo_mock.serving")

DEFAULT_HEAD_TIMEOUT = 10.0
DEFAULT_MAX_CONNECTIONS = 1000


@dataclass(frozen=True)
class ConnectionLimits:
    """x-source: simulator. What one connection may cost before its request reaches the app."""

    # Seconds from the connection's start (or the previous response's end) to a whole head.
    head_timeout: float = DEFAULT_HEAD_TIMEOUT
    # Bytes a request head may hold (request line and headers).
    max_head_bytes: int = 65_536
    # Connections open at once, per process; one more gets 503 and is closed.
    max_connections: int = DEFAULT_MAX_CONNECTIONS


def _busy_answer() -> bytes:
    entry = default_catalogue()["service_unavailable"]
    body = orjson.dumps(
        {
            "data": None,
            "errors": [
                {
                    "code": entry.code,
                    "message": f"{entry.message(None)} Too many open connections.",
                    "promotion_specific_error": None,
                    "reference": None,
                }
            ],
            "result": "failure",
        }
    )
    head = (
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n"
        f"retry-after: 1\r\nconnection: close\r\ncontent-length: {len(body)}\r\n\r\n"
    )
    return head.encode("ascii") + body


class _OpenConnections:
    """How many connections a server (one process's copy of its config) holds open."""

    def __init__(self) -> None:
        self.count = 0


class ServerConfig(uvicorn.Config):
    """uvicorn's ``Config`` with the connection limits its protocol enforces."""

    def __init__(self, app: Any, *, limits: ConnectionLimits, **options: Any) -> None:
        options.setdefault("http", _bounded_protocol())
        # h11 enforces the head's size itself; the other protocol counts in _Bounded.
        options.setdefault("h11_max_incomplete_event_size", limits.max_head_bytes)
        super().__init__(app, **options)
        self.connection_limits = limits
        self.open_connections = _OpenConnections()

    def __getstate__(self) -> dict[str, Any]:
        # A worker process gets its own count (the supervisor's copy holds no connection).
        state = dict(self.__dict__)
        state["open_connections"] = _OpenConnections()
        return state


def server_config(
    app: Any, *, limits: ConnectionLimits | None = None, **options: Any
) -> ServerConfig:
    """The uvicorn configuration of every server of the package: ``options`` are
    ``uvicorn.Config``'s (host, port, log_level, ...); ``limits`` bound its connections."""
    options.setdefault("access_log", False)
    return ServerConfig(app, limits=limits or ConnectionLimits(), **options)


class _Bounded(asyncio.Protocol):
    """The connection bounds, over one of uvicorn's HTTP protocol classes (the next class in
    the MRO): a head timer, the head's size (for the protocol that does not bound it) and the
    number of open connections."""

    app: Any

    def __init__(self, config: uvicorn.Config, *args: Any, **kwargs: Any) -> None:
        super().__init__(config, *args, **kwargs)  # type: ignore[call-arg]
        self._limits: ConnectionLimits = getattr(config, "connection_limits", ConnectionLimits())
        self._open: _OpenConnections = getattr(config, "open_connections", _OpenConnections())
        self._transport: asyncio.Transport | None = None
        self._refused = False
        self._head_timer: asyncio.TimerHandle | None = None
        self._head_bytes = 0
        self._counting = True
        self._tail = b""
        inner = self.app

        async def app(scope: Any, receive: Any, send: Any) -> None:
            # The protocol calls the app once a head is whole: its timer stops.
            self._stop_head_timer()
            await inner(scope, receive, send)

        self.app = app

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, but have its methods.
        self._transport = transport  # type: ignore[assignment]
        if self._open.count >= self._limits.max_connections:
            self._refused = True
            logger.debug("refused a connection: %d already open", self._open.count)
            transport.write(_BUSY_ANSWER)  # type: ignore[attr-defined]
            transport.close()
            return
        self._open.count += 1
        super().connection_made(transport)
        self._start_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._refused:
            return
        self._open.count -= 1
        self._stop_head_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        if self._head_timer is not None and self._counting:
            # Up to the blank line that ends the head (the body that may follow is the
            # app's to bound); the last bytes seen are kept for a line split across reads.
            seen = self._tail + data
            end = seen.find(b"\r\n\r\n")
            self._head_bytes += len(data) if end < 0 else max(0, end - len(self._tail))
            if self._head_bytes > self._limits.max_head_bytes:
                self._close("its head grew beyond the limit")
                return
            if end >= 0:
                self._counting = False
            self._tail = seen[-3:]
        super().data_received(data)

    def on_response_complete(self) -> None:
        super().on_response_complete()  # type: ignore[misc]
        if self._transport is not None and not self._transport.is_closing():
            self._start_head_timer()

    def _start_head_timer(self) -> None:
        self._stop_head_timer()
        self._head_bytes = 0
        self._counting = True
        self._tail = b""
        loop = asyncio.get_running_loop()
        self._head_timer = loop.call_later(
            self._limits.head_timeout, self._close, "no whole request head in time"
        )

    def _stop_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _close(self, why: str) -> None:
        self._head_timer = None
        if self._transport is not None and not self._transport.is_closing():
            logger.debug("closing a connection: %s", why)
            self._transport.close()


_BUSY_ANSWER = _busy_answer()


class BoundedH11Protocol(_Bounded, H11Protocol):
    """uvicorn's h11 protocol with the connection bounds."""


try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
except ImportError:  # pragma: no cover - httptools is optional for uvicorn
    _BoundedFast: type[asyncio.Protocol] = BoundedH11Protocol
else:

    class BoundedHttpToolsProtocol(_Bounded, HttpToolsProtocol):
        """uvicorn's httptools protocol with the connection bounds."""

    _BoundedFast = BoundedHttpToolsProtocol


def _bounded_protocol() -> type[asyncio.Protocol]:
    """The bounded protocol over the one uvicorn's ``auto`` would pick (httptools when
    installed, else h11)."""
    return _BoundedFast


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
    limits: ConnectionLimits | None = None,
    **options: Any,
) -> Iterator[ThreadedServer]:
    """Yield once ``app`` listens and ``GET health_path`` answers 200; stop it on exit.

    ``graceful_timeout`` is short so a request held open (a latency fault, a live stream)
    cannot hold up the end of a test. ``options``: more of ``uvicorn.Config``'s.
    """
    server = uvicorn.Server(
        server_config(
            app,
            limits=limits,
            host="127.0.0.1",
            port=0,
            log_level="warning",
            lifespan="on",
            timeout_graceful_shutdown=graceful_timeout,
            **options,
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


def run_server(app: Any, *, limits: ConnectionLimits | None = None, **options: Any) -> None:
    """Serve ``app`` in this process until stopped (as ``uvicorn.run``, with the limits)."""
    import sys

    from uvicorn.config import STARTUP_FAILURE

    server = uvicorn.Server(server_config(app, limits=limits, **options))
    # Ctrl-C: uvicorn stops gracefully, then raises the signal again.
    with contextlib.suppress(KeyboardInterrupt):
        server.run()
    if not server.started:
        sys.exit(STARTUP_FAILURE)


def serve_workers(
    app_factory: str,
    *,
    workers: int,
    limits: ConnectionLimits | None = None,
    **options: Any,
) -> int:
    """Serve ``workers`` processes of the app that the factory ``app_factory`` (an import
    string, ``"module:function"``) builds, under uvicorn's supervisor, until stopped; the
    exit status for the command: 1 when a worker could not start (the supervisor then stops
    them all), else 0. ``options``: ``uvicorn.Config``'s (host, port, log_level, ...);
    ``limits`` hold in each worker."""
    from uvicorn.config import STARTUP_FAILURE
    from uvicorn.supervisors import Multiprocess

    config = server_config(app_factory, limits=limits, factory=True, workers=workers, **options)
    supervisor = Multiprocess(config, sockets=[config.bind_socket()])
    supervisor.run()
    failed = any(process.exitcode == STARTUP_FAILURE for process in supervisor.processes)
    return 1 if failed else 0
