"""``uniqodo-mock calls list|show|wait|clear|export``: QA's view of the receiver's recorded calls.

Tables for a terminal by default, the API's JSON with ``--json``. Exit status: 0 on success, 1
when ``wait`` timed out or the receiver refused the request, 2 on a usage error, 3 when the
receiver cannot be reached (cli/errors.py).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import orjson

from uniqodo_mock.cli import cli
from uniqodo_mock.cli.options import (
    admin_token_option,
    output_option,
    receiver_url_option,
    request_timeout_option,
)
from uniqodo_mock.receiver.client import ReceiverClient

__all__ = ["calls"]


def _receiver_options(func: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        receiver_url_option(),
        admin_token_option(
            # UNIQODO_RECEIVER_TOKEN, the receiver's own variable, still wins when set.
            envvars=("UNIQODO_RECEIVER_TOKEN", "UNIQODO_MOCK_ADMIN_TOKEN"),
            help="The receiver's admin token, if it was started with one (env "
            "UNIQODO_MOCK_ADMIN_TOKEN).",
        ),
        request_timeout_option(),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _filter_options(func: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.option("--method", help="HTTP method(s), comma-separated."),
        click.option("--path", help="Path, exact or with * wildcards."),
        click.option(
            "--param",
            "params",
            multiple=True,
            metavar="NAME[:VALUE]",
            help="A query/form/JSON field equals VALUE (repeatable).",
        ),
        click.option("--since", help="ISO-8601 time (inclusive)."),
        click.option("--until", help="ISO-8601 time (exclusive)."),
        click.option(
            "--callback/--not-callback",
            "callback",
            default=None,
            help="Only calls that look (or not) like a Uniqodo callback.",
        ),
        click.option(
            "--conforms/--not-conforms",
            "conforms",
            default=None,
            help="Only callbacks that conform (or not) to the spec.",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _filters(kw: dict[str, Any]) -> dict[str, Any]:
    names = ("method", "path", "since", "until", "callback", "conforms")
    out = {name: kw.pop(name) for name in names}
    out["param"] = list(kw.pop("params"))
    return out


def _client(url: str, token: str | None, timeout: float) -> ReceiverClient:
    """The receiver's client; its failures become one line in cli/errors.py."""
    return ReceiverClient(url, token=token, timeout=timeout)


def _verdict(call: dict[str, Any]) -> str:
    verdict = call["callback"]
    if not verdict["looks_like_callback"]:
        return "-"
    return "conforms" if verdict["conforms"] else "NOT conforming"


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _printable(text: str) -> str:
    """Recorded text may hold terminal escape sequences: show control characters escaped."""
    return "".join(ch if ch.isprintable() or ch in "\n\t" else repr(ch)[1:-1] for ch in text)


def _table(rows: list[dict[str, Any]]) -> str:
    columns = ["ID", "RECEIVED (UTC)", "METHOD", "PATH", "ANSWER", "CALLBACK", "PARAMS"]
    lines = [
        [
            str(call["id"]),
            call["received_at"],
            call["method"],
            _cut(_printable(call["path"] + ("?" + call["query"] if call["query"] else "")), 40),
            str(call["response_status"]),
            _verdict(call),
            _cut(_printable(" ".join(f"{p['name']}={p['value']}" for p in call["params"])), 60),
        ]
        for call in rows
    ]
    widths = [
        max(len(col), *(len(line[i]) for line in lines)) if lines else len(col)
        for i, col in enumerate(columns)
    ]
    out = ["  ".join(col.ljust(widths[i]) for i, col in enumerate(columns)).rstrip()]
    out += [
        "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(line)).rstrip() for line in lines
    ]
    return "\n".join(out)


def _detail(call: dict[str, Any]) -> str:
    out = [
        f"Call #{call['id']}  {call['method']} {_printable(call['path'])}",
        f"  received   {call['received_at']}  from {call['client']}",
        f"  query      {_printable(call['query'])}",
        f"  answered   {call['response_status']}"
        + ("  (body over the limit)" if call["rejected"] else ""),
        f"  callback   {_verdict(call)}",
    ]
    out += [f"    - {_printable(problem)}" for problem in call["callback"]["problems"]]
    out.append("Headers:")
    out += [f"  {_printable(name)}: {_printable(value)}" for name, value in call["headers"]]
    out.append("Fields:")
    out += [
        f"  [{p['source']}] {_printable(p['name'])} = {_printable(p['value'])}"
        for p in call["params"]
    ]
    out.append(f"Body ({call['body_size']} bytes):")
    text = call["body_text"]
    out.append(
        _printable(text) if text is not None else f"  (binary; base64) {call['body_base64']}"
    )
    return "\n".join(out)


