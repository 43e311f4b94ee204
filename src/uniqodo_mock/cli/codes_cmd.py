"""``uniqodo-mock codes``: upload personalised codes and download CSV batches from a running
mock, through its admin API (``/__admin/offers/{offer_id}/codes``). Failures (an unknown offer,
fewer codes left than asked, bad lines of the file, the mock unreachable) end in one line:
cli/errors.py."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from uniqodo_mock.cli import cli
from uniqodo_mock.cli.options import (
    admin_token_option,
    mock_url_option,
    output_option,
    request_timeout_option,
)

__all__ = ["codes"]


def _mock_options(func: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed(
        [mock_url_option(), admin_token_option(), request_timeout_option(default=120.0)]
    ):
        func = option(func)
    return func


def _client(url: str, token: str | None, timeout: float) -> Any:
    from uniqodo_mock.admin_client import AdminClient

    return AdminClient(url, token=token, timeout=timeout)


@cli.group()
def codes() -> None:
    """Personalised code uploads and CSV batches of a running mock.

    \b
    Examples:
      uniqodo-mock codes import --offer 7004 personal.csv
      uniqodo-mock codes export --offer 7005 --count 100 -o batch.csv
    """


@codes.command("import")
@_mock_options
@click.option("--offer", "offer_id", type=int, required=True, help="Offer id to add the codes to.")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_codes(
    url: str, admin_token: str | None, request_timeout: float, offer_id: int, file: Path
) -> None:
    """Upload FILE, a UTF-8 CSV of code[,issued_to][,expires_at] lines, to an offer.

    All lines or none: a header line is optional; every bad or duplicate line is listed with
    its line number and nothing is imported.

    \b
    Examples:
      uniqodo-mock codes import --offer 7004 personal.csv
      uniqodo-mock codes import --url http://127.0.0.1:9000 --offer 7004 personal.csv
    """
    with _client(url, admin_token, request_timeout) as client:
        imported = client.import_codes(offer_id, file.read_bytes())
    click.echo(f"{file}: imported {imported} codes into offer {offer_id}")


@codes.command("export")
@_mock_options
@click.option("--offer", "offer_id", type=int, required=True, help="Offer id to take codes from.")
@click.option(
    "--count",
    type=click.IntRange(1, 100000),
    required=True,
    help="How many codes; all or none: fewer left is an error and issues nothing.",
)
@output_option("Write the CSV to FILE instead of standard output.")
def export_codes(
    url: str,
    admin_token: str | None,
    request_timeout: float,
    offer_id: int,
    count: int,
    output: Path | None,
) -> None:
    """Download COUNT fresh unique codes as CSV (code,offer_id); they are marked issued.

    \b
    Examples:
      uniqodo-mock codes export --offer 7005 --count 100 -o batch.csv
      uniqodo-mock codes export --offer 7005 --count 5
    """
    with _client(url, admin_token, request_timeout) as client:
        text = client.code_batch(offer_id, count)
    if output:
        output.write_text(text, encoding="utf-8", newline="")
        click.echo(f"{output}: {count} codes of offer {offer_id}", err=True)
    else:
        sys.stdout.write(text)
