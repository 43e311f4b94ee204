"""``uniqodo-mock fixtures``: check fixture files."""

from __future__ import annotations

from pathlib import Path

import click

from uniqodo_mock.cli import cli
from uniqodo_mock.cli.common import fail_on_fixture_error
from uniqodo_mock.fixtures import load_fixture_file

__all__ = ["fixtures"]


@cli.group()
def fixtures() -> None:
    """Fixture files: the mock's initial state (see docs/fixtures.md).

    \b
    Examples:
      uniqodo-mock fixtures check fixtures/default.yaml
    """


@fixtures.command("check")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
def check(files: tuple[Path, ...]) -> None:
    """Check fixture FILES; list every problem with its file, line and entry.

    \b
    Examples:
      uniqodo-mock fixtures check fixtures/default.yaml
      uniqodo-mock fixtures check my-shop.yaml fixtures/features.yaml
    """
    # Registers the check of the `faults:` section (as the mock does when it loads fixtures).
    import uniqodo_mock.control.fixture_faults  # noqa: F401

    for path in files:
        with fail_on_fixture_error():
            document = load_fixture_file(path)
        data = document.data
        click.echo(
            f"{path}: ok ({len(data.get('merchants') or [])} merchants, "
            f"{len(data.get('distributors') or [])} distributors, {len(data.get('offers') or [])} offers, "
            f"{len(data.get('subscriptions') or [])} subscriptions)"
        )
