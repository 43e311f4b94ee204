"""pytest plugin for partners' own test suites (entry point ``pytest11``).

Fixtures:

* ``uniqodo_mock``: a live mock on a free port (``.url``, ``.admin`` HTTP client on
  ``/__admin``, ``.runtime``) with the test controls of ``admin_client.AdminClient``:
  ``.clock`` (``freeze``/``set``/``offset``/``real``), ``.faults`` (``add``/``list``/``delete``/
  ``clear``), ``.journal`` (``list``/``clear``), ``.snapshot()``/``.restore(snapshot)``.
  Before each test the state is reset to the fixtures (restored from the template prepared
  when they were loaded, ``store/template.py``: a few milliseconds), the clock returns to real
  time, fault rules go back to the fixtures' own and the journal is emptied: nothing leaks
  between tests.
  Option ``--uniqodo-fixtures FILE`` loads your own fixture file instead of the default one.
* ``callback_receiver``: a live callback receiver (``.url``, ``.calls()``,
  ``.wait_for(timeout=..., **match)``), emptied before each test. When a test uses both, the
  mock's redemption callbacks are sent to it.

Both servers start once per session (fast tests); only the state is per test.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from uniqodo_mock.admin_client import AdminClient, ClockControl, FaultControl, JournalControl

if TYPE_CHECKING:
    from uniqodo_mock.mock.runtime import MockRuntime
    from uniqodo_mock.testing.mock import RunningMock
    from uniqodo_mock.testing.receiver import RunningReceiver

__all__ = ["CallbackReceiver", "MockHandle"]

# Match keywords of wait_for/calls that are receiver filters; any other keyword is a
# callback parameter (code="AB12E3GH" → param code:AB12E3GH).
_RECEIVER_FILTERS = {"method", "path", "since", "until", "callback", "conforms", "limit"}


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("uniqodo-mock")
    group.addoption(
        "--uniqodo-fixtures",
        default=None,
        metavar="FILE",
        help="fixture file the uniqodo_mock fixture loads (default: the bundled default.yaml)",
    )
    group.addoption(
        "--uniqodo-db",
        default=None,
        metavar="URL",
        help="database of the uniqodo_mock fixture (default: a SQLite file in a temp folder)",
    )
    parser.addini("uniqodo_fixtures", "fixture file the uniqodo_mock fixture loads", default="")


class MockHandle:
    """What a test gets from ``uniqodo_mock``."""

    def __init__(self, running: RunningMock, controls: AdminClient) -> None:
        self._running = running
        self.url: str = running.url
        self.admin = running.admin
        self._controls = controls
        self.clock: ClockControl = controls.clock
        self.faults: FaultControl = controls.faults
        self.journal: JournalControl = controls.journal

    @property
    def runtime(self) -> MockRuntime:
        """The mock's ``MockRuntime`` (its database, service and clock), for white-box checks."""
        return self._running.runtime

    def reset(self) -> None:
        """State back to the fixtures, clock to real time, fault rules to the fixtures' own,
        journal empty (done before every test)."""
        from uniqodo_mock.testing.wiring import reset_state

        reset_state(self._running)
        self.journal.clear()

    def snapshot(self) -> dict[str, Any]:
        """The whole state as a JSON document, for ``restore`` later in the test."""
        return self._controls.snapshot()

    def restore(self, snapshot: dict[str, Any]) -> dict[str, Any]:
        """Replace the state with a document of ``snapshot()``; the rows restored per table."""
        return self._controls.restore(snapshot)

    def send_callbacks_to(self, url: str, **options: Any) -> Any:
        """Subscribe ``url`` to every redemption's callback (``method``, ``params``,
        ``headers``: as ``POST /__admin/callbacks``)."""
        from uniqodo_mock.testing.wiring import subscribe_callbacks

        return subscribe_callbacks(self._running, url, **options)


