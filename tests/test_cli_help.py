"""The help of every command, read off the whole click tree: every option explains itself,
every command shows examples, no help text is cut, and the shared options (--url, --receiver,
--admin-token, --log-level) mean the same everywhere."""

from __future__ import annotations

from collections.abc import Iterator

import click
import pytest
from click.testing import CliRunner

from uniqodo_mock.cli import _register, cli
from uniqodo_mock.cli.options import LOG_LEVELS, AliasedOption

_register()


def _commands(
    command: click.Command = cli, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    yield path, command
    if isinstance(command, click.Group):
        ctx = click.Context(command)
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            assert sub is not None
            yield from _commands(sub, (*path, name))


COMMANDS = list(_commands())
IDS = [" ".join(path) or "uniqodo-mock" for path, _ in COMMANDS]


def _help(path: tuple[str, ...]) -> str:
    result = CliRunner().invoke(cli, [*path, "--help"], terminal_width=100)
    assert result.exit_code == 0, result.output
    return result.output


def _options(command: click.Command) -> list[click.Option]:
    return [p for p in command.params if isinstance(p, click.Option) and p.name != "help"]


def test_the_tree_is_walked() -> None:
    names = {" ".join(path) for path, _ in COMMANDS}
    assert {"serve", "up", "contract", "admin faults add", "calls wait", "codes export"} <= names


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=IDS)
def test_every_option_has_help(path: tuple[str, ...], command: click.Command) -> None:
    for option in _options(command):
        text = (option.help or "").strip()
        assert text, f"{' '.join(path)} {option.opts[0]} has no help"
        assert text.endswith((".", ")", "]")), f"{option.opts[0]}: {text!r} is cut or unfinished"
        assert not text.endswith("..."), f"{option.opts[0]}: {text!r}"


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=IDS)
def test_every_command_shows_examples(path: tuple[str, ...], command: click.Command) -> None:
    text = _help(path)
    after = text.split("\n  Examples:\n", 1)
    assert len(after) == 2, f"{' '.join(path)}: no Examples: block\n{text}"
    examples = [line.strip() for line in after[1].splitlines()]
    shown = [line for line in examples if line.startswith("uniqodo-mock ")]
    assert shown, text
    # An example runs the command it documents (for a group: one below it).
    assert any(_runs(line, path) for line in shown), shown


def _runs(line: str, path: tuple[str, ...]) -> bool:
    words = [word for word in line.split() if not word.startswith("-")]
    found = iter(words)
    return all(word in found for word in path)


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=IDS)
def test_no_help_text_is_cut(path: tuple[str, ...], command: click.Command) -> None:
    full = (command.help or "").strip()
    assert full, f"{' '.join(path)} has no help"
    first_paragraph = " ".join(full.split("\n\n", 1)[0].replace("\b", "").split())
    # What a listing shows, given room: the whole first paragraph, not a sentence of it
    # (click stops at the first period, so an "e.g." in it would cut the rest off).
    assert command.get_short_help_str(limit=10_000) == first_paragraph
    assert first_paragraph.endswith("."), first_paragraph
    assert not full.endswith("...")


def test_hidden_aliases_stay_out_of_the_help() -> None:
    shown = {
        "admin": ["--url", "--admin-token", "--request-timeout"],
        "admin snapshot": ["-o, --output FILE"],
        "calls list": ["--receiver URL", "--admin-token TOKEN"],
        "calls export": ["-o, --output FILE"],
        "serve": ["--max-body-bytes"],
        "contract": ["--url URL", "--admin-token TOKEN", "--isolate", "--allow-callbacks"],
    }
    hidden = ["--token", "--out ", "--out,", "--max-body ", "--base-url"]
    for command, options in shown.items():
        text = _help(tuple(command.split()))
        for option in options:
            assert option in text, (command, option)
        for alias in hidden:
            assert alias not in text, (command, alias)


def test_the_shared_options_mean_the_same_everywhere() -> None:
    for path, command in COMMANDS:
        for option in _options(command):
            where = f"{' '.join(path)} {option.opts[0]}"
            if option.name == "url":
                assert option.default == "http://127.0.0.1:8080", where
                assert "UNIQODO_MOCK_URL" in option.envvar, where
            if option.name == "receiver_url":
                assert option.default == "http://127.0.0.1:8090", where
                assert "UNIQODO_MOCK_RECEIVER_URL" in option.envvar, where
            if option.name == "admin_token":
                assert option.opts[0] == "--admin-token", where
                assert "UNIQODO_MOCK_ADMIN_TOKEN" in option.envvar, where
            if option.name == "log_level":
                assert isinstance(option.type, click.Choice), where
                assert tuple(option.type.choices) == LOG_LEVELS, where
            if option.name in ("output", "out"):
                assert option.opts == ["-o", "--output", "--out"], where
                assert isinstance(option, AliasedOption) and option.aliases == ("--out",)
            assert "--token" not in option.opts or option.name == "admin_token", where