def _emit_json(data: Any) -> None:
    click.echo(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode())


@cli.group()
def calls() -> None:
    """Inspect the callback receiver's recorded calls (see `uniqodo-mock receiver`).

    \b
    Examples:
      uniqodo-mock calls list
      uniqodo-mock calls wait --param code:AB12E3GH --timeout 20
      uniqodo-mock calls export --format csv -o calls.csv
    """


@calls.command("list")
@_receiver_options
@_filter_options
@click.option("--after", type=int, help="Cursor: only calls with a greater id.")
@click.option(
    "--limit",
    type=click.IntRange(1, 1000),
    default=100,
    show_default=True,
    help="Most calls in the page; the rest: --after the last id shown.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the API's JSON page.")
def list_calls(
    receiver_url: str,
    admin_token: str | None,
    request_timeout: float,
    after: int | None,
    limit: int,
    as_json: bool,
    **kw: Any,
) -> None:
    """List recorded calls, oldest first (newest last).

    \b
    Examples:
      uniqodo-mock calls list
      uniqodo-mock calls list --receiver http://127.0.0.1:8090 --callback --not-conforms
      uniqodo-mock calls list --param code:AB12E3GH --json
    """
    with _client(receiver_url, admin_token, request_timeout) as client:
        page = client.list(after=after, limit=limit, **_filters(kw))
    if as_json:
        _emit_json(page)
        return
    click.echo(_table(page["calls"]))
    if page["has_more"]:
        click.echo(f"… more: --after {page['next_cursor']}")


@calls.command("show")
@_receiver_options
@click.argument("call_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print the API's JSON of the call.")
def show_call(
    receiver_url: str, admin_token: str | None, request_timeout: float, call_id: int, as_json: bool
) -> None:
    """Show one call: headers, fields, body, conformance.

    \b
    Examples:
      uniqodo-mock calls show 12
      uniqodo-mock calls show 12 --json
    """
    with _client(receiver_url, admin_token, request_timeout) as client:
        call = client.show(call_id)
    _print_call(call, as_json)


def _print_call(call: dict[str, Any], as_json: bool) -> None:
    if as_json:
        _emit_json(call)
    else:
        click.echo(_detail(call))


@calls.command("wait")
@_receiver_options
@_filter_options
@click.option("--after", type=int, help="Also accept calls already stored after this id.")
@click.option(
    "--timeout",
    type=click.FloatRange(0),
    default=30.0,
    show_default=True,
    help="Seconds to wait for a matching call; then exit 1.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the API's JSON of the call.")
def wait_call(
    receiver_url: str,
    admin_token: str | None,
    request_timeout: float,
    after: int | None,
    timeout: float,
    as_json: bool,
    **kw: Any,
) -> None:
    """Block until a matching call arrives; exit 1 on timeout.

    \b
    Examples:
      uniqodo-mock calls wait --param code:AB12E3GH
      uniqodo-mock calls wait --after 0 --param orderId:145789 --timeout 20 --json
    """
    with _client(receiver_url, admin_token, request_timeout) as client:
        call = client.wait(timeout, after=after, **_filters(kw))
    _print_call(call, as_json)


@calls.command("clear")
@_receiver_options
@_filter_options
@click.option("--json", "as_json", is_flag=True, help='Print {"deleted": N} as JSON.')
def clear_calls(
    receiver_url: str, admin_token: str | None, request_timeout: float, as_json: bool, **kw: Any
) -> None:
    """Delete the matching calls (all of them without filters).

    \b
    Examples:
      uniqodo-mock calls clear
      uniqodo-mock calls clear --path /hook --until 2031-01-01T00:00:00Z
    """
    with _client(receiver_url, admin_token, request_timeout) as client:
        deleted = client.clear(**_filters(kw))
    if as_json:
        _emit_json({"deleted": deleted})
    else:
        click.echo(f"deleted {deleted} calls")


@calls.command("export")
@_receiver_options
@_filter_options
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["json", "csv"]),
    default="json",
    show_default=True,
    help="File format: the API's JSON list, or one CSV row per call.",
)
@output_option("Write to FILE instead of standard output.")
def export_calls(
    receiver_url: str,
    admin_token: str | None,
    request_timeout: float,
    fmt: str,
    output: Path | None,
    **kw: Any,
) -> None:
    """Export the matching calls as JSON or CSV.

    \b
    Examples:
      uniqodo-mock calls export -o calls.json
      uniqodo-mock calls export --format csv --callback --since 2031-01-01T00:00:00Z > calls.csv
    """
    with _client(receiver_url, admin_token, request_timeout) as client:
        data = client.export(fmt, **_filters(kw))
    if output:
        output.write_bytes(data)
        click.echo(f"wrote {output}", err=True)
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
