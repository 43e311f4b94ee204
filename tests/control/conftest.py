"""A live mock per test (real HTTP on a free port, real database) and its admin client."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from uniqodo_mock.mock.runtime import MockConfig
from uniqodo_mock.testing.mock import RunningMock, running_mock


@pytest.fixture
def mock(db_url: str) -> Iterator[RunningMock]:
    """A live mock on SQLite and on PostgreSQL."""
    with running_mock(MockConfig(db_url=db_url)) as live:
        yield live


@pytest.fixture
def sqlite_mock(sqlite_url: str) -> Iterator[RunningMock]:
    """A live mock on SQLite only: for behaviour that does not depend on the database."""
    with running_mock(MockConfig(db_url=sqlite_url)) as live:
        yield live
