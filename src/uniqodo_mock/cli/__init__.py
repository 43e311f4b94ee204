"""The ``uniqodo-mock`` command line. It only wires components together: every command lives in
a module of its own, imported when that command runs (or when the help lists them all), so
``serve`` does not pay for the imports of the receiver, the contract runner or the clients."""

from __future__ import annotations

import importlib

import click

from uniqodo_mock.cli.errors import UniqodoGroup
from uniqodo_mock.version import __version__

__all__ = ["cli", "main"]


# Top-level command → the module that defines it (with ``@cli.command()`` / ``@cli.group()``).
_COMMAND_MODULES = {
    "admin": "admin_cmd",
    "calls": "calls_cmd",
    "codes": "codes_cmd",
    "contract": "contract_cmd",
    "fixtures": "fixtures_cmd",
    "receiver": "receiver_cmd",
    "serve": "serve_cmd",
    "up": "up_cmd",
}


class _LazyGroup(UniqodoGroup):
    """A group whose commands are imported on first use."""

    group_class = UniqodoGroup

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *_COMMAND_MODULES})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in _COMMAND_MODULES:
            importlib.import_module(f"uniqodo_mock.cli.{_COMMAND_MODULES[cmd_name]}")
        return super().get_command(ctx, cmd_name)


@click.group(
    cls=_LazyGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, prog_name="uniqodo-mock")
def cli() -> None:
    """uniqodo-mock: the offline twin of the Uniqodo voucher-code API.

    Every command that talks to a server takes the mock's address as --url (default
    http://127.0.0.1:8080, env UNIQODO_MOCK_URL), the receiver's as --receiver (default
    http://127.0.0.1:8090, env UNIQODO_MOCK_RECEIVER_URL) and a token as --admin-token (env
    UNIQODO_MOCK_ADMIN_TOKEN). A failure is one line on standard error saying what failed and
    what to do. Exit status: 0 done, 1 the server refused or failed the request, 2 bad usage,
    3 the server could not be reached or did not answer as expected.

    \b
    Examples:
      uniqodo-mock up                          # the mock and the callback receiver together
      uniqodo-mock serve --port 8080           # only the mock
      uniqodo-mock fixtures check fixtures/default.yaml
      uniqodo-mock calls list                  # the callbacks the receiver recorded
      uniqodo-mock admin journal --code AB12E3GX
    """


def _register() -> None:
    """Import every command module now (each adds its commands to ``cli``)."""
    for module in _COMMAND_MODULES.values():
        importlib.import_module(f"uniqodo_mock.cli.{module}")


def main() -> None:
    cli(prog_name="uniqodo-mock")