class CallbackReceiver:
    """What a test gets from ``callback_receiver``."""

    def __init__(self, running: RunningReceiver) -> None:
        self.url: str = running.url
        self.client = running.client()

    @staticmethod
    def _filters(match: dict[str, Any]) -> dict[str, Any]:
        filters = {k: v for k, v in match.items() if k in _RECEIVER_FILTERS}
        params = [f"{k}:{v}" for k, v in match.items() if k not in _RECEIVER_FILTERS]
        if params:
            filters["param"] = params
        return filters

    def calls(self, **match: Any) -> list[dict[str, Any]]:
        """Every recorded call (oldest first) matching ``match``."""
        return list(self.client.iter_calls(**self._filters(match)))

    def wait_for(self, timeout: float = 30.0, **match: Any) -> dict[str, Any]:
        """The first call matching ``match`` since the test began (also one that already
        arrived); raises ``WaitTimeout`` after ``timeout`` seconds."""
        return self.client.wait(timeout=timeout, after=0, **self._filters(match))

    def clear(self) -> None:
        """Forget every recorded call."""
        self.client.clear()


@pytest.fixture(scope="session")
def _uniqodo_mock_server(pytestconfig: pytest.Config) -> Iterator[RunningMock]:
    """The mock behind ``uniqodo_mock``: started once per session on a free port, over a
    SQLite file in a temp folder (or ``--uniqodo-db``) loaded with the fixtures
    (``--uniqodo-fixtures``, ini ``uniqodo_fixtures``, else the bundled default.yaml)."""
    from uniqodo_mock.mock.runtime import MockConfig
    from uniqodo_mock.testing.mock import running_mock

    fixtures = pytestconfig.getoption("uniqodo_fixtures") or pytestconfig.getini("uniqodo_fixtures")
    with tempfile.TemporaryDirectory(prefix="uniqodo-mock-") as tmp:
        db = pytestconfig.getoption("uniqodo_db") or f"sqlite:///{Path(tmp) / 'state.db'}"
        config = MockConfig(
            db_url=db, fixtures=Path(fixtures) if fixtures else None, reset_fixtures=True
        )
        with running_mock(config) as running:
            yield running


@pytest.fixture(scope="session")
def _uniqodo_mock_controls(_uniqodo_mock_server: RunningMock) -> Iterator[AdminClient]:
    """One admin API client of the session's mock (clock, faults, journal, snapshots)."""
    token = _uniqodo_mock_server.runtime.config.admin_token
    with AdminClient(_uniqodo_mock_server.url, token=token) as controls:
        yield controls


@pytest.fixture(scope="session")
def _uniqodo_receiver_server() -> Iterator[RunningReceiver]:
    """The receiver behind ``callback_receiver``: started once per session on a free port,
    recording into a SQLite file in a temp folder."""
    from uniqodo_mock.receiver.settings import ReceiverSettings
    from uniqodo_mock.testing.receiver import running_receiver

    with tempfile.TemporaryDirectory(prefix="uniqodo-receiver-") as tmp:
        settings = ReceiverSettings(db_url=f"sqlite:///{Path(tmp) / 'calls.db'}")
        with running_receiver(settings) as running:
            yield running


@pytest.fixture
def callback_receiver(_uniqodo_receiver_server: RunningReceiver) -> Iterator[CallbackReceiver]:
    """A live callback receiver, emptied before the test: ``.url``, ``.calls(**match)`` and
    ``.wait_for(timeout=30, **match)`` (``code="AB12E3GH"`` matches a callback parameter;
    ``method``, ``path``, ``since``... are receiver filters), ``.clear()``. With
    ``uniqodo_mock`` in the same test, the mock's redemption callbacks are sent to it."""
    receiver = CallbackReceiver(_uniqodo_receiver_server)
    receiver.clear()
    try:
        yield receiver
    finally:
        receiver.client.close()


@pytest.fixture
def uniqodo_mock(
    request: pytest.FixtureRequest,
    _uniqodo_mock_server: RunningMock,
    _uniqodo_mock_controls: AdminClient,
) -> MockHandle:
    """A live Uniqodo mock, reset before the test: the fixtures' state (restored from the
    template prepared when they were loaded: a few milliseconds), real time, the fixtures'
    own fault rules, an empty journal. ``.url``, ``.admin`` (the admin API), ``.clock``,
    ``.faults``, ``.journal``, ``.snapshot()``/``.restore()``, ``.send_callbacks_to(url)``,
    ``.runtime``. Started once per session (``--uniqodo-fixtures FILE``, ``--uniqodo-db URL``)."""
    mock = MockHandle(_uniqodo_mock_server, _uniqodo_mock_controls)
    mock.reset()
    if "callback_receiver" in request.fixturenames:
        receiver: CallbackReceiver = request.getfixturevalue("callback_receiver")
        mock.send_callbacks_to(f"{receiver.url}/callbacks/uniqodo")
    return mock
