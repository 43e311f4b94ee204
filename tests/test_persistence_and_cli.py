"""State survives a restart; fixtures never load silently over existing state; the CLI's
fixture checks name the file, line and entry; `serve` answers over real HTTP."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import yaml
from tests.live.servers import mock_server
from tests.mockapp import CODE_API_KEY, MERCHANT_KEY, REPO, mock_client

from uniqodo_mock.fixtures import load_fixture_file
from uniqodo_mock.store.engine import create_db_engine
from uniqodo_mock.store.fixtures import StateNotEmptyError, apply_fixtures
from uniqodo_mock.store.repository import Repository


def test_state_survives_a_restart(db_url: str) -> None:
    with mock_client(db_url) as client:
        issued = client.get(f"/code/{CODE_API_KEY}/1234?uid=persist@example.com").json()["data"][
            "code"
        ]
        assert (
            client.get(f"/redeem/{MERCHANT_KEY}/AB12E3GH/1?orderId=P-1&orderValue=10").json()[
                "result"
            ]
            == "success"
        )
    with mock_client(db_url) as client:
        again = client.get(f"/code/{CODE_API_KEY}/1234?uid=persist@example.com").json()["data"][
            "code"
        ]
        redeemed = client.get(f"/redeem/{MERCHANT_KEY}/AB12E3GH/1?orderId=P-2&orderValue=10").json()
    assert again == issued
    assert redeemed["errors"][0]["code"] == 201


def test_fixtures_are_never_loaded_over_existing_state(sqlite_url: str) -> None:
    with mock_client(sqlite_url):
        pass
    repo = Repository(create_db_engine(sqlite_url))
    document = load_fixture_file(REPO / "fixtures" / "default.yaml")
    with pytest.raises(StateNotEmptyError):
        apply_fixtures(repo, document)
    apply_fixtures(repo, document, replace=True)  # explicit replacement is allowed
    repo.engine.dispose()


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "uniqodo_mock", *args], capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize("name", ["default.yaml", "docs.yaml"])
def test_fixtures_check_accepts_the_shipped_files(name: str) -> None:
    path = REPO / "fixtures" / name
    raw = yaml.safe_load(path.read_text())
    result = run_cli("fixtures", "check", str(path))
    assert result.returncode == 0, result.stderr
    assert (
        f"ok ({len(raw['merchants'])} merchants, {len(raw['distributors'])} distributors, "
        f"{len(raw['offers'])} offers"
    ) in result.stdout


def test_fixtures_check_names_file_line_and_entry(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    text = (REPO / "fixtures" / "default.yaml").read_text()
    bad.write_text(
        text.replace(
            'redemption_per_code: 1\n    start_date: "01-01-2019',
            'redemption_per_code: once\n    start_date: "01-01-2019',
        )
    )
    result = run_cli("fixtures", "check", str(bad))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    line = next(
        i
        for i, row in enumerate(bad.read_text().splitlines(), 1)
        if "redemption_per_code: once" in row
    )
    assert (
        f"{bad}:{line}: offers[1] (id 1234): 'redemption_per_code': 'once' is not of type"
        in result.stderr
    )


def test_fixtures_check_reports_broken_references_and_yaml(tmp_path: Path) -> None:
    dangling = tmp_path / "dangling.yaml"
    dangling.write_text(
        "version: 1\nmerchants: [{id: 1, name: M}]\noffers:\n  - id: 5\n    promotion_uuid: 0821f4190897965c33eaca7954db5f23\n"
        "    merchant: 2\n    description: D\n    master_code: X\n    start_date: '01-01-2019 00:00:00'\n    end_date: 'yesterday'\n"
    )
    result = run_cli("fixtures", "check", str(dangling))
    assert result.returncode == 2
    assert (
        f"{dangling}:6: offers[0] (id 5): merchant 2 is not defined under merchants"
        in result.stderr
    )
    assert "end_date 'yesterday' is not a date" in result.stderr
    broken = tmp_path / "broken.yaml"
    broken.write_text("version: 1\noffers: [\n")
    result = run_cli("fixtures", "check", str(broken))
    assert (
        result.returncode == 2
        and "not valid YAML" in result.stderr
        and "Traceback" not in result.stderr
    )


def test_serve_rejects_a_bad_fixture_file_cleanly(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 2\n")
    result = run_cli("serve", "--db", f"sqlite:///{tmp_path / 'x.db'}", "--fixtures", str(bad))
    assert result.returncode == 2
    assert f"{bad}:1" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("command", [[], ["serve"], ["fixtures", "check"]])
def test_help(command: list[str]) -> None:
    result = run_cli(*command, "--help")
    assert result.returncode == 0 and "Usage:" in result.stdout


def test_serve_over_http_and_docs_page(tmp_path: Path) -> None:
    with mock_server(f"sqlite:///{tmp_path / 'live.db'}") as server:
        base = server.url
        health = httpx.get(f"{base}/__admin/health").json()
        assert health["status"] == "ok" and health["database"] == "sqlite"
        code = httpx.get(f"{base}/code/{CODE_API_KEY}/1234?uid=live@example.com").json()
        assert code["result"] == "success"
        docs = httpx.get(f"{base}/__admin/docs/")
        assert docs.status_code == 200 and "swagger-ui" in docs.text
        spec = httpx.get(f"{base}/__admin/specs/uniqodo.json").json()
        assert spec["openapi"].startswith("3.0")
        assert httpx.get(f"{base}/__admin/docs/swagger-ui-bundle.js").status_code == 200
