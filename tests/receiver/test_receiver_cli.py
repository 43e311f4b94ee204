"""``uniqodo-mock calls …`` against a live receiver: tables and --json."""

from __future__ import annotations

import json

import httpx
from click.testing import CliRunner

from uniqodo_mock.cli import _register, cli
from uniqodo_mock.testing.receiver import RunningReceiver

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def _run(*args: str) -> tuple[int, str]:
    _register()
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def test_list_show_export_clear(receiver: RunningReceiver) -> None:
    httpx.post(f"{receiver.url}/hook", content="code=AB12E3GH&orderValue=abc", headers=FORM)
    httpx.post(f"{receiver.url}/other", content=b"\x1b[31mred")
    code, out = _run("calls", "list", "--receiver", receiver.url)
    assert code == 0 and "ID" in out and "/hook" in out and "NOT conforming" in out
    assert "\x1b" not in out  # terminal escapes in recorded data are shown escaped
    code, out = _run(
        "calls", "list", "--receiver", receiver.url, "--param", "code:AB12E3GH", "--json"
    )
    page = json.loads(out)
    assert [c["path"] for c in page["calls"]] == ["/hook"]
    code, out = _run("calls", "show", str(page["calls"][0]["id"]), "--receiver", receiver.url)
    assert "orderValue 'abc' is not a number" in out and "[form] code = AB12E3GH" in out
    code, out = _run(
        "calls", "export", "--format", "csv", "--path", "/hook", "--receiver", receiver.url
    )
    assert out.splitlines()[0].startswith("id,received_at") and len(out.splitlines()) == 2
    code, out = _run("calls", "clear", "--receiver", receiver.url, "--json")
    assert json.loads(out) == {"deleted": 2}


def test_wait_times_out_with_exit_1(receiver: RunningReceiver) -> None:
    _register()
    result = CliRunner().invoke(
        cli,
        ["calls", "wait", "--receiver", receiver.url, "--timeout", "0.1", "--param", "code:NEVER"],
    )
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.splitlines() == [
        "Error: no matching call arrived within 0.1 seconds: allow more time with --timeout, or "
        "check the filters (and --after: without it only calls from now on count)"
    ]


def test_wait_after_cursor_json(receiver: RunningReceiver) -> None:
    httpx.post(f"{receiver.url}/hook", content="code=W1", headers=FORM)
    code, out = _run(
        "calls", "wait", "--receiver", receiver.url, "--after", "0", "--param", "code:W1", "--json"
    )
    assert code == 0 and json.loads(out)["body_text"] == "code=W1"


def test_bad_filter_is_a_readable_error(receiver: RunningReceiver) -> None:
    _register()
    result = CliRunner().invoke(cli, ["calls", "list", "--receiver", receiver.url, "--since", "x"])
    # The receiver refused the request (exit 1), and the one line says why.
    assert result.exit_code == 1 and result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith(f"Error: calls list failed: the receiver at {receiver.url} refused ")
    assert "(HTTP 400): " in line and "since" in line


def test_receiver_help_documents_the_body_bounds() -> None:
    code, out = _run("receiver", "--help")
    assert code == 0 and "--body-timeout" in out and "408" in out and "--max-body-bytes" in out
    code, out = _run("receiver", "--body-timeout", "0", "--port", "0")
    assert code == 2 and "--body-timeout" in out
