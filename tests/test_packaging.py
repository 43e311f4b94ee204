"""A built wheel works without the repository: it carries ``openapi/*.yaml`` and
``fixtures/*.yaml`` (copied in by ``src/_build.py``), and the package finds them there.

The wheel is built from this checkout, installed (``--no-deps``) into a fresh venv whose only
other path is this venv's site-packages (for the dependencies; a plain path entry, so the
editable install's finder there is not loaded), and run from a folder outside the repository.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]


def _run(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"{args}\n{result.stdout}\n{result.stderr}"
    return result


def test_wheel_carries_specs_and_fixtures_and_runs_outside_the_repo(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "UNIQODO_MOCK_SPEC_DIR")}
    dist = tmp_path / "dist"
    _run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(REPO)],
        cwd=tmp_path,
        env=env,
    )
    [wheel] = dist.glob("uniqodo_mock-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for product in (
        *sorted((REPO / "openapi").glob("*.yaml")),
        *sorted((REPO / "fixtures").glob("*.yaml")),
    ):
        assert f"uniqodo_mock/_data/{product.parent.name}/{product.name}" in names
    # The package's own data files: the error catalogue, the fixture format, the pages, the
    # merchant tags and the demo shop.
    for data in (
        "uniqodo_mock/core/default_errors.yaml",
        "uniqodo_mock/fixtures/schema.yaml",
    ):
        assert data in names, data
    static = REPO / "src" / "uniqodo_mock" / "mock" / "static"
    pages = sorted(static.rglob("*.*"))
    assert static / "docs.html" in pages and static / "uqd-visit.js" in pages
    for page in pages:
        assert f"uniqodo_mock/mock/static/{page.relative_to(static)}" in names

    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], cwd=tmp_path, env=env)
    python = venv / "bin" / "python"
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--no-deps",
            "-q",
            "--no-index",
            str(wheel),
        ],
        cwd=tmp_path,
        env=env,
    )
    site = Path(
        _run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
            cwd=tmp_path,
            env=env,
        ).stdout.strip()
    )
    (site / "zz_project_deps.pth").write_text(sysconfig.get_path("purelib") + "\n")

    outside = tmp_path / "elsewhere"
    outside.mkdir()
    where = _run(
        [
            str(python),
            "-c",
            "import uniqodo_mock, uniqodo_mock.fixtures as f, uniqodo_mock.specs as s; "
            "s.load_spec(); s.load_spec('admin.yaml'); "
            "print(uniqodo_mock.__file__); print(s.spec_dir()); print(f.DEFAULT_FIXTURES)",
        ],
        cwd=outside,
        env=env,
    ).stdout.split()
    package, spec_dir, default_fixtures = (Path(line) for line in where)
    assert package.is_relative_to(site), package  # the wheel, not the checkout
    assert spec_dir == site / "uniqodo_mock" / "_data" / "openapi"
    assert default_fixtures == site / "uniqodo_mock" / "_data" / "fixtures" / "default.yaml"

    check = _run(
        [str(venv / "bin" / "uniqodo-mock"), "fixtures", "check", str(default_fixtures)],
        cwd=outside,
        env=env,
    )
    assert "default.yaml" in check.stdout + check.stderr
