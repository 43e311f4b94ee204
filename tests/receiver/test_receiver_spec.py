"""openapi/receiver.yaml is valid and the live API conforms to it (schemathesis, derandomized)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
import yaml
from hypothesis import HealthCheck, settings
from openapi_spec_validator import validate
from schemathesis.specs.openapi.checks import positive_data_acceptance

from uniqodo_mock.receiver.settings import ReceiverSettings
from uniqodo_mock.specs import spec_path
from uniqodo_mock.testing import RunningReceiver, running_receiver


def test_receiver_spec_is_valid_openapi() -> None:
    validate(yaml.safe_load(spec_path("receiver.yaml").read_text(encoding="utf-8")))


# The spec file alone at import; the receiver is started by the test that needs it.
schema = schemathesis.openapi.from_path(spec_path("receiver.yaml")).exclude(
    operation_id="streamCalls"  # endless by design; covered by the browser test
)


@pytest.fixture(scope="module")
def receiver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningReceiver]:
    db = tmp_path_factory.mktemp("receiver-schemathesis") / "calls.db"
    settings = ReceiverSettings(db_url=f"sqlite:///{db}", max_wait_seconds=0.02, poll_interval=0.01)
    with running_receiver(settings) as receiver:
        yield receiver


@schema.parametrize()
@settings(
    max_examples=25,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_conforms_to_its_spec(receiver: RunningReceiver, case: schemathesis.Case) -> None:
    # ``wait`` answers a valid request 408 when nothing arrives in time: that is its contract.
    excluded = [positive_data_acceptance] if case.operation.path == "/__receiver/wait" else []
    case.call_and_validate(base_url=receiver.url, excluded_checks=excluded)
