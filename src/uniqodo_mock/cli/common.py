"""Options and helpers shared by the commands."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from uniqodo_mock.cli.callback_options import dispatch_settings
from uniqodo_mock.fixtures import FixtureError

if TYPE_CHECKING:
    from uniqodo_mock.mock.runtime import MockConfig

__all__ = [
    "configure_logging",
    "db_option",
    "fail_on_fixture_error",
    "mock_config",
    "warn_if_exposed",
]


def db_option(default: Callable[[], str]) -> Callable[[Any], Any]:
    return click.option(
        "--db",
        default=default,
        show_default="sqlite:///uniqodo-mock.db or $UNIQODO_MOCK_DB",
        help="Database URL: sqlite:///FILE or postgresql+psycopg://USER@HOST/DB.",
    )


def configure_logging(level: str) -> None:
    """``--log-level``: one line per record, with time and logger name, for the servers."""
    logging.basicConfig(
        level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )


@contextlib.contextmanager
def fail_on_fixture_error() -> Iterator[None]:
    """A bad fixture file ends the command with its problems (file:line: what), never a
    traceback: one line for one problem, else a line per problem below the first."""
    from uniqodo_mock.cli.errors import EXIT_USAGE, CommandFailure

    try:
        yield
    except FixtureError as error:
        problems = [str(problem) for problem in error.problems] or [str(error)]
        advice = "fix the file (format: docs/fixtures.md)"
        if len(problems) == 1:
            raise CommandFailure(
                f"the fixture file cannot be used: {problems[0]}; {advice}", exit_code=EXIT_USAGE
            ) from None
        raise CommandFailure(
            f"the fixture file cannot be used ({len(problems)} problems); {advice}:",
            exit_code=EXIT_USAGE,
            details=problems,
        ) from None


def warn_if_exposed(host: str, admin_token: str | None) -> None:
    if host not in ("127.0.0.1", "localhost", "::1") and not admin_token:
        click.echo(
            f"warning: binding to {host} without --admin-token: anyone who can reach this port "
            "can reset the state and read the journal",
            err=True,
        )


def mock_config(
    *,
    db: str,
    fixtures: Path | None,
    reset_fixtures: bool,
    admin_token: str | None,
    cors_origins: tuple[str, ...],
    no_cors: bool,
    callback_kwargs: dict[str, Any],
    **settings: Any,
) -> MockConfig:
    """The mock's configuration from the options ``serve`` and ``up`` share (``settings``: the
    MockConfig fields only one of them sets). The callback options are taken out of
    ``callback_kwargs``."""
    from uniqodo_mock.mock.runtime import MockConfig

    deliver, overrides = dispatch_settings(callback_kwargs)
    return MockConfig(
        db_url=db,
        fixtures=fixtures,
        reset_fixtures=reset_fixtures,
        admin_token=admin_token,
        dispatch_callbacks=deliver,
        dispatch_overrides=overrides,
        cors_origins=() if no_cors else cors_origins,
        **settings,
    )
