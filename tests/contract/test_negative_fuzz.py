"""Fuzz acceptance of issue 14: schemathesis's negative data (every phase) over every operation of
the vendor API (``openapi/uniqodo.yaml``) and of the admin API (``openapi/admin.yaml``, with the
mock's admin token), on SQLite and on PostgreSQL: no answer is a server error
(``not_a_server_error``, the one check run). Bounded by a small number of examples per
operation and the subprocess's timeout."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.contract.st_cli import run_schemathesis, summary

from uniqodo_mock.mock.runtime import MockConfig
from uniqodo_mock.specs import load_spec, spec_path
from uniqodo_mock.testing import RunningMock, running_mock

TOKEN = "fuzz-admin-token"
# Per operation and phase, for each spec (the admin API's operations answer faster).
MAX_EXAMPLES = {"uniqodo.yaml": 25, "admin.yaml": 50}
_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
# What schemathesis reports when an operation has no room for negative data in a phase (the
# offer list's one parameter is a path key whose only invalid values cannot be sent in a
# path): a limit of generation, not an answer of the mock; its other phases still test it.
GENERATION_LIMITS = {"Schema Error", "Failed Health Check"}


@pytest.fixture
def mock(db_url: str) -> Iterator[RunningMock]:
    # No callbacks: generated subscriptions would send them anywhere.
    config = MockConfig(db_url=db_url, admin_token=TOKEN, dispatch_callbacks=False)
    with running_mock(config) as mock:
        yield mock


def _fuzz(spec: str, url: str, folder: Path, *extra: str, examples: int = 0) -> tuple[int, str]:
    return run_schemathesis(
        spec_path(spec), url, folder,
        "--mode", "negative", "--checks", "not_a_server_error",
        "--phases", "examples,coverage,fuzzing,stateful",
        "--max-examples", str(examples or MAX_EXAMPLES[spec]), "--seed", "1",
        "--suppress-health-check", "all", *extra,
    )  # fmt: skip


def _assert_no_server_error(spec: str, url: str, folder: Path, *extra: str) -> None:
    code, output = _fuzz(spec, url, folder, *extra)
    result = summary(output)
    assert result.failures == {}, output
    assert set(result.errors) <= GENERATION_LIMITS, output
    assert result.generated > 0, output
    operations = sum(len(_METHODS & set(item)) for item in load_spec(spec)["paths"].values())
    assert f"Selected: {operations}/{operations}" in output, output
    assert f"Tested: {operations}" in output, output
    assert code in (0, 1), output


def test_negative_data_never_gets_a_server_error(mock: RunningMock, tmp_path: Path) -> None:
    # The vendor API first: the admin run may add fault rules, which answer vendor requests
    # with whatever status they name.
    _assert_no_server_error("uniqodo.yaml", mock.url, tmp_path)
    _assert_no_server_error(
        "admin.yaml", f"{mock.url}/__admin", tmp_path, "-H", f"Authorization: Bearer {TOKEN}"
    )


def test_the_fuzz_run_reports_a_server_error(sqlite_url: str, tmp_path: Path) -> None:
    """What the acceptance reads is there when a 500 is: a fault rule answering 500 on the
    offer list shows as schemathesis's server-error failure."""
    config = MockConfig(db_url=sqlite_url, dispatch_callbacks=False)
    with running_mock(config) as mock:
        mock.admin.faults.add(path="/offers/", status=500)
        code, output = _fuzz("uniqodo.yaml", mock.url, tmp_path, examples=2)
    assert code == 1, output
    assert summary(output).failures.get("ST101 Server error", 0) >= 1, output
    assert "GET /offers/{api_key}/{format}" in output, output
