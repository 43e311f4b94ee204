"""Every command that talks to a server fails in one clear line: what failed, the URL, what to
do; a non-zero exit status; never a traceback. Against a stopped server, a mock that wants its
admin token, one that answers 503, a server that is not the mock, a bad URL, a server that
never answers; and the vendor errors of ``codes`` (an unknown offer, fewer codes left)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route
from tests.features_helpers import running_features_mock

from uniqodo_mock.cli import _register, cli
from uniqodo_mock.mock.runtime import MockConfig
from uniqodo_mock.receiver.settings import ReceiverSettings
from uniqodo_mock.serving import free_port, serve_in_thread
from uniqodo_mock.testing.mock import running_mock
from uniqodo_mock.testing.receiver import running_receiver

_register()

# The variables the commands read: unset, so that only the command lines below count.
_CLEAN_ENV = {
    name: None
    for name in (
        "UNIQODO_MOCK_URL",
        "UNIQODO_MOCK_RECEIVER_URL",
        "UNIQODO_RECEIVER_URL",
        "UNIQODO_MOCK_ADMIN_TOKEN",
        "UNIQODO_RECEIVER_TOKEN",
        "UNIQODO_BASE_URL",
    )
}

# Every command that talks to a server, with what it needs; {mock}, {receiver}, {csv} and
# {snapshot} are filled in per test.
_MOCK_COMMANDS = [
    ["admin", "--url", "{mock}", "reset"],
    ["admin", "--url", "{mock}", "snapshot"],
    ["admin", "--url", "{mock}", "restore", "{snapshot}"],
    ["admin", "--url", "{mock}", "journal"],
    ["admin", "--url", "{mock}", "journal", "--clear"],
    ["admin", "--url", "{mock}", "clock"],
    ["admin", "--url", "{mock}", "clock", "show"],
    ["admin", "--url", "{mock}", "clock", "set", "2031-01-01T00:00:00Z"],
    ["admin", "--url", "{mock}", "clock", "offset", "60"],
    ["admin", "--url", "{mock}", "clock", "real"],
    ["admin", "--url", "{mock}", "faults"],
    ["admin", "--url", "{mock}", "faults", "list"],
    ["admin", "--url", "{mock}", "faults", "add", "--path", "/redeem/", "--status", "503"],
    ["admin", "--url", "{mock}", "faults", "delete", "1"],
    ["admin", "--url", "{mock}", "faults", "clear"],
    ["codes", "import", "--url", "{mock}", "--offer", "7004", "{csv}"],
    ["codes", "export", "--url", "{mock}", "--offer", "7005", "--count", "3"],
    ["contract", "--url", "{mock}", "--max-examples", "1"],
]
_RECEIVER_COMMANDS = [
    ["calls", "list", "--receiver", "{receiver}"],
    ["calls", "show", "1", "--receiver", "{receiver}"],
    ["calls", "wait", "--timeout", "1", "--receiver", "{receiver}"],
    ["calls", "clear", "--receiver", "{receiver}"],
    ["calls", "export", "--receiver", "{receiver}"],
]
# Commands that run a server or read a local file: nothing to reach.
_LOCAL_COMMANDS = {"serve", "up", "receiver", "fixtures check"}


def _leaf_paths(command: click.Command, prefix: str = "") -> Iterator[str]:
    if isinstance(command, click.Group):
        ctx = click.Context(command)
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            assert sub is not None
            yield from _leaf_paths(sub, f"{prefix} {name}".strip())
    else:
        yield prefix


def _command_path(args: list[str]) -> str:
    """The command an argument list runs: ``admin clock set``."""
    command: click.Command = cli
    path = []
    for arg in args:
        if isinstance(command, click.Group):
            sub = command.get_command(click.Context(command), arg)
            if sub is not None:
                command = sub
                path.append(arg)
    return " ".join(path)


def test_the_table_covers_every_command_that_talks_to_a_server() -> None:
    covered = {_command_path(args) for args in _MOCK_COMMANDS + _RECEIVER_COMMANDS}
    assert set(_leaf_paths(cli)) - _LOCAL_COMMANDS <= covered


@pytest.fixture
def files(tmp_path: Path) -> dict[str, str]:
    csv = tmp_path / "codes.csv"
    csv.write_text("code\nPX-1\n", encoding="utf-8")
    snapshot = tmp_path / "state.json"
    snapshot.write_text(json.dumps({"format": "uniqodo-mock-snapshot/1", "tables": {}}))
    return {"csv": str(csv), "snapshot": str(snapshot)}


def _invoke(args: list[str], **values: str) -> Result:
    filled = [arg.format(**values) if "{" in arg else arg for arg in args]
    return CliRunner(env=_CLEAN_ENV).invoke(cli, filled)


def _one_line(result: Result) -> str:
    """The failure's only line; the command ended cleanly (no exception escaped)."""
    assert result.exit_code != 0, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and result.stderr.endswith("\n"), result.stderr
    return lines[0]


