"""N worker processes forked from one parent, serving one listening socket with uvicorn.

``uvicorn --workers N`` spawns each worker as a new interpreter, which imports everything again
and rebuilds all the parent already had (~1 s per worker, the workers competing for the same CPUs
at start). Forked workers inherit the parent's imports and caches instead, so the parent prepares
once what every worker needs and each worker only builds its own app (its own database engine,
journal, dispatcher) from ``app_factory``.

The parent only supervises: a worker that dies is replaced; a worker that fails before it starts
serving stops them all (the app or the socket is broken, a new worker would fail the same way);
SIGINT/SIGTERM stop the workers gracefully (a second one kills them); SIGHUP replaces them all.
The parent must hold no threads, event loop or open database connections when it forks.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["STARTUP_FAILURE", "serve_forked"]

logger = logging.getLogger("uniqodo_mock")

# A worker's exit status when it ended before serving (uvicorn's own code for that case).
STARTUP_FAILURE = 3
_HANDLED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGCHLD)


@dataclass
class _Supervisor:
    app_factory: Callable[[], Any]
    uvicorn_options: dict[str, Any]
    workers: int
    pids: set[int] = field(default_factory=set)
    stopping: int = 0  # stop requests received (the second one kills)
    failed: bool = False
    wake: threading.Event = field(default_factory=threading.Event)
    pending: list[int] = field(default_factory=list)

    def run(self) -> int:
        import uvicorn

        config = uvicorn.Config(self.app_factory, factory=True, **self.uvicorn_options)
        _import_protocols(config)
        sock = config.bind_socket()
        previous = {number: signal.signal(number, self._on_signal) for number in _HANDLED}
        try:
            for _ in range(self.workers):
                self._fork(config, sock)
            while self.pids:
                self._reap(config, sock)
                self._handle_signals()
                if self.pids:
                    # A signal (SIGCHLD included) sets ``wake``; the timeout is a safety net.
                    self.wake.wait(1.0)
                    self.wake.clear()
        finally:
            for number, handler in previous.items():
                signal.signal(number, handler)
            sock.close()
        return 1 if self.failed else 0

    def _on_signal(self, number: int, _frame: Any) -> None:
        self.pending.append(number)
        self.wake.set()

    def _handle_signals(self) -> None:
        while self.pending:
            number = self.pending.pop(0)
            if number in (signal.SIGINT, signal.SIGTERM):
                self.stopping += 1
                self._signal_workers(signal.SIGTERM if self.stopping == 1 else signal.SIGKILL)
            elif number == signal.SIGHUP and not self.stopping:
                logger.info("SIGHUP: replacing the workers")
                self._signal_workers(signal.SIGTERM)

    def _signal_workers(self, number: int) -> None:
        for pid in self.pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, number)

    def _reap(self, config: Any, sock: Any) -> None:
        while self.pids:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                self.pids.clear()
                return
            if pid == 0:
                return
            if pid not in self.pids:
                continue
            self.pids.discard(pid)
            code = os.waitstatus_to_exitcode(status)
            if self.stopping:
                continue
            if code == STARTUP_FAILURE:
                logger.error("worker %d failed to start; stopping", pid)
                self.failed = True
                self.stopping = 1
                self._signal_workers(signal.SIGTERM)
                continue
            logger.info("worker %d ended (status %d); starting another", pid, code)
            self._fork(config, sock)

    def _fork(self, config: Any, sock: Any) -> None:
        pid = os.fork()
        if pid:
            self.pids.add(pid)
            return
        os._exit(_work(config, sock))  # the worker never returns into the parent's code


def _import_protocols(config: Any) -> None:
    """Import the protocol, lifespan and event-loop classes each worker's ``Config.load`` would
    import for itself (~30 ms each), once, before forking. Best effort: these tables are
    uvicorn's, and a name missing from them only means the workers import it themselves."""
    from uvicorn import config as uvicorn_config
    from uvicorn.importer import import_from_string

    choices = (
        ("HTTP_PROTOCOLS", config.http),
        ("WS_PROTOCOLS", config.ws),
        ("LIFESPAN", config.lifespan),
        ("LOOP_FACTORIES", config.loop),
        ("LOOP_SETUPS", config.loop),
    )
    for table_name, choice in choices:
        target = (
            getattr(uvicorn_config, table_name, {}).get(choice) if isinstance(choice, str) else None
        )
        if isinstance(target, str):
            with contextlib.suppress(Exception):
                import_from_string(target)


def _work(config: Any, sock: Any) -> int:
    """One worker: build the app, serve until told to stop. Returns the exit status."""
    for number in _HANDLED:
        signal.signal(number, signal.SIG_DFL)
    import uvicorn

    server = uvicorn.Server(config)
    try:
        server.run(sockets=[sock])
    except SystemExit as exit_:  # uvicorn exits so when the app cannot be loaded
        if not server.started:
            return STARTUP_FAILURE
        return exit_.code if isinstance(exit_.code, int) else 1
    except BaseException:
        traceback.print_exc()
        return 1 if server.started else STARTUP_FAILURE
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
    return 0 if server.started else STARTUP_FAILURE


def serve_forked(app_factory: Callable[[], Any], *, workers: int, **uvicorn_options: Any) -> int:
    """Serve ``app_factory()``'s app from ``workers`` forked processes until stopped; returns the
    exit status for the command (1 when a worker could not start). ``uvicorn_options`` are
    ``uvicorn.Config``'s (host, port, log_level, ...)."""
    return _Supervisor(app_factory, uvicorn_options, workers).run()
