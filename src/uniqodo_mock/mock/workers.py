"""The app of one worker process of ``serve --workers N``.

uvicorn's supervisor starts each worker as a new interpreter (and replaces workers that die or
hang); each builds its own app, with its own database engine, journal and dispatcher, from the
configuration the parent handed over (``MockConfig.export_to_environment``). The parent has
migrated the database and loaded the fixtures before the first worker starts.

A worker ends with its supervisor, even one killed with SIGKILL: otherwise orphaned workers
would go on serving the port, and the next start would fail with "Address already in use".
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import signal
import sys
import threading
from collections.abc import Iterator

from uvicorn.config import STARTUP_FAILURE

from uniqodo_mock.heap import settle_startup_heap
from uniqodo_mock.mock.app import MockApp, create_app
from uniqodo_mock.mock.runtime import MockConfig

__all__ = ["SUPERVISOR_PID", "worker_app", "worker_start"]

logger = logging.getLogger("uniqodo_mock")

# The supervisor's process id, set by ``serve`` before uvicorn starts the workers.
SUPERVISOR_PID = "UNIQODO_MOCK_SUPERVISOR_PID"
_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def worker_app() -> MockApp:
    """uvicorn's app factory in each worker."""
    with worker_start():
        app = create_app(MockConfig.from_environment())
    settle_startup_heap()
    return app


@contextlib.contextmanager
def worker_start() -> Iterator[None]:
    """What a worker's app factory runs in: the worker is tied to its supervisor's life, and
    an app that cannot be built ends the worker with uvicorn's "did not start" status, on
    which the supervisor stops instead of replacing the worker again and again."""
    _end_with_supervisor()
    try:
        yield
    except Exception:
        logger.exception("the worker could not build its app")
        raise SystemExit(STARTUP_FAILURE) from None


def _end_with_supervisor() -> None:
    supervisor = int(os.environ.get(SUPERVISOR_PID) or os.getppid())
    if sys.platform.startswith("linux"):
        # The kernel sends SIGTERM (uvicorn's graceful stop) when the parent dies.
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    else:
        threading.Thread(target=_watch, args=(supervisor,), daemon=True).start()
    if os.getppid() != supervisor:
        # The supervisor died before the request to be told took effect.
        raise SystemExit("the supervisor process is gone")


def _watch(supervisor: int) -> None:
    stopped = threading.Event()
    while not stopped.wait(1.0):
        if os.getppid() != supervisor:
            os.kill(os.getpid(), signal.SIGTERM)
            return
