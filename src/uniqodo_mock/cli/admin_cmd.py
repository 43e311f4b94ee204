"""``uniqodo-mock admin``: control a running mock (state, journal, clock, faults) from a shell
or a CI script, through its admin API."""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

from uniqodo_mock.cli import cli

__all__ = ["admin"]

_DEFAULT_URL = "http://127.0.0.1:8080"


@contextlib.contextmanager
def _talking_to(url: str) -> Iterator[None]:
    """Connection problems and refusals end the command with a message, never a traceback."""
    import httpx

    from uniqodo_mock.admin_client import AdminError

    try:
        yield
    except AdminError as error:
        click.echo(f"The mock refused the request (HTTP {error.status}):", err=True)
        for problem in error.problems:
            click.echo(f"  {problem}", err=True)
        raise SystemExit(1) from None
    except httpx.HTTPError as error:
        click.echo(f"Cannot reach the mock at {url}: {error}", err=True)
        raise SystemExit(3) from None


def _client(ctx: click.Context) -> Any:
    from uniqodo_mock.admin_client import AdminClient

    obj = ctx.obj
    return AdminClient(obj["url"], token=obj["token"])


def _emit(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


@cli.group()
@click.option(
    "--url",
    envvar="UNIQODO_MOCK_URL",
    default=_DEFAULT_URL,
    show_default=True,
    help="Base URL of the running mock (env UNIQODO_MOCK_URL).",
)
@click.option(
    "--admin-token",
    envvar="UNIQODO_MOCK_ADMIN_TOKEN",
    default=None,
    help="Token of a mock started with --admin-token (env UNIQODO_MOCK_ADMIN_TOKEN).",
)
@click.pass_context
def admin(ctx: click.Context, url: str, admin_token: str | None) -> None:
    """Control a running mock: reset or snapshot its state, read the request journal, move its
    clock, inject faults.

    \b
    uniqodo-mock admin reset
    uniqodo-mock admin journal --operation validate_code --code AB12E3GX
    uniqodo-mock admin clock set 2031-01-01T00:00:00Z --frozen
    uniqodo-mock admin faults add --path /redeem/ --status 503
    """
    ctx.obj = {"url": url.rstrip("/"), "token": admin_token}


@admin.command()
@click.pass_context
def reset(ctx: click.Context) -> None:
    """Back to the loaded fixtures (clock to real time, fault rules deleted)."""
    with _talking_to(ctx.obj["url"]), _client(ctx) as client:
        result = client.reset()
    click.echo(f"reset to {result['fixtures']}")


@admin.command()
@click.option(
    "--out",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the snapshot to this file [default: stdout].",
)
@click.pass_context
def snapshot(ctx: click.Context, out: Path | None) -> None:
    """Export the whole state as JSON."""
    with _talking_to(ctx.obj["url"]), _client(ctx) as client:
        data = client.snapshot()
    text = json.dumps(data, indent=1, ensure_ascii=False)
    if out is None:
        click.echo(text)
        return
    out.write_text(text + "\n", encoding="utf-8")
    rows = sum(len(r) for r in data["tables"].values())
    click.echo(f"wrote {out} ({rows} rows in {len(data['tables'])} tables)", err=True)


@admin.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_context
def restore(ctx: click.Context, file: Path) -> None:
    """Replace the state with a snapshot FILE (from `admin snapshot --out`)."""
    try:
        document = json.loads(file.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        line = getattr(error, "lineno", None)
        where = f"{file}:{line}" if line else str(file)
        click.echo(f"{where}: not a JSON snapshot: {getattr(error, 'msg', error)}", err=True)
        raise SystemExit(2) from None
    with _talking_to(ctx.obj["url"]), _client(ctx) as client:
        result = client.restore(document)
    total = sum(result["restored"].values())
    click.echo(f"restored {total} rows from {file}")


@admin.command()
@click.option("--operation", help="Operation name, e.g. validate_code, redeem_code.")
@click.option("--code", help="Voucher code of the request.")
@click.option("--error", type=int, help="Vendor error number returned.")
@click.option("--key", help="API key of the request.")
@click.option("--status", type=int, help="HTTP status answered.")
@click.option("--reference", help="An error's reference from the envelope.")
@click.option("--since", help="ISO-8601 time.")
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the entries as JSON.")
@click.option("--clear", is_flag=True, help="Clear the journal (after printing nothing).")
@click.pass_context
def journal(ctx: click.Context, as_json: bool, clear: bool, **filters: Any) -> None:
    """What the mock received and answered, newest first, with the reason for each error."""
    with _talking_to(ctx.obj["url"]), _client(ctx) as client:
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
    """Show or move the mock's "now" (shared by all its workers)."""
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
    """Print the mock's now."""
    with _talking_to(ctx.obj["url"]), _client(ctx) as client:
        _print_clock(client.clock.show())


@clock.command("set")
@click.argument("now")
@click.option("--frozen", is_flag=True, help="Time stands still at NOW.")
@click.pass_context
def clock_set(ctx: click.Context, now: str, frozen: bool) -> None:
    """Jump to NOW (ISO-8601, e.g. 2031-01-01T00:00:00Z); time runs on unless --frozen."""
    with _talking_to(ctx.obj["url"]), _client(ctx) as client:
        _print_clock(client.clock.set(now, frozen=frozen))


@clock.command("offset")
@click.argument("seconds", type=float)
@click.pass_context
def clock_offset(ctx: click.Context, seconds: float) -> None:
    """Run SECONDS ahead of real time (negative: behind)."""
    with _talking_to(ctx.obj["url"]), _client(ctx) as client:
        _print_clock(client.clock.offset(seconds))


@clock.command("real")
@click.pass_context
def clock_real(ctx: click.Context) -> None:
    """Back to real time."""
    with _talking_to(ctx.obj["url"]), _client(ctx) as client:
        _print_clock(client.clock.real())


@admin.group(invoke_without_command=True)
@click.pass_context
def faults(ctx: click.Context) -> None:
    """List, add and delete fault rules."""
    if ctx.invoked_subcommand is None:
        ctx.invoke(faults_list)


@faults.command("list")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def faults_list(ctx: click.Context, as_json: bool) -> None:
    """The rules in force."""
    with _talking_to(ctx.obj["url"]), _client(ctx) as client:
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
@click.option("--path", help="Path prefix, e.g. /redeem/.")
@click.option("--operation", help="Operation name, e.g. redeem_code.")
@click.option("--code", help="Voucher code (or uid).")
@click.option("--status", type=int, help="Answer this HTTP status in the envelope.")
@click.option("--latency-ms", type=float, help="Add this latency.")
@click.option(
    "--error-code", help="Answer this catalogue error (key like code_expired, or number)."
)
@click.option("--drop", is_flag=True, default=None, help="Close the connection.")
@click.option("--rate-limit", help="N/S: 429 with Retry-After after N requests per S seconds.")
@click.option("--probability", type=click.FloatRange(0, 1))
@click.option("--seed", type=int)
@click.option("--count", type=click.IntRange(1))
@click.option("--ttl", "ttl_seconds", type=float, help="Seconds the rule lives.")
@click.option("--callbacks", is_flag=True, help="A rule for redemption callbacks.")
@click.option(
    "--delay-ms",
    type=float,
    help="(callbacks) hold each matching delivery this long; with --out-of-order, the longest "
    "hold [default 10000].",
)
@click.option(
    "--duplicate",
    is_flag=True,
    default=None,
    help="(callbacks) deliver twice, same X-Uniqodo-Delivery-Id.",
)
@click.option(
    "--out-of-order",
    is_flag=True,
    default=None,
    help="(callbacks) hold the delivery until a later one has gone out.",
)
@click.option("--json", "raw", help="The whole rule as JSON (other options are merged in).")
@click.pass_context
def faults_add(
    ctx: click.Context, callbacks: bool, rate_limit: str | None, raw: str | None, **fields: Any
) -> None:
    """Add a fault rule; prints its id."""
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
    with _talking_to(ctx.obj["url"]), _client(ctx) as client:
        created = client.faults.add(rule)
    click.echo(f"added fault rule #{created['id']}")


@faults.command("delete")
@click.argument("rule_id", type=int)
@click.pass_context
def faults_delete(ctx: click.Context, rule_id: int) -> None:
    """Delete rule RULE_ID."""
    with _talking_to(ctx.obj["url"]), _client(ctx) as client:
        client.faults.delete(rule_id)
    click.echo(f"deleted fault rule #{rule_id}")


@faults.command("clear")
@click.pass_context
def faults_clear(ctx: click.Context) -> None:
    """Delete every rule."""
    with _talking_to(ctx.obj["url"]), _client(ctx) as client:
        click.echo(f"deleted {client.faults.clear()} fault rules")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(cli())
