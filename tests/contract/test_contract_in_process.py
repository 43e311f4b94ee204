"""The generated contract suite from pytest, against a mock served in this process: every
operation, positive and negative data, every check, then the stateful sequences through the
spec's links. Deterministic: derandomized hypothesis, no example database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from uniqodo_mock.contract import ContractSettings, inject_path_values
from uniqodo_mock.mock.runtime import MockConfig
from uniqodo_mock.specs import spec_path
from uniqodo_mock.testing import RunningMock, running_mock

_SETTINGS = ContractSettings(base_url="http://testserver")
# The spec file alone at import; the mock is started by the tests that need it.
schema = schemathesis.openapi.from_path(spec_path("uniqodo.yaml"))


@pytest.fixture(scope="module")
def mock(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningMock]:
    state = tmp_path_factory.mktemp("contract") / "state.db"
    with running_mock(MockConfig(db_url=f"sqlite:///{state}", dispatch_callbacks=False)) as mock:
        yield mock


_HYPOTHESIS = settings(
    max_examples=15,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)


@schema.parametrize()
@_HYPOTHESIS
def test_every_operation_conforms(mock: RunningMock, case: schemathesis.Case) -> None:
    inject_path_values(_SETTINGS, case)
    case.call_and_validate(base_url=mock.url)


@pytest.fixture(scope="module")
def state_machine(mock: RunningMock):  # type: ignore[no-untyped-def]
    machine = schema.as_state_machine()

    class KeyedMachine(machine):  # type: ignore[misc, valid-type]
        def before_call(self, case):  # type: ignore[no-untyped-def]
            inject_path_values(_SETTINGS, case)

        def call(self, case, **kwargs):  # type: ignore[no-untyped-def]
            return case.call(base_url=mock.url, **kwargs)

    return KeyedMachine


def test_stateful_sequences_conform(state_machine) -> None:  # type: ignore[no-untyped-def]
    state_machine.run(
        settings=settings(
            max_examples=15,
            derandomize=True,
            database=None,
            deadline=None,
            stateful_step_count=6,
            suppress_health_check=list(HealthCheck),
        )
    )
