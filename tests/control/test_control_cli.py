"""``uniqodo-mock admin`` against a live mock."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from uniqodo_mock.cli import _register, cli
from uniqodo_mock.testing.mock import MERCHANT_KEY, RunningMock

_register()


def run(mock: RunningMock, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["admin", "--url", mock.url, *args])
    return result.exit_code, result.output


def failure(mock: RunningMock, *args: str) -> tuple[int, list[str]]:
    result = CliRunner().invoke(cli, ["admin", "--url", mock.url, *args])
    assert result.stdout == "" and "Traceback" not in result.stderr
    return result.exit_code, result.stderr.splitlines()


def test_clock_faults_journal_snapshot_from_the_shell(
    sqlite_mock: RunningMock, tmp_path: Path
) -> None:
    code, out = run(sqlite_mock, "clock", "set", "2100-01-01T00:00:00Z", "--frozen")
    assert code == 0 and "2100-01-01T00:00:00" in out and "frozen" in out
    assert sqlite_mock.admin.clock.show()["frozen"] is True
    assert run(sqlite_mock, "clock", "real")[1].endswith("(real time)\n")

    code, out = run(sqlite_mock, "faults", "add", "--path", "/redeem/", "--status", "503")
    assert code == 0 and out.startswith("added fault rule #")
    rule_id = out.strip().rsplit("#", 1)[1]
    assert (
        f'#{rule_id}  applied 0x  {{"path": "/redeem/", "status": 503'
        in run(sqlite_mock, "faults")[1]
    )
    code, lines = failure(sqlite_mock, "faults", "add", "--status", "42")
    assert code == 1 and lines == [
        f"Error: admin faults add failed: the mock at {sqlite_mock.url} refused /__admin/faults "
        "(HTTP 400, error 330: 'status' must be an HTTP status 200-599, got 42)"
    ]
    code, out = run(sqlite_mock, "faults", "delete", rule_id)
    assert code == 0 and out.strip() == f"deleted fault rule #{rule_id}"
    assert f"#{rule_id} " not in run(sqlite_mock, "faults")[1]

    sqlite_mock.get(f"/validate/{MERCHANT_KEY}/AB12E3GX/1")
    code, out = run(sqlite_mock, "journal", "--code", "AB12E3GX")
    assert code == 0 and "error 204 (unknown_code)" in out and "nearest=AB12E3GH" in out
    code, out = run(sqlite_mock, "journal", "--json", "--limit", "1")
    assert json.loads(out)[0]["code"] == "AB12E3GX"
    code, out = run(sqlite_mock, "journal", "--json", "--until", "2000-01-01T00:00:00Z")
    assert code == 0 and json.loads(out) == []

    target = tmp_path / "state.json"
    assert run(sqlite_mock, "snapshot", "--out", str(target))[0] == 0
    assert json.loads(target.read_text())["format"] == "uniqodo-mock-snapshot/1"
    code, out = run(sqlite_mock, "restore", str(target))
    assert code == 0 and out.startswith("restored ")
    broken = tmp_path / "broken.json"
    broken.write_text('{\n  "format": \n')
    code, lines = failure(sqlite_mock, "restore", str(broken))
    assert code == 2 and len(lines) == 1 and lines[0].startswith(f"Error: {broken}:3: ")
    assert "not a JSON snapshot" in lines[0]
    wrong = tmp_path / "wrong.json"
    document = sqlite_mock.admin.snapshot()
    document["tables"]["nonsense"] = []
    document["tables"]["codes"][0]["issued_at"] = "soon"
    wrong.write_text(json.dumps(document))
    code, lines = failure(sqlite_mock, "restore", str(wrong))
    # The mock lists every problem of the snapshot: one line each, below the failure's line.
    assert code == 1 and lines == [
        f"Error: admin restore failed: the mock at {sqlite_mock.url} refused /__admin/snapshot "
        "(HTTP 400, error 330) with 2 problems",
        "  tables.nonsense: no such table",
        "  tables.codes[0].issued_at: not an ISO-8601 timestamp: 'soon'",
    ]
    assert run(sqlite_mock, "reset")[0] == 0
