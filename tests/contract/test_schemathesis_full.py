"""schemathesis's own CLI, as a partner would run it, over ``openapi/uniqodo.yaml`` against a live
mock: every check and every phase (examples, coverage, fuzzing, stateful), positive and
negative data, random keys and ids (no help from the contract command's hooks): zero failures
and zero errors. Bounded by a small number of examples per operation and the subprocess's
timeout. (Issue 14: it found an undeclared 404 on six operations, for a path segment with an
encoded newline, and a redirect loop on the offer list.)"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis

from uniqodo_mock.mock.runtime import MockConfig
from uniqodo_mock.specs import spec_path
from uniqodo_mock.testing import RunningMock, running_mock

PHASES = "examples,coverage,fuzzing,stateful"
MAX_EXAMPLES = 25
TIMEOUT_SECONDS = 300


@pytest.fixture(scope="module")
def mock(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningMock]:
    state = tmp_path_factory.mktemp("st-full") / "state.db"
    with running_mock(MockConfig(db_url=f"sqlite:///{state}", dispatch_callbacks=False)) as mock:
        yield mock


def run_schemathesis(spec: Path, url: str, folder: Path, *extra: str) -> tuple[int, str]:
    """``schemathesis run`` in a subprocess (its own interpreter: the mock's thread keeps
    this one), without its example database or crash cache, so the seed alone repeats it."""
    config = folder / "schemathesis.toml"
    config.write_text("[cache]\nenabled = false\n")
    command = [
        sys.executable, "-m", "schemathesis.cli", "--config-file", str(config),
        "run", str(spec), "--url", url, "--checks", "all", "--phases", PHASES,
        "--max-examples", str(MAX_EXAMPLES), "--generation-database", "none",
        "--continue-on-failure", "--no-color", *extra,
    ]  # fmt: skip
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_SECONDS,
        cwd=folder,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    return done.returncode, done.stdout + done.stderr


def test_the_project_runs_schemathesis_4() -> None:
    assert schemathesis.__version__.split(".")[0] == "4"


def test_every_check_and_phase_over_the_spec_finds_nothing(
    mock: RunningMock, tmp_path: Path
) -> None:
    code, output = run_schemathesis(spec_path("uniqodo.yaml"), mock.url, tmp_path, "--seed", "1")
    assert code == 0, output
    for phase in ("Examples", "Coverage", "Fuzzing", "Stateful"):
        assert re.search(rf"✅\s+{phase}", output), output
    counts = re.search(r"(\d+) generated, (\d+) passed", output)
    assert counts, output
    generated, passed = map(int, counts.groups())
    assert generated == passed > 0, output
    # The last line counts failures and errors when there are any ("No issues found", or
    # warnings only: an operation that answered only 401/403 to random keys is one).
    [last] = [line for line in output.splitlines() if line.startswith("====")][-1:]
    assert not re.search(r"failure|error", last), output
