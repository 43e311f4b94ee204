"""The generated contract suite, in process against the mock app (ASGI): every operation,
positive and negative data, every check, then the stateful sequences through the spec's links.
Deterministic: derandomized hypothesis, no example database."""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from uniqodo_mock.contract import ContractSettings, inject_path_values
from uniqodo_mock.mock.app import create_app
from uniqodo_mock.mock.runtime import MockConfig

_TMP = Path(__import__("tempfile").mkdtemp(prefix="uqm-contract-"))
_APP = create_app(MockConfig(db_url=f"sqlite:///{_TMP / 'state.db'}", reset_fixtures=True))
_SETTINGS = ContractSettings(base_url="http://testserver")
schema = schemathesis.openapi.from_asgi("/openapi.json", _APP)
_HYPOTHESIS = settings(
    max_examples=15,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)


@schema.parametrize()
@_HYPOTHESIS
def test_every_operation_conforms(case: schemathesis.Case) -> None:
    inject_path_values(_SETTINGS, case)
    case.call_and_validate()


@pytest.fixture(scope="module")
def state_machine():  # type: ignore[no-untyped-def]
    machine = schema.as_state_machine()

    class KeyedMachine(machine):  # type: ignore[misc, valid-type]
        def before_call(self, case):  # type: ignore[no-untyped-def]
            inject_path_values(_SETTINGS, case)

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
