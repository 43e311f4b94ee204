"""``uniqodo-mock contract``: the generated contract suite against any deployment."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from uniqodo_mock.cli import cli
from uniqodo_mock.contract import settings as defaults

__all__ = ["contract"]


@cli.command()
@click.option(
    "--base-url",
    envvar="UNIQODO_BASE_URL",
    required=True,
    help="The deployment to test, e.g. http://127.0.0.1:8080 (env UNIQODO_BASE_URL).",
)
@click.option(
    "--merchant-key",
    envvar="UNIQODO_MERCHANT_KEY",
    default=defaults.DEFAULT_MERCHANT_KEY,
    show_default=True,
    help="Merchant API key (env UNIQODO_MERCHANT_KEY).",
)
@click.option(
    "--merchant-id",
    envvar="UNIQODO_MERCHANT_ID",
    type=int,
    default=defaults.DEFAULT_MERCHANT_ID,
    show_default=True,
    help="Merchant id (env UNIQODO_MERCHANT_ID).",
)
@click.option(
    "--distributor-key",
    envvar="UNIQODO_DISTRIBUTOR_KEY",
    default=defaults.DEFAULT_DISTRIBUTOR_KEY,
    show_default=True,
    help="Distributor (publisher) API key (env UNIQODO_DISTRIBUTOR_KEY).",
)
@click.option(
    "--offer-id",
    envvar="UNIQODO_OFFER_ID",
    type=int,
    default=defaults.DEFAULT_OFFER_ID,
    show_default=True,
    help="Offer to issue codes from (env UNIQODO_OFFER_ID).",
)
@click.option(
    "--promotion-uuid",
    envvar="UNIQODO_PROMOTION_UUID",
    default=defaults.DEFAULT_PROMOTION_UUID,
    show_default=True,
    help="Promotion uuid of that offer (env UNIQODO_PROMOTION_UUID).",
)
@click.option(
    "--allow-redeem",
    is_flag=True,
    help="Also redeem against a non-local URL (redemptions spend real codes).",
)
@click.option(
    "--rate-limit",
    default=None,
    help="Requests per period, e.g. 10/s [default: none locally, 5/s elsewhere].",
)
@click.option("--seed", type=int, default=None, help="Seed for a reproducible run.")
@click.option(
    "--max-examples",
    type=click.IntRange(1, 10_000),
    default=20,
    show_default=True,
    help="Generated examples per operation and phase.",
)
@click.option(
    "--junit-xml",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write a JUnit XML report (one test case per operation) to FILE.",
)
@click.option(
    "--report-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Write a HAR file of every exchange to DIR.",
)
@click.option(
    "--spec",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=None,
    help="OpenAPI document to test against [default: the bundled openapi/uniqodo.yaml].",
)
@click.option(
    "--workers", type=click.IntRange(1, 16), default=1, show_default=True, help="Parallel workers."
)
def contract(
    base_url: str,
    merchant_key: str,
    merchant_id: int,
    distributor_key: str,
    offer_id: int,
    promotion_uuid: str,
    allow_redeem: bool,
    rate_limit: str | None,
    seed: int | None,
    max_examples: int,
    junit_xml: Path | None,
    report_dir: Path | None,
    spec: Path | None,
    workers: int,
) -> None:
    """Run the generated contract suite against BASE_URL (the mock or a real deployment).

    \b
    Every operation of the spec, positive and negative data, every schemathesis check, and
    stateful sequences through the spec's links (code -> validate -> redeem -> query).
    Against a URL that is not local it never redeems unless --allow-redeem is given, and
    it limits its request rate. Exits 0 only when everything conforms; each failure is
    printed with a curl line that reproduces it.

    \b
    Example:
      uniqodo-mock contract --base-url http://127.0.0.1:8080 --seed 1 --junit-xml contract.xml
    """
    from uniqodo_mock.contract.runner import run_contract
    from uniqodo_mock.contract.settings import ContractSettings

    settings = ContractSettings(
        base_url=base_url,
        merchant_key=merchant_key,
        merchant_id=merchant_id,
        distributor_key=distributor_key,
        offer_id=offer_id,
        promotion_uuid=promotion_uuid,
        spec=spec,
        seed=seed,
        max_examples=max_examples,
        allow_redeem=allow_redeem,
        rate_limit=rate_limit,
        junit_xml=junit_xml,
        report_dir=report_dir,
        workers=workers,
    )
    _check_reachable(base_url)
    result = run_contract(settings, echo=click.echo)
    if result.ok:
        click.echo("contract: everything conforms")
    else:
        click.echo("contract: the deployment does not conform (see failures above)", err=True)
    sys.exit(0 if result.ok else 1)


def _check_reachable(base_url: str) -> None:
    """Fail in a second with one clear line, not after every phase has errored."""
    import httpx

    try:
        httpx.get(base_url, timeout=10)
    except httpx.HTTPError as error:
        raise click.ClickException(
            f"cannot reach {base_url}: {error or type(error).__name__}; is the API running?"
        ) from None
