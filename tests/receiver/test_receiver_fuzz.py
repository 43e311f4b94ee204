"""Schemathesis fuzzes the receiver's own API (``openapi/receiver.yaml``), positive and negative
data, against a live receiver on SQLite and on PostgreSQL: no input may cause a 500.

Deterministic (derandomized, no example database) and small enough for every CI run."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from tests.conftest import empty_pg_database

from uniqodo_mock.receiver.settings import ReceiverSettings
from uniqodo_mock.specs import spec_path
from uniqodo_mock.testing.receiver import RunningReceiver, running_receiver

FORM = {"Content-Type": "application/x-www-form-urlencoded"}

schema = schemathesis.openapi.from_path(spec_path("receiver.yaml")).exclude(
    operation_id="streamCalls"  # endless by design; covered by the browser test
)
schema.config.generation.update(modes=list(GenerationMode))  # positive and negative data


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def fuzzed(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningReceiver]:
    """One receiver per backend for the whole module, holding a few recorded calls so that
    ids, cursors and filters find something."""
    if request.param == "sqlite":
        db_url = f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'calls.db'}"
    else:
        db_url = request.getfixturevalue("pg_session_url")
        empty_pg_database(db_url)
    receiver_settings = ReceiverSettings(db_url=db_url, max_wait_seconds=0.02, poll_interval=0.01)
    with running_receiver(receiver_settings) as running:
        for i in range(3):
            body = f"code=AB12E3GH&orderId={i}&orderValue=219.99"
            httpx.post(f"{running.url}/hook?n={i}", content=body, headers=FORM)
        yield running


@schema.parametrize()
@settings(
    max_examples=40,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_input_makes_the_receiver_api_fail(
    case: schemathesis.Case, fuzzed: RunningReceiver
) -> None:
    case.call_and_validate(base_url=fuzzed.url, checks=[not_a_server_error])
