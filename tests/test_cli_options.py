"""The old spellings of options and environment variables keep working: ``--token``,
``--out``, ``--max-body``, ``--base-url``, ``UNIQODO_RECEIVER_URL``, ``UNIQODO_RECEIVER_TOKEN``,
``UNIQODO_BASE_URL``; and the new shared ones apply to every command."""

from __future__ import annotations

import json
from pathlib import Path

import click
from click.testing import CliRunner

from uniqodo_mock.cli import _register, cli
from uniqodo_mock.mock.runtime import MockConfig
from uniqodo_mock.receiver.settings import ReceiverSettings
from uniqodo_mock.testing.mock import running_mock
from uniqodo_mock.testing.receiver import running_receiver

_register()


def _params(path: list[str], args: list[str], env: dict[str, str] | None = None) -> dict:
    """The parameters ``uniqodo-mock PATH ARGS`` would run with (parsed, not run)."""
    command: click.Command = cli
    for name in path:
        assert isinstance(command, click.Group)
        sub = command.get_command(click.Context(command), name)
        assert sub is not None
        command = sub
    runner = CliRunner(env=env)
    with runner.isolation(env=env):
        return command.make_context(" ".join(path), list(args)).params


def test_max_body_is_max_body_bytes() -> None:
    assert _params(["serve"], ["--max-body", "512"])["max_body"] == 512
    assert _params(["serve"], ["--max-body-bytes", "512"])["max_body"] == 512
    assert _params(["receiver"], ["--max-body-bytes", "512"])["max_body_bytes"] == 512


def test_base_url_and_its_variable_are_the_contracts_url() -> None:
    clean = {"UNIQODO_BASE_URL": None, "UNIQODO_MOCK_URL": None}
    assert _params(["contract"], [], clean)["url"] == "http://127.0.0.1:8080"
    assert _params(["contract"], ["--base-url", "http://h:1/"], clean)["url"] == "http://h:1"
    assert _params(["contract"], ["--url", "http://h:2"], clean)["url"] == "http://h:2"
    env = {"UNIQODO_BASE_URL": "http://old:1", "UNIQODO_MOCK_URL": "http://new:2"}
    assert _params(["contract"], [], env)["url"] == "http://old:1"
    assert _params(["contract"], [], {**env, "UNIQODO_BASE_URL": None})["url"] == "http://new:2"


def test_the_receiver_variables_old_and_new() -> None:
    env = {
        "UNIQODO_MOCK_RECEIVER_URL": None,
        "UNIQODO_RECEIVER_URL": "http://old:1",
        "UNIQODO_RECEIVER_TOKEN": "old-token",
        "UNIQODO_MOCK_ADMIN_TOKEN": "new-token",
    }
    params = _params(["calls", "list"], [], env)
    assert params["receiver_url"] == "http://old:1"
    # The receiver's own token variable wins over the shared one when both are set.
    assert params["admin_token"] == "old-token"
    env.update(UNIQODO_MOCK_RECEIVER_URL="http://new:2", UNIQODO_RECEIVER_TOKEN=None)
    params = _params(["calls", "list"], [], env)
    assert params["receiver_url"] == "http://new:2" and params["admin_token"] == "new-token"
    assert _params(["receiver"], [], env)["admin_token"] == "new-token"


def test_codes_url_has_the_same_default_and_variable_as_admin() -> None:
    clean = {"UNIQODO_MOCK_URL": None}
    for path, args in (
        (["codes", "export"], ["--offer", "1", "--count", "1"]),
        (["codes", "import"], ["--offer", "1", __file__]),
        (["admin"], ["reset"]),
    ):
        assert _params(path, args, clean)["url"] == "http://127.0.0.1:8080"
        assert _params(path, args, {"UNIQODO_MOCK_URL": "http://m:3"})["url"] == "http://m:3"


def test_token_and_out_still_work_against_a_live_mock(tmp_path: Path) -> None:
    config = MockConfig(db_url=f"sqlite:///{tmp_path / 'state.db'}", admin_token="s3cret")
    target = tmp_path / "state.json"
    env = {"UNIQODO_MOCK_ADMIN_TOKEN": None}
    with running_mock(config) as mock:
        old = CliRunner(env=env).invoke(
            cli, ["admin", "--url", mock.url, "--token", "s3cret", "snapshot", "--out", str(target)]
        )
        assert old.exit_code == 0, old.output
        assert json.loads(target.read_text())["format"] == "uniqodo-mock-snapshot/1"
        target.unlink()
        new = CliRunner(env=env).invoke(
            cli,
            ["admin", "--url", mock.url, "--admin-token", "s3cret", "snapshot", "-o", str(target)],
        )
        assert new.exit_code == 0, new.output and target.exists()
        from_env = CliRunner(env={"UNIQODO_MOCK_ADMIN_TOKEN": "s3cret"}).invoke(
            cli, ["admin", "--url", mock.url, "clock"]
        )
        assert from_env.exit_code == 0 and from_env.stdout.startswith("now ")


def test_token_still_works_for_calls(tmp_path: Path) -> None:
    settings = ReceiverSettings(db_url=f"sqlite:///{tmp_path / 'r.db'}", admin_token="s3cret")
    env = {"UNIQODO_MOCK_ADMIN_TOKEN": None, "UNIQODO_RECEIVER_TOKEN": None}
    with running_receiver(settings) as receiver:
        for spelling in ("--token", "--admin-token"):
            result = CliRunner(env=env).invoke(
                cli, ["calls", "clear", "--receiver", receiver.url, spelling, "s3cret", "--json"]
            )
            assert result.exit_code == 0, result.output
            assert json.loads(result.stdout) == {"deleted": 0}
