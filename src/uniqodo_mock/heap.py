"""Keep the cycle collector's full collections short in a long-running server.

A serving process holds a great many long-lived container objects from start-up (parsed specs,
compiled schemas, SQLAlchemy metadata, connexion's routes). CPython's full collection walks
every tracked object, so each one paused the event loop for a long while under load, and made
the tail latency. Once the app is built, ``gc.freeze()`` moves those objects to a
permanent generation that collections skip; what requests allocate is collected as before.
"""

from __future__ import annotations

import gc

__all__ = ["settle_startup_heap"]


def settle_startup_heap() -> None:
    """Collect start-up garbage, then exempt what survives from later collections. Call once,
    after the app is built and before serving (a server process, never a test session)."""
    gc.collect()
    gc.freeze()
