"""Waiting on a condition, never a fixed sleep: ``wait_until(lambda: calls.count() == 2)``."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

__all__ = ["wait_until"]

T = TypeVar("T")


def wait_until(
    condition: Callable[[], T],
    *,
    timeout: float = 15.0,
    what: str = "the condition",
    interval: float = 0.02,
) -> T:
    """Call ``condition`` until it returns something true, and return that; ``AssertionError``
    naming ``what`` once ``timeout`` seconds have passed (the condition is tried one last
    time at the deadline)."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(interval)
