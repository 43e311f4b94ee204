"""Run a mock and a receiver inside a test or a QA script, reset them, wire callbacks and wait
on conditions: what the pytest plugin is built from, for partners' own harnesses.

    from uniqodo_mock.testing import running_mock, running_receiver, subscribe_callbacks
"""

from __future__ import annotations

from uniqodo_mock.testing.mock import DISTRIBUTOR_KEY, MERCHANT_KEY, RunningMock, running_mock
from uniqodo_mock.testing.receiver import RunningReceiver, running_receiver
from uniqodo_mock.testing.waiting import wait_until
from uniqodo_mock.testing.wiring import DEFAULT_CALLBACK_PARAMS, reset_state, subscribe_callbacks

__all__ = [
    "DEFAULT_CALLBACK_PARAMS",
    "DISTRIBUTOR_KEY",
    "MERCHANT_KEY",
    "RunningMock",
    "RunningReceiver",
    "reset_state",
    "running_mock",
    "running_receiver",
    "subscribe_callbacks",
    "wait_until",
]
