"""uniqodo-mock: the offline twin of the Uniqodo voucher-code API.

The public surface for partners' code (anything else is internal and may change):

* ``create_app(MockConfig(...))``: the mock server as an ASGI app;
  ``create_receiver_app(ReceiverSettings(...))``: the callback receiver.
* ``running_mock(config)``, ``running_receiver(settings)``: either one served on a free port
  inside a test or a script (``uniqodo_mock.testing`` has more: reset, wiring callbacks).
* ``AdminClient``, ``ReceiverClient``: the admin API and the receiver's API over HTTP.
* ``wait_until(condition)``: wait on a condition, never a fixed sleep.

Names are imported on first use, so ``import uniqodo_mock`` (and the CLI) stays quick.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from uniqodo_mock.version import __version__

if TYPE_CHECKING:
    from uniqodo_mock.admin_client import AdminClient
    from uniqodo_mock.mock.app import create_app
    from uniqodo_mock.mock.runtime import MockConfig
    from uniqodo_mock.receiver.app import create_receiver_app
    from uniqodo_mock.receiver.client import ReceiverClient
    from uniqodo_mock.receiver.settings import ReceiverSettings
    from uniqodo_mock.testing import (
        RunningMock,
        RunningReceiver,
        running_mock,
        running_receiver,
        wait_until,
    )

__all__ = [
    "AdminClient",
    "MockConfig",
    "ReceiverClient",
    "ReceiverSettings",
    "RunningMock",
    "RunningReceiver",
    "__version__",
    "create_app",
    "create_receiver_app",
    "running_mock",
    "running_receiver",
    "wait_until",
]

_HOMES = {
    "AdminClient": "uniqodo_mock.admin_client",
    "MockConfig": "uniqodo_mock.mock.runtime",
    "ReceiverClient": "uniqodo_mock.receiver.client",
    "ReceiverSettings": "uniqodo_mock.receiver.settings",
    "RunningMock": "uniqodo_mock.testing",
    "RunningReceiver": "uniqodo_mock.testing",
    "create_app": "uniqodo_mock.mock.app",
    "create_receiver_app": "uniqodo_mock.receiver.app",
    "running_mock": "uniqodo_mock.testing",
    "running_receiver": "uniqodo_mock.testing",
    "wait_until": "uniqodo_mock.testing",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'uniqodo_mock' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
