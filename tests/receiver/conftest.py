"""Fixtures for the receiver's tests: a live receiver on each database backend."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from uniqodo_mock.receiver.client import ReceiverClient
from uniqodo_mock.receiver.settings import ReceiverSettings
from uniqodo_mock.testing.receiver import RunningReceiver, running_receiver


@pytest.fixture
def receiver_settings(db_url: str) -> ReceiverSettings:
    return ReceiverSettings(db_url=db_url, poll_interval=0.05, max_body_bytes=64 * 1024)


@pytest.fixture
def receiver(receiver_settings: ReceiverSettings) -> Iterator[RunningReceiver]:
    with running_receiver(receiver_settings) as running:
        yield running


@pytest.fixture
def client(receiver: RunningReceiver) -> Iterator[ReceiverClient]:
    with receiver.client() as c:
        yield c