@pytest.mark.parametrize("args", _MOCK_COMMANDS, ids=_command_path)
def test_a_stopped_mock_is_one_line(args: list[str], files: dict[str, str]) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    result = _invoke(args, mock=url, **files)
    line = _one_line(result)
    assert result.exit_code == 3
    assert line.startswith("Error: cannot connect to ") and url in line
    assert "(connection refused)" in line
    if args[0] == "contract":  # the deployment may be the mock or a real one
        assert "is the API running there? start the mock with `uniqodo-mock up`" in line
    else:
        assert "is the mock running? start it with `uniqodo-mock up`" in line
    assert result.stdout == ""


@pytest.mark.parametrize("args", _RECEIVER_COMMANDS, ids=_command_path)
def test_a_stopped_receiver_is_one_line(args: list[str]) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    result = _invoke(args, receiver=url)
    line = _one_line(result)
    assert result.exit_code == 3
    assert line == (
        f"Error: cannot connect to the receiver at {url} (connection refused): is the receiver "
        "running? start it with `uniqodo-mock up` (or `uniqodo-mock receiver`), or pass its "
        "address with --receiver"
    )
    assert result.stdout == ""


def test_the_installed_command_prints_no_traceback_either() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    done = subprocess.run(
        [sys.executable, "-m", "uniqodo_mock", "calls", "list", "--receiver", url],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 3
    assert done.stdout == ""
    assert done.stderr.splitlines() == [
        f"Error: cannot connect to the receiver at {url} (connection refused): is the receiver "
        "running? start it with `uniqodo-mock up` (or `uniqodo-mock receiver`), or pass its "
        "address with --receiver"
    ]


def test_a_bad_url_is_one_line() -> None:
    for args, option in (
        (["admin", "--url", "localhost:8080", "reset"], "--url"),
        (["codes", "export", "--url", "127.0.0.1", "--offer", "1", "--count", "1"], "--url"),
        (["calls", "list", "--receiver", "ftp://x"], "--receiver"),
        (["contract", "--url", "nowhere"], "--url"),
    ):
        result = _invoke(args)
        line = _one_line(result)
        assert result.exit_code == 2
        assert line.startswith(f"Error: {option} ") and "is not an http:// or https:// URL" in line


def test_the_admin_token_missing_or_wrong_is_one_line(tmp_path: Path) -> None:
    config = MockConfig(db_url=f"sqlite:///{tmp_path / 'state.db'}", admin_token="s3cret")
    with running_mock(config) as mock:
        for args, wrong_token in (
            (
                ["admin", "--url", mock.url, "reset"],
                ["admin", "--url", mock.url, "--admin-token", "nope", "reset"],
            ),
            (
                ["codes", "export", "--url", mock.url, "--offer", "4883", "--count", "1"],
                ["codes", "export", "--url", mock.url, "--offer", "4883", "--admin-token", "x"],
            ),
        ):
            line = _one_line(_invoke(args))
            assert line == (
                f"Error: the mock at {mock.url} needs its admin token (HTTP 401): pass "
                "--admin-token TOKEN or set $UNIQODO_MOCK_ADMIN_TOKEN"
            )
            wrong = _invoke([*wrong_token, "--count", "1"] if args[0] == "codes" else wrong_token)
            assert _one_line(wrong) == (
                f"Error: the mock at {mock.url} refused the admin token (HTTP 401): pass the "
                "token it was started with (--admin-token or $UNIQODO_MOCK_ADMIN_TOKEN)"
            )
            assert wrong.exit_code == 1
        right = _invoke(["admin", "--url", mock.url, "--admin-token", "s3cret", "reset"])
        assert right.exit_code == 0 and right.stdout.startswith("reset to ")


def test_the_receiver_token_missing_is_one_line(tmp_path: Path) -> None:
    settings = ReceiverSettings(db_url=f"sqlite:///{tmp_path / 'r.db'}", admin_token="s3cret")
    with running_receiver(settings) as receiver:
        line = _one_line(_invoke(["calls", "list", "--receiver", receiver.url]))
        assert line == (
            f"Error: the receiver at {receiver.url} needs its admin token (HTTP 401): pass "
            "--admin-token TOKEN or set $UNIQODO_MOCK_ADMIN_TOKEN"
        )
        ok = _invoke(["calls", "list", "--receiver", receiver.url, "--admin-token", "s3cret"])
        assert ok.exit_code == 0 and ok.stdout.startswith("ID")


async def _unavailable(request: Request) -> Response:
    envelope = {
        "data": None,
        "errors": [{"code": 340, "message": "The service is unavailable.", "reference": "R"}],
        "result": "failure",
    }
    return JSONResponse(envelope, status_code=503)


async def _a_web_page(request: Request) -> Response:
    return HTMLResponse("<html><body>Welcome to nginx!</body></html>")


def _app(endpoint) -> Starlette:  # type: ignore[no-untyped-def]
    routes = [
        Route("/health", lambda _: Response("ok")),
        Route("/{path:path}", endpoint, methods=["GET", "POST", "PUT", "DELETE"]),
    ]
    return Starlette(routes=routes)


@pytest.fixture
def unavailable_server() -> Iterator[str]:
    with serve_in_thread(_app(_unavailable), health_path="/health") as served:
        yield served.url


@pytest.fixture
def web_server() -> Iterator[str]:
    with serve_in_thread(_app(_a_web_page), health_path="/health") as served:
        yield served.url


def test_a_mock_answering_503_is_one_line(unavailable_server: str) -> None:
    url = unavailable_server
    result = _invoke(["admin", "--url", url, "faults", "clear"])
    assert _one_line(result) == (
        f"Error: admin faults clear failed: the mock at {url} could not answer "
        "/__admin/faults (HTTP 503: The service is unavailable.); it may be overloaded or its "
        "database unavailable: check its log and retry"
    )
    assert result.exit_code == 1
    line = _one_line(_invoke(["calls", "list", "--receiver", url]))
    assert url in line and "HTTP 503" in line


def test_a_server_that_is_not_the_mock_is_one_line(web_server: str, files: dict[str, str]) -> None:
    url = web_server
    for args in (
        ["admin", "--url", url, "reset"],
        ["admin", "--url", url, "snapshot"],
        ["codes", "import", "--url", url, "--offer", "7004", files["csv"]],
        ["codes", "export", "--url", url, "--offer", "7005", "--count", "3"],
    ):
        result = _invoke(args)
        line = _one_line(result)
        assert result.exit_code == 3
        assert line.startswith(f"Error: {url}/__admin/")
        assert "did not answer like the mock (HTTP 200 and not " in line
        assert "but text/html): is --url the mock's address?" in line
    result = _invoke(["calls", "list", "--receiver", url])
    assert _one_line(result) == (
        f"Error: {url}/__receiver/calls did not answer like the receiver (HTTP 200 and not "
        "JSON but text/html): is --receiver the receiver's address?"
    )


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A socket that accepts connections (the kernel's backlog) and never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"


def test_a_server_that_never_answers_is_one_line(silent_server: str) -> None:
    url = silent_server
    for args, what in (
        (["admin", "--url", url, "--request-timeout", "0.5", "reset"], "the mock"),
        (["calls", "list", "--receiver", url, "--request-timeout", "0.5"], "the receiver"),
    ):
        result = _invoke(args)
        assert _one_line(result) == (
            f"Error: {what} at {url} did not answer within 0.5 s (ReadTimeout): is it stuck or "
            "overloaded? check its log, or allow more time with --request-timeout"
        )
        assert result.exit_code == 3


def test_import_into_an_offer_the_mock_does_not_have_is_one_line(
    tmp_path: Path, files: dict[str, str]
) -> None:
    # Offer 7004 is in fixtures/features.yaml only; this mock has the default fixtures.
    with running_mock(MockConfig(db_url=f"sqlite:///{tmp_path / 'state.db'}")) as mock:
        result = _invoke(["codes", "import", "--url", mock.url, "--offer", "7004", files["csv"]])
    assert _one_line(result) == (
        f"Error: codes import failed: the mock at {mock.url} answered error 311 (The offer or "
        "promotion requested does not exist); is offer 7004 in the mock's fixtures? start the "
        "mock with the fixture file that defines it (e.g. `uniqodo-mock up --fixtures "
        "fixtures/features.yaml`), or pass another --offer"
    )
    assert result.exit_code == 1
    assert result.stdout == ""


def test_a_batch_larger_than_what_is_left_says_how_many_are_left(tmp_path: Path) -> None:
    with running_features_mock(f"sqlite:///{tmp_path / 'state.db'}") as (url, _app):
        taken = _invoke(["codes", "export", "--url", url, "--offer", "7005", "--count", "5"])
        assert taken.exit_code == 0, taken.output
        result = _invoke(["codes", "export", "--url", url, "--offer", "7005", "--count", "100000"])
        again = _invoke(["codes", "export", "--url", url, "--offer", "7005", "--count", "495"])
    # fixtures/features.yaml: offer 7005 has a pool of 500 codes; 5 were taken.
    line = _one_line(result)
    assert line == (
        f"Error: codes export failed: the mock at {url} answered error 206 (Offer 7005 has 495 "
        "unissued codes left and 100000 were asked; nothing was issued); ask for fewer codes "
        "with --count"
    )
    assert "HTTP" not in line
    assert result.exit_code == 1 and result.stdout == ""
    # Nothing was issued by the refused batch: the 495 left are all still there.
    assert again.exit_code == 0 and len(again.stdout.strip().splitlines()) == 1 + 495


def test_bad_lines_of_an_upload_are_listed_below_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("X-1\nX-1\nX-2\nX-2\n", encoding="utf-8")
    with running_features_mock(f"sqlite:///{tmp_path / 'state.db'}") as (url, _app):
        result = _invoke(["codes", "import", "--url", url, "--offer", "7004", str(bad)])
    assert result.exit_code == 1 and "Traceback" not in result.stderr
    assert result.stderr.splitlines() == [
        f"Error: codes import failed: the mock at {url} refused /__admin/offers/7004/codes (HTTP "
        f"400, error 330) with 2 problems; nothing was imported: correct those lines of {bad} "
        "and import it again",
        "  line 2: duplicate code 'X-1' (first on line 1)",
        "  line 4: duplicate code 'X-2' (first on line 3)",
    ]


def test_an_output_file_that_cannot_be_written_is_refused_before_any_request(
    tmp_path: Path,
) -> None:
    target = tmp_path / "missing" / "batch.csv"
    with running_features_mock(f"sqlite:///{tmp_path / 'state.db'}") as (url, _app):
        args = ["codes", "export", "--url", url, "--offer", "7005", "--count", "500"]
        result = _invoke([*args, "-o", str(target)])
        assert _one_line(result) == (
            f"Error: cannot write {target} (no such folder): pass -o/--output a file in a "
            "writable folder"
        )
        assert result.exit_code == 2
        # The codes were not issued: the whole pool is still there.
        assert _invoke(args).exit_code == 0


def test_a_usage_error_is_one_line_pointing_at_the_help() -> None:
    for args, line in (
        (
            ["codes", "export", "--count", "3"],
            "Error: Missing option '--offer'; see `cli codes export --help`",
        ),
        (
            ["admin", "faults", "add", "--rate-limit", "often"],
            "Error: Invalid value for --rate-limit: expected N/S, e.g. 10/60; see "
            "`cli admin faults add --help`",
        ),
        (["frobnicate"], "Error: No such command 'frobnicate'; see `cli --help`"),
    ):
        result = _invoke(args)
        assert result.exit_code == 2
        assert _one_line(result) == line
