"""schemathesis's own CLI in a subprocess, as a partner would run it, for the contract tests:
its own interpreter (the mock under test runs in a thread of this one), no example database
and no crash cache, so the seed alone repeats a run; and its summary, read back."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Summary", "run_schemathesis", "summary"]

TIMEOUT_SECONDS = 300


def run_schemathesis(spec: Path, url: str, folder: Path, *args: str) -> tuple[int, str]:
    """``schemathesis run SPEC --url URL ARGS``: its exit code and everything it printed."""
    config = folder / "schemathesis.toml"
    config.write_text("[cache]\nenabled = false\n")
    command = [
        sys.executable, "-m", "schemathesis.cli", "--config-file", str(config),
        "run", str(spec), "--url", url, "--generation-database", "none",
        "--continue-on-failure", "--no-color", *args,
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


@dataclass(frozen=True)
class Summary:
    generated: int
    # "ST101 Server error" -> how many; "Schema Error" -> how many.
    failures: dict[str, int]
    errors: dict[str, int]


def _block(output: str, title: str) -> dict[str, int]:
    found = re.search(rf"^{title}:\n((?:  .*\n)+)", output, re.MULTILINE)
    if not found:
        return {}
    counts = {}
    for line in found.group(1).splitlines():
        item = re.match(r"\s+\S+ (.+): (\d+)$", line)
        if item:
            counts[item.group(1)] = int(item.group(2))
    return counts


def summary(output: str) -> Summary:
    """The SUMMARY block of schemathesis's report."""
    _, _, tail = output.rpartition("SUMMARY")
    generated = re.search(r"(\d+) generated", tail)
    return Summary(
        int(generated.group(1)) if generated else 0,
        _block(tail, "Failures"),
        _block(tail, "Errors"),
    )
