"""``uniqodo-mock codes``: upload personalised codes and download CSV batches from a running
mock, through its admin API (``/__admin/offers/{offer_id}/codes``)."""

from __future__ import annotations

import sys
from pathlib import Path

import click
import httpx

from uniqodo_mock.cli import cli

__all__ = ["codes"]

_URL_HELP = "Base URL of the running mock (uniqodo-mock serve)."


def _client(url: str, token: str | None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=url.rstrip("/"), headers=headers, timeout=120)


def _fail_with(response: httpx.Response, what: str) -> None:
    try:
        errors = response.json().get("errors") or []
        lines = [str(e.get("message")) for e in errors] or [response.text]
    except ValueError:
        lines = [response.text.strip() or f"HTTP {response.status_code}"]
    click.echo(f"{what} failed (HTTP {response.status_code}):", err=True)
    for line in lines:
        click.echo(f"  {line}", err=True)
    raise SystemExit(1)


@cli.group()
def codes() -> None:
    """Personalised code uploads and CSV batches of a running mock."""


_token = click.option(
    "--admin-token", envvar="UNIQODO_MOCK_ADMIN_TOKEN", help="Admin token, if the mock has one."
)


@codes.command("import")
@click.option("--url", required=True, help=_URL_HELP)
@click.option("--offer", "offer_id", type=int, required=True, help="Offer id to add the codes to.")
@_token
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_codes(url: str, offer_id: int, admin_token: str | None, file: Path) -> None:
    """Upload FILE (UTF-8 CSV: code[,issued_to][,expires_at], header optional) to an offer.

    All lines or none: every bad or duplicate line is listed with its line number and
    nothing is imported."""
    data = file.read_bytes()
    try:
        with _client(url, admin_token) as client:
            response = client.post(
                f"/__admin/offers/{offer_id}/codes",
                content=data,
                headers={"Content-Type": "text/csv; charset=utf-8"},
            )
    except httpx.HTTPError as error:
        raise click.ClickException(f"cannot reach the mock at {url}: {error}") from None
    if response.status_code != 200:
        click.echo(f"{file}: nothing imported", err=True)
        _fail_with(response, "import")
    imported = response.json()["data"]["imported"]
    click.echo(f"{file}: imported {imported} codes into offer {offer_id}")


@codes.command("export")
@click.option("--url", required=True, help=_URL_HELP)
@click.option("--offer", "offer_id", type=int, required=True, help="Offer id to take codes from.")
@click.option("--count", type=click.IntRange(1, 100000), required=True, help="How many codes.")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write here instead of stdout.",
)
@_token
def export_codes(
    url: str, offer_id: int, count: int, output: Path | None, admin_token: str | None
) -> None:
    """Download COUNT fresh unique codes as CSV (code,offer_id); they are marked issued."""
    try:
        with _client(url, admin_token) as client:
            response = client.post(
                f"/__admin/offers/{offer_id}/codes/batch", params={"count": count}
            )
    except httpx.HTTPError as error:
        raise click.ClickException(f"cannot reach the mock at {url}: {error}") from None
    if response.status_code != 200 or not response.headers.get("content-type", "").startswith(
        "text/csv"
    ):
        _fail_with(response, "export")
    if output:
        output.write_bytes(response.content)
        click.echo(f"{output}: {count} codes of offer {offer_id}", err=True)
    else:
        sys.stdout.write(response.text)
