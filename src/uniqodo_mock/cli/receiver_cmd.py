"""``uniqodo-mock receiver``: run the callback receiver."""

from __future__ import annotations

import ipaddress

import click
from sqlalchemy.engine import make_url

from uniqodo_mock.cli import cli
from uniqodo_mock.cli.options import connection_limits, connection_options, log_level_option
from uniqodo_mock.receiver.responses import ResponseRule, parse_rule
from uniqodo_mock.receiver.settings import (
    DEFAULT_BODY_TIMEOUT,
    DEFAULT_MAX_BODY_BYTES,
    DEFAULT_RECEIVER_DB_URL,
    ReceiverSettings,
)

__all__ = ["receiver"]


def _rules(
    _ctx: click.Context, _param: click.Parameter, values: tuple[str, ...]
) -> tuple[ResponseRule, ...]:
    try:
        return tuple(parse_rule(value) for value in values)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", default=8090, show_default=True, type=int, help="Port to bind.")
@click.option(
    "--db",
    "db_url",
    envvar="UNIQODO_RECEIVER_DB",
    default=DEFAULT_RECEIVER_DB_URL,
    show_default=True,
    help="Database URL: sqlite:///FILE or postgresql+psycopg://USER@HOST/DB "
    "(env UNIQODO_RECEIVER_DB).",
)
@click.option(
    "--max-body-bytes",
    default=DEFAULT_MAX_BODY_BYTES,
    show_default=True,
    type=int,
    help="Larger bodies get 413; the call is recorded without its body.",
)
@click.option(
    "--body-timeout",
    default=DEFAULT_BODY_TIMEOUT,
    show_default=True,
    type=click.FloatRange(min=0.1, max=3600),
    envvar="UNIQODO_RECEIVER_BODY_TIMEOUT",
    help="Seconds a request body may take to arrive after its headers; slower bodies get 408 "
    "and their connection is closed (the call is recorded without its body; env "
    "UNIQODO_RECEIVER_BODY_TIMEOUT).",
)
@connection_options("UNIQODO_RECEIVER")
@click.option(
    "--respond",
    "responses",
    multiple=True,
    callback=_rules,
    metavar="PATH=STATUS[:DELAY]",
    help="Answer PATH with STATUS after DELAY seconds, e.g. /hook=500 or /slow=204:2.5. "
    "Replaces the rules stored in the database, for every receiver sharing it.",
)
@click.option(
    "--admin-token",
    # UNIQODO_RECEIVER_TOKEN, the receiver's own variable, still wins when set.
    envvar=["UNIQODO_RECEIVER_TOKEN", "UNIQODO_MOCK_ADMIN_TOKEN"],
    default=None,
    metavar="TOKEN",
    help="Protect /__receiver (API and page): Bearer header or ?token= "
    "(env UNIQODO_MOCK_ADMIN_TOKEN).",
)
@log_level_option()
def receiver(
    host: str,
    port: int,
    db_url: str,
    max_body_bytes: int,
    body_timeout: float,
    head_timeout: float,
    max_connections: int,
    responses: tuple[ResponseRule, ...],
    admin_token: str | None,
    log_level: str,
) -> None:
    """Run the callback receiver: record every request outside /__receiver/.

    \b
    QA page:  http://HOST:PORT/__receiver/
    API:      http://HOST:PORT/__receiver/calls  (see openapi/receiver.yaml)

    Response rules (--respond, PUT /__receiver/responses) are stored in the database: every
    receiver sharing it answers the same, and they last across restarts.

    \b
    Examples:
      uniqodo-mock receiver
      uniqodo-mock receiver --port 8090 --db sqlite:///calls.db --respond /hook=500
      uniqodo-mock receiver --host 0.0.0.0 --admin-token "$(openssl rand -hex 16)"
    """
    from uniqodo_mock.receiver.app import create_receiver_app
    from uniqodo_mock.serving import run_server

    if not _is_loopback(host) and not admin_token:
        click.echo(
            f"warning: binding {host} without --admin-token: anyone who can reach this port can "
            "read and delete the recorded calls",
            err=True,
        )
    settings = ReceiverSettings(
        db_url=db_url,
        max_body_bytes=max_body_bytes,
        body_timeout=body_timeout,
        responses=responses,
        admin_token=admin_token,
    )
    app = create_receiver_app(settings)
    shown = make_url(db_url).render_as_string(hide_password=True)
    click.echo(f"receiver on http://{host}:{port}/  (QA page: /__receiver/, db: {shown})", err=True)
    rules = app.state.receiver.responses.read()
    if rules:
        answers = ", ".join(
            f"{r.path}={r.status}" + (f":{r.delay:g}" if r.delay else "") for r in rules
        )
        click.echo(f"response rules in force (stored in the database): {answers}", err=True)
    run_server(
        app,
        limits=connection_limits(head_timeout, max_connections),
        host=host,
        port=port,
        log_level=log_level,
        timeout_graceful_shutdown=2,
    )
