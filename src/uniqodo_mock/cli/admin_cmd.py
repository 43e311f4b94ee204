"""``uniqodo-mock admin``: control a running mock (state, journal, clock, faults) from a shell
or a CI script, through its admin API."""

from __future__ import annotations

import json
import sys
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

__all__ = ["admin"]


def _client(ctx: click.Context) -> Any:
    """The admin client of the mock named by ``admin --url`` (failures: cli/errors.py)."""
    from uniqodo_mock.admin_client import AdminClient

    obj = ctx.obj
    return AdminClient(obj["url"], token=obj["token"], timeout=obj["timeout"])


def _emit(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


@cli.group()
@mock_url_option()
@admin_token_option()
@request_timeout_option()
@click.pass_context
def admin(ctx: click.Context, url: str, admin_token: str | None, request_timeout: float) -> None:
    """Control a running mock: reset or snapshot its state, read the request journal, move its
    clock, inject faults.

    The options go before the subcommand: uniqodo-mock admin --url URL reset.

    \b
    Examples:
      uniqodo-mock admin reset
      uniqodo-mock admin --url http://127.0.0.1:9000 --admin-token "$TOKEN" snapshot -o state.json
      uniqodo-mock admin journal --operation validate_code --code AB12E3GX
      uniqodo-mock admin clock set 2031-01-01T00:00:00Z --frozen
      uniqodo-mock admin faults add --path /redeem/ --status 503
    """
    ctx.obj = {"url": url, "token": admin_token, "timeout": request_timeout}


@admin.command()
@click.pass_context
def reset(ctx: click.Context) -> None:
    """Back to the loaded fixtures (clock to real time, fault rules back to the fixtures' own).

    \b
    Examples:
      uniqodo-mock admin reset
      uniqodo-mock admin --url http://127.0.0.1:9000 reset
    """
    with _client(ctx) as client:
        result = client.reset()
    click.echo(f"reset to {result['fixtures']}")


@admin.command()
@output_option("Write the snapshot to FILE instead of standard output.")
@click.pass_context
def snapshot(ctx: click.Context, output: Path | None) -> None:
    """Export the whole state as JSON.

    \b
    Examples:
      uniqodo-mock admin snapshot -o state.json
      uniqodo-mock admin snapshot | jq '.tables.codes | length'
    """
    with _client(ctx) as client:
        data = client.snapshot()
    text = json.dumps(data, indent=1, ensure_ascii=False)
    if output is None:
        click.echo(text)
        return
    output.write_text(text + "\n", encoding="utf-8")
    rows = sum(len(r) for r in data["tables"].values())
    click.echo(f"wrote {output} ({rows} rows in {len(data['tables'])} tables)", err=True)


@admin.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_context
def restore(ctx: click.Context, file: Path) -> None:
    """Replace the state with a snapshot FILE (from `admin snapshot -o FILE`).

    \b
    Examples:
      uniqodo-mock admin snapshot -o before.json
      uniqodo-mock admin restore before.json
    """
    from uniqodo_mock.cli.errors import EXIT_USAGE, CommandFailure

    try:
        document = json.loads(file.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        line = getattr(error, "lineno", None)
        where = f"{file}:{line}" if line else str(file)
        raise CommandFailure(
            f"{where}: not a JSON snapshot ({getattr(error, 'msg', error)}): pass a file "
            "written by `uniqodo-mock admin snapshot -o FILE`",
            exit_code=EXIT_USAGE,
        ) from None
    with _client(ctx) as client:
        result = client.restore(document)
    total = sum(result["restored"].values())
    click.echo(f"restored {total} rows from {file}")


@admin.command()
@click.option("--operation", help="Operation name, e.g. validate_code, redeem_code.")
@click.option("--code", help="Voucher code of the request (any case).")
@click.option("--error", type=int, help="Vendor error number answered, e.g. 204.")
@click.option("--key", help="API key of the request.")
@click.option("--status", type=int, help="HTTP status answered.")
@click.option("--reference", help="An error's reference from the envelope.")
@click.option("--since", help="Only requests at or after this ISO-8601 time.")
@click.option("--until", help="Only requests before this ISO-8601 time.")
@click.option(
    "--limit",
    type=click.IntRange(1, 10_000),
    default=50,
    show_default=True,
    help="Most entries printed (the newest).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the entries as JSON.")
@click.option("--clear", is_flag=True, help="Clear the journal instead of printing it.")
@click.pass_context
def journal(ctx: click.Context, as_json: bool, clear: bool, **filters: Any) -> None:
    """What the mock received and answered, newest first, with the reason for each error.

    \b
    Examples:
      uniqodo-mock admin journal --code AB12E3GX
      uniqodo-mock admin journal --operation redeem_code --error 201 --limit 5
      uniqodo-mock admin journal --reference HTMEHGNP --json
      uniqodo-mock admin journal --clear
    """
    with _client(ctx) as client:
        if clear:
            click.echo(f"cleared {client.journal.clear()} entries")
            return
        entries = client.journal.list(**filters)
    if as_json:
        _emit(entries)
        return
    if not entries:
        click.echo("no matching requests", err=True)
    for entry in entries:
        query = "&".join(f"{k}={v}" for k, v in entry["params"].items())
        click.echo(
            f"{entry['at'][:23]}  {entry['status']}  {entry['operation'] or '-':<18} "
            f"{entry['method']} {entry['path']}{'?' + query if query else ''}"
        )
        if entry.get("fault"):
            click.echo(f"    fault: {json.dumps(entry['fault'])}")
        for error in entry["errors"]:
            why = error.get("why") or {}
            extras = ", ".join(f"{k}={v}" for k, v in why.items() if k != "reason")
            click.echo(
                f"    error {error['code']} ({error.get('key')}): {why.get('reason')}"
                + (f" [{extras}]" if extras else "")
                + f" ref {error.get('reference')}"
            )


@admin.group(invoke_without_command=True)
@click.pass_context
def clock(ctx: click.Context) -> None:
    """Show or move the mock's "now" (shared by all its workers); alone, show it.

    \b
    Examples:
      uniqodo-mock admin clock
      uniqodo-mock admin clock set 2031-01-01T00:00:00Z --frozen
      uniqodo-mock admin clock offset 3600
      uniqodo-mock admin clock real
    """
    if ctx.invoked_subcommand is None:
        ctx.invoke(clock_show)


def _print_clock(state: dict[str, Any]) -> None:
    mode = (
        "real time"
        if state["real"]
        else ("frozen" if state["frozen"] else f"offset {state['offset_seconds']:+g} s")
    )
    click.echo(f"now {state['now']} ({mode})")


@clock.command("show")
@click.pass_context
def clock_show(ctx: click.Context) -> None:
    """Print the mock's now.

    \b
    Examples:
      uniqodo-mock admin clock show
    """
    with _client(ctx) as client:
        _print_clock(client.clock.show())


@clock.command("set")
@click.argument("now")
@click.option("--frozen", is_flag=True, help="Time stands still at NOW.")
@click.pass_context
def clock_set(ctx: click.Context, now: str, frozen: bool) -> None:
    """Jump to NOW, an ISO-8601 time; time runs on from there unless --frozen.

    \b
    Examples:
      uniqodo-mock admin clock set 2031-01-01T00:00:00Z
      uniqodo-mock admin clock set 2031-01-01T00:00:00Z --frozen
    """
    with _client(ctx) as client:
        _print_clock(client.clock.set(now, frozen=frozen))


@clock.command("offset")
@click.argument("seconds", type=float)
@click.pass_context
def clock_offset(ctx: click.Context, seconds: float) -> None:
    """Run SECONDS ahead of real time (negative: behind).

    \b
    Examples:
      uniqodo-mock admin clock offset 86400     # tomorrow
      uniqodo-mock admin clock offset -- -3600  # an hour ago
    """
    with _client(ctx) as client:
        _print_clock(client.clock.offset(seconds))


@clock.command("real")
@click.pass_context
def clock_real(ctx: click.Context) -> None:
    """Back to real time.

    \b
    Examples:
      uniqodo-mock admin clock real
    """
    with _client(ctx) as client:
        _print_clock(client.clock.real())


@admin.group(invoke_without_command=True)
@click.pass_context
def faults(ctx: click.Context) -> None:
    """List, add and delete fault rules; alone, list them.

    \b
    Examples:
      uniqodo-mock admin faults
      uniqodo-mock admin faults add --path /redeem/ --status 503 --count 1
      uniqodo-mock admin faults delete 3
      uniqodo-mock admin faults clear
    """
    if ctx.invoked_subcommand is None:
        ctx.invoke(faults_list)


@faults.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the rules as JSON.")
@click.pass_context
def faults_list(ctx: click.Context, as_json: bool) -> None:
    """The rules in force, with how often each applied.

    \b
    Examples:
      uniqodo-mock admin faults list
      uniqodo-mock admin faults list --json
    """
    with _client(ctx) as client:
        rules = client.faults.list()
    if as_json:
        _emit(rules)
        return
    if not rules:
        click.echo("no fault rules")
    for rule in rules:
        fields = {k: v for k, v in rule.items() if k not in ("id", "applied") and v is not None}
        click.echo(f"#{rule['id']}  applied {rule['applied']}x  {json.dumps(fields)}")


@faults.command("add")
@click.option("--path", help="Match requests whose path starts with this, e.g. /redeem/.")
@click.option("--operation", help="Match this operation, e.g. redeem_code.")
@click.option("--code", help="Match this voucher code (or uid), any case.")
@click.option("--status", type=int, help="Answer this HTTP status in the envelope.")
@click.option("--latency-ms", type=float, help="Answer this many milliseconds later.")
@click.option(
    "--error-code", help="Answer this catalogue error (a key like code_expired, or a number)."
)
@click.option("--drop", is_flag=True, default=None, help="Close the connection unanswered.")
@click.option(
    "--rate-limit",
    metavar="N/S",
    help="Answer 429 with Retry-After after N requests per S seconds, e.g. 10/60.",
)
@click.option(
    "--probability",
    type=click.FloatRange(0, 1),
    help="Chance that a matching request is hit, from 0 to 1.",
)
@click.option("--seed", type=int, help="Seed of --probability: the same hits in the same order.")
@click.option(
    "--count", type=click.IntRange(1), help="Apply this many times, then delete the rule."
)
@click.option("--ttl", "ttl_seconds", type=float, help="Seconds the rule lives.")
@click.option("--callbacks", is_flag=True, help="A rule for redemption callbacks.")
@click.option(
    "--delay-ms",
    type=float,
    help="(callbacks) Hold each matching delivery this long; with --out-of-order, the longest "
    "hold [default 10000].",
)
@click.option(
    "--duplicate",
    is_flag=True,
    default=None,
    help="(callbacks) Deliver twice, with the same X-Uniqodo-Delivery-Id.",
)
@click.option(
    "--out-of-order",
    is_flag=True,
    default=None,
    help="(callbacks) Hold the delivery until a later one has gone out.",
)
@click.option(
    "--json", "raw", metavar="RULE", help="The whole rule as JSON (other options merge in)."
)
@click.pass_context
def faults_add(
    ctx: click.Context, callbacks: bool, rate_limit: str | None, raw: str | None, **fields: Any
) -> None:
    """Add a fault rule; prints its id.

    \b
    Examples:
      uniqodo-mock admin faults add --path /redeem/ --status 503
      uniqodo-mock admin faults add --operation validate_code --latency-ms 300 --count 5
      uniqodo-mock admin faults add --path /validate/ --rate-limit 10/60
      uniqodo-mock admin faults add --code AB12E3GH --error-code code_expired
      uniqodo-mock admin faults add --callbacks --code AB12E3GH --duplicate --count 1
      uniqodo-mock admin faults add --json '{"path": "/redeem/", "status": 503, "probability": 0.2}'
    """
    rule: dict[str, Any] = {}
    if raw:
        try:
            rule = json.loads(raw)
        except json.JSONDecodeError as error:
            raise click.BadParameter(f"not JSON: {error}", param_hint="--json") from None
    rule.update({k: v for k, v in fields.items() if v is not None})
    if callbacks:
        rule["target"] = "callbacks"
    if rate_limit:
        try:
            requests, seconds = rate_limit.split("/")
            rule["rate_limit"] = {"requests": int(requests), "per_seconds": float(seconds)}
        except ValueError:
            raise click.BadParameter(
                "expected N/S, e.g. 10/60", param_hint="--rate-limit"
            ) from None
    if isinstance(rule.get("error_code"), str) and rule["error_code"].isdigit():
        rule["error_code"] = int(rule["error_code"])
    with _client(ctx) as client:
        created = client.faults.add(rule)
    click.echo(f"added fault rule #{created['id']}")


@faults.command("delete")
@click.argument("rule_id", type=int)
@click.pass_context
def faults_delete(ctx: click.Context, rule_id: int) -> None:
    """Delete rule RULE_ID.

    \b
    Examples:
      uniqodo-mock admin faults delete 3
    """
    with _client(ctx) as client:
        client.faults.delete(rule_id)
    click.echo(f"deleted fault rule #{rule_id}")


@faults.command("clear")
@click.pass_context
def faults_clear(ctx: click.Context) -> None:
    """Delete every rule.

    \b
    Examples:
      uniqodo-mock admin faults clear
    """
    with _client(ctx) as client:
        click.echo(f"deleted {client.faults.clear()} fault rules")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(cli())
