"""The command line imports a command's module only when that command runs: ``serve`` does not
pay for the receiver's, the contract runner's or the clients' imports at every start."""

from __future__ import annotations

import subprocess
import sys

from click.testing import CliRunner

from uniqodo_mock.cli import _COMMAND_MODULES, cli

_SERVE_HELP_THEN_LIST_MODULES = """
import sys
from uniqodo_mock.cli import cli
try:
    cli(["serve", "--help"], prog_name="uniqodo-mock")
except SystemExit:
    pass
print(sorted(name for name in sys.modules if name.startswith("uniqodo_mock.cli.")))
"""


def test_serve_imports_no_other_command_module() -> None:
    result = subprocess.run(
        [sys.executable, "-c", _SERVE_HELP_THEN_LIST_MODULES],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert "Run the mock Uniqodo API" in result.stdout
    loaded = result.stdout.strip().splitlines()[-1]
    assert "'uniqodo_mock.cli.serve_cmd'" in loaded
    for name in (
        "admin_cmd",
        "calls_cmd",
        "codes_cmd",
        "contract_cmd",
        "fixtures_cmd",
        "receiver_cmd",
        "up_cmd",
    ):
        assert f"uniqodo_mock.cli.{name}" not in loaded


def test_help_lists_every_command() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    commands = result.output.split("Commands:", 1)[1]
    listed = [line.split()[0] for line in commands.strip().splitlines()]
    assert listed == sorted(_COMMAND_MODULES)


def test_every_command_runs_its_help() -> None:
    for name in _COMMAND_MODULES:
        result = CliRunner().invoke(cli, [name, "--help"])
        assert result.exit_code == 0, (name, result.output)
        assert f"Usage: cli {name}" in result.output or f"{name} [OPTIONS]" in result.output


def test_an_unknown_command_is_refused() -> None:
    result = CliRunner().invoke(cli, ["serv"])
    assert result.exit_code == 2
    assert "No such command 'serv'" in result.output
