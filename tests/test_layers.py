"""Who may import whom (ARCHITECTURE.md): the contracts in pyproject.toml, checked by
import-linter over the source tree, and proof that they catch a violation."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(source_root: Path) -> subprocess.CompletedProcess[str]:
    """``lint-imports`` with the project's contracts over the package found in ``source_root``."""
    env = {**os.environ, "PYTHONPATH": str(source_root)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(REPO / "pyproject.toml"), "--no-cache"],
        cwd=source_root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_source_keeps_every_contract() -> None:
    result = lint_imports(REPO / "src")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "statement", "contract"),
    [
        # The pure domain reaching up into the web app.
        ("core/clock.py", "import uniqodo_mock.mock.app", "Each layer imports only the layers"),
        # The service writing SQL itself instead of asking the store.
        ("service/offers.py", "import sqlalchemy", "All SQL of the mock is in the store"),
        # The store depending on a web framework.
        ("store/locks.py", "import starlette", "The domain imports no web framework"),
    ],
)
def test_a_deliberate_violation_fails(
    tmp_path: Path, module: str, statement: str, contract: str
) -> None:
    tree = tmp_path / "src"
    shutil.copytree(
        REPO / "src" / "uniqodo_mock",
        tree / "uniqodo_mock",
        ignore=shutil.ignore_patterns("__pycache__", "_data"),
    )
    target = tree / "uniqodo_mock" / module
    target.write_text(target.read_text() + f"\n{statement}  # noqa\n")
    result = lint_imports(tree)
    assert result.returncode != 0
    assert contract in result.stdout
    assert "BROKEN" in result.stdout
