"""schemathesis' generated and negative data (NUL characters included) against the email API
of a live mock, on SQLite and PostgreSQL: no answer is a 500. The vendor and admin APIs have
theirs in ``tests/contract/test_negative_fuzz.py``. Bounded in examples and in time."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from uniqodo_mock.mock.runtime import MockConfig
from uniqodo_mock.testing.mock import running_mock

_ST = Path(sys.executable).with_name("st")


@pytest.mark.parametrize("spec", ["/__email/openapi.json"])
def test_no_generated_request_gets_a_server_error(db_url: str, spec: str) -> None:
    config = MockConfig(db_url=db_url, dispatch_callbacks=False)
    with running_mock(config) as mock:
        result = subprocess.run(
            [
                str(_ST),
                "run",
                mock.url + spec,
                "--checks",
                "not_a_server_error",
                "--phases",
                "coverage,fuzzing",
                "--max-examples",
                "15",
                "--generation-allow-x00",
                "true",
                "--generation-deterministic",
                "--request-timeout",
                "10",
                "--no-color",
            ],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "passed" in result.stdout
