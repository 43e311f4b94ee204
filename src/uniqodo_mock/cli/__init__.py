"""The ``uniqodo-mock`` command line. It only wires components together: every command lives in
a module of its own and is registered here."""

from __future__ import annotations

import click

from uniqodo_mock import __version__

__all__ = ["cli", "main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="uniqodo-mock")
def cli() -> None:
    """uniqodo-mock: the offline twin of the Uniqodo voucher-code API.

    \b
    Start the mock and the callback receiver together:   uniqodo-mock up
    Start only the mock:                                  uniqodo-mock serve
    Check a fixture file:                                 uniqodo-mock fixtures check FILE
    """


def _register() -> None:
    # One import per command module; each module adds its commands to ``cli``.
    from uniqodo_mock.cli import (  # noqa: F401
        admin_cmd,
        calls_cmd,
        codes_cmd,
        contract_cmd,
        fixtures_cmd,
        receiver_cmd,
        serve_cmd,
        up_cmd,
    )


def main() -> None:
    _register()
    cli(prog_name="uniqodo-mock")
