"""Wake waiting requests (``wait``, the live stream) as soon as this process commits a call.

Only a hint: waiters also poll the database, so calls stored by another replica sharing the
database are seen too (after at most one poll interval).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading

__all__ = ["Notifier"]


class Notifier:
    """Thread-safe fan-out of "something was committed" to asyncio events on any loop."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiters: dict[asyncio.Event, asyncio.AbstractEventLoop] = {}

    def subscribe(self) -> asyncio.Event:
        event = asyncio.Event()
        with self._lock:
            self._waiters[event] = asyncio.get_running_loop()
        return event

    def unsubscribe(self, event: asyncio.Event) -> None:
        with self._lock:
            self._waiters.pop(event, None)

    def notify(self) -> None:
        """Called from the writer thread after a commit."""
        with self._lock:
            waiters = list(self._waiters.items())
        for event, loop in waiters:
            # A closed loop raises RuntimeError: its waiter is gone, nothing to wake.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(event.set)
