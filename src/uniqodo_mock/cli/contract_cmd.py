"""``uniqodo-mock contract``: the generated contract suite against any deployment."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from uniqodo_mock.cli import cli
from uniqodo_mock.cli.options import admin_token_option, mock_url_option
from uniqodo_mock.contract import settings as defaults

__all__ = ["contract"]


@cli.command()
@mock_url_option(
    kind="deployment",
    aliases=("--base-url",),
    # UNIQODO_BASE_URL, the contract's own variable, still wins when set.
    envvars=("UNIQODO_BASE_URL", "UNIQODO_MOCK_URL"),
    help="The deployment to test: the mock, or a real Uniqodo API (env UNIQODO_MOCK_URL).",
)
@admin_token_option(
    help="The mock's admin token, if it was started with one: to read its callback "
    "subscriptions and, with --isolate, to save and restore its state (env "
    "UNIQODO_MOCK_ADMIN_TOKEN)."
)
@click.option(
    "--isolate",
    is_flag=True,
    help="Save the mock's state before the run and put it back after, with its callback "
    "subscriptions paused meanwhile: codes, redemptions and subscriptions end as they began, "
    "and no callback goes out.",
)
@click.option(
    "--allow-callbacks",
    is_flag=True,
    help="Run even though the mock's callback subscriptions will receive a callback for each "
    "redemption of the run.",
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
    metavar="N/PERIOD",
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
    help="Write a HAR file of every exchange to DIR/contract.har.",
)
@click.option(
    "--spec",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=None,
    help="OpenAPI document to test against [default: the bundled openapi/uniqodo.yaml].",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 16),
    default=1,
    show_default=True,
    help="Operations tested in parallel.",
)
@click.option("--verbose", is_flag=True, help="Also print schemathesis's own report, as it runs.")
def contract(
    url: str,
    admin_token: str | None,
    isolate: bool,
    allow_callbacks: bool,
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
    verbose: bool,
) -> None:
    """Run the generated contract suite against --url (the mock or a real deployment).

    Every operation of the spec, positive and negative data, every schemathesis check, and
    stateful sequences through the spec's links (code -> validate -> redeem -> query). It
    prints a line per phase, each failure with a curl line that reproduces it, and a table of
    the operations; it exits 0 only when everything conforms (1: something does not; 2: it
    refused to run; 3: the deployment cannot be reached).

    Against a URL that is not local it never redeems unless --allow-redeem is given, and it
    limits its request rate. A run that redeems refuses to start while the mock has callback
    subscriptions (`uniqodo-mock up` has one: QA's receiver) unless --isolate (pause them and
    put the mock's state back afterwards) or --allow-callbacks is given.

    \b
    Examples:
      uniqodo-mock contract --url http://127.0.0.1:8080 --seed 1 --junit-xml contract.xml
      uniqodo-mock contract --isolate                 # against QA's `uniqodo-mock up`
      uniqodo-mock contract --url https://api.example.com --rate-limit 2/s
    """
    from uniqodo_mock.cli.errors import EXIT_UNREACHABLE, EXIT_USAGE, CommandFailure
    from uniqodo_mock.contract.guard import ContractRefused, guarded_run
    from uniqodo_mock.contract.runner import ContractStopped, run_contract
    from uniqodo_mock.contract.settings import ContractSettings

    settings = ContractSettings(
        base_url=url,
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
        admin_token=admin_token,
        isolate=isolate,
        allow_callbacks=allow_callbacks,
    )
    _check_reachable(url)
    try:
        with guarded_run(settings, echo=click.echo):
            result = run_contract(settings, verbose=verbose)
    except ContractRefused as refusal:
        raise CommandFailure(f"contract: {refusal}", exit_code=EXIT_USAGE) from None
    except ContractStopped as stopped:
        what = " (--verbose shows schemathesis's report)" if not verbose else ""
        raise CommandFailure(
            f"contract: {stopped}{what}",
            exit_code=EXIT_UNREACHABLE if stopped.loaded else EXIT_USAGE,
        ) from None
    if result.ok:
        click.echo("contract: everything conforms")
    else:
        click.echo(
            f"contract: the deployment does not conform (see the failures above; --seed "
            f"{result.seed} repeats this run)",
            err=True,
        )
    sys.exit(0 if result.ok else 1)


def _check_reachable(url: str) -> None:
    """Fail in a second with one clear line (cli/errors.py), not after every phase has
    errored."""
    import httpx

    httpx.get(url, timeout=10)
