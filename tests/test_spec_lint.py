"""The served specs pass Spectral's ``spectral:oas`` ruleset and Redocly's ``recommended`` rules
with zero errors (``.spectral.yaml``, ``redocly.yaml``, ``.redocly.lint-ignore.yaml``: every
exception with its reason), and the linters as configured do catch errors.

The linters run from ``.tools/`` (``scripts/install-spec-linters.sh``, which ``scripts/test.sh``
runs; this test runs it too when they are missing): no network once installed. Without Node.js
and npm the test fails, naming what to install."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
BIN = REPO / ".tools" / "node_modules" / ".bin"
SPECS = ("openapi/uniqodo.yaml", "openapi/admin.yaml")
ENV = {**os.environ, "REDOCLY_TELEMETRY": "off", "REDOCLY_SUPPRESS_UPDATE_NOTICE": "true"}

# An operation with an undeclared path parameter (Spectral's `path-params`) and no security
# (Redocly's `security-defined`): both are errors.
BROKEN = """\
openapi: 3.0.3
info: {title: broken, version: "1", description: d, contact: {name: c}, license: {name: MIT, url: https://opensource.org/licenses/MIT}}
servers: [{url: "https://example.com"}]
tags: [{name: t, description: d}]
paths:
  /things/{thing_id}:
    get:
      operationId: getThing
      tags: [t]
      summary: s
      description: d
      responses:
        "200": {description: ok}
        "404": {description: no}
"""


@pytest.fixture(scope="module")
def linters() -> Path:
    if not (BIN / "spectral").exists() or not (BIN / "redocly").exists():
        if shutil.which("npm") is None or shutil.which("node") is None:
            pytest.fail(
                "the spec linters need Node.js and npm (not found): install Node.js 20 or "
                "later, then run scripts/install-spec-linters.sh"
            )
        installed = subprocess.run(
            [str(REPO / "scripts" / "install-spec-linters.sh")],
            capture_output=True,
            text=True,
            timeout=600,
        )
        if installed.returncode != 0:
            pytest.fail(f"scripts/install-spec-linters.sh failed:\n{installed.stderr}")
    return BIN


def _spectral(bin_dir: Path, tmp_path: Path, *files: str) -> list[dict[str, Any]]:
    report = tmp_path / "spectral.json"
    options = ["--ruleset", ".spectral.yaml", "--format", "json", "--output", str(report)]
    done = subprocess.run(
        [str(bin_dir / "spectral"), "lint", *options, "--fail-severity", "error", *files],
        cwd=REPO,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert report.exists(), done.stderr or done.stdout
    results: list[dict[str, Any]] = json.loads(report.read_text() or "[]")
    # The exit status agrees with the report: non-zero exactly when there are errors.
    assert (done.returncode != 0) == any(r["severity"] == 0 for r in results), done.stderr
    return results


def _redocly(bin_dir: Path, *files: str) -> list[dict[str, Any]]:
    done = subprocess.run(
        [str(bin_dir / "redocly"), "lint", "--config", "redocly.yaml", "--format", "json", *files],
        cwd=REPO,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=120,
    )
    reports = list(_documents(done.stdout))
    assert len(reports) == len(files), done.stdout + done.stderr
    assert (done.returncode != 0) == any(r["totals"]["errors"] for r in reports), done.stderr
    return reports


def _documents(text: str) -> Iterator[dict[str, Any]]:
    """The JSON documents of Redocly's output, one per file linted."""
    decoder = json.JSONDecoder()
    at = text.find("{")
    while at != -1:
        document, end = decoder.raw_decode(text, at)
        yield document
        at = text.find("{", end)


def _errors(problems: list[dict[str, Any]]) -> list[str]:
    return [
        f"{p['ruleId']}: {p['message']} at {p['location'][0].get('pointer')}"
        for p in problems
        if p["severity"] == "error"
    ]


def test_spectral_oas_finds_no_error(linters: Path, tmp_path: Path) -> None:
    results = _spectral(linters, tmp_path, *SPECS)
    errors = [
        f"{r['source']}:{r['range']['start']['line'] + 1} {r['code']}: {r['message']}"
        for r in results
        if r["severity"] == 0
    ]
    assert not errors, "\n".join(errors)


def test_redocly_recommended_finds_no_error(linters: Path) -> None:
    for spec, report in zip(SPECS, _redocly(linters, *SPECS), strict=True):
        assert report["totals"]["errors"] == 0, f"{spec}:\n" + "\n".join(
            _errors(report["problems"])
        )


def test_the_linters_as_configured_catch_errors(linters: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(BROKEN)
    spectral = _spectral(linters, tmp_path, str(broken))
    assert "path-params" in {r["code"] for r in spectral if r["severity"] == 0}
    (report,) = _redocly(linters, str(broken))
    assert "security-defined" in {
        p["ruleId"] for p in report["problems"] if p["severity"] == "error"
    }


def test_every_exception_in_the_lint_configs_says_why() -> None:
    """A rule turned off (Spectral's overrides, Redocly's exceptions and ignored problems)
    has a comment right above it."""
    for name, markers in {
        ".spectral.yaml": ("- files:",),
        "redocly.yaml": ("exceptions:",),
        ".redocly.lint-ignore.yaml": ("  - '#/",),
    }.items():
        lines = (REPO / name).read_text().splitlines()
        found = 0
        for index, line in enumerate(lines):
            if not line.lstrip().startswith(tuple(m.strip() for m in markers)):
                continue
            found += 1
            above = [x.strip() for x in lines[max(0, index - 3) : index]]
            assert any(x.startswith("#") for x in above), f"{name}:{index + 1}: no reason above"
        assert found, name
