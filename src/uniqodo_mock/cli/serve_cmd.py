"""``uniqodo-mock serve``: run the mock server."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from uniqodo_mock.cli import cli
from uniqodo_mock.cli.callback_options import callback_options
from uniqodo_mock.cli.common import (
    configure_logging,
    db_option,
    fail_on_fixture_error,
    mock_config,
    warn_if_exposed,
)
from uniqodo_mock.cli.options import (
    connection_limits,
    connection_options,
    cors_options,
    log_level_option,
    option,
)
from uniqodo_mock.store.engine import default_db_url

__all__ = ["serve"]


@cli.command()
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to bind (127.0.0.1: this machine only).",
)
@click.option("--port", default=8080, show_default=True, type=int, help="Port to listen on.")
@db_option(default_db_url)
@click.option(
    "--fixtures",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Fixture file loaded into an empty database [default: fixtures/default.yaml].",
)
@click.option(
    "--reset-fixtures",
    is_flag=True,
    help="Replace the database's state with the fixtures at start.",
)
@click.option(
    "--workers", default=1, show_default=True, type=click.IntRange(1, 64), help="Worker processes."
)
@click.option(
    "--admin-token",
    envvar="UNIQODO_MOCK_ADMIN_TOKEN",
    default=None,
    help="Token that protects /__admin (env UNIQODO_MOCK_ADMIN_TOKEN).",
)
@click.option(
    "--journal-size",
    default=10_000,
    show_default=True,
    type=click.IntRange(1, 10_000_000),
    help="Requests the journal keeps, shared by all workers (GET /__admin/journal).",
)
@click.option(
    "--journal-settle",
    default=0.1,
    show_default=True,
    type=click.FloatRange(0, 10),
    envvar="UNIQODO_MOCK_JOURNAL_SETTLE",
    help="Seconds a journal read waits for other workers' and replicas' entries (they are "
    "written behind the answers; this process's are stored first) "
    "(env UNIQODO_MOCK_JOURNAL_SETTLE).",
)
@option(
    "--max-body-bytes",
    "max_body",
    aliases=("--max-body",),
    default=1_048_576,
    show_default=True,
    type=click.IntRange(1),
    help="Largest request body accepted, in bytes (larger: 413).",
)
@click.option(
    "--body-timeout",
    default=10.0,
    show_default=True,
    type=click.FloatRange(min=0.1),
    envvar="UNIQODO_MOCK_BODY_TIMEOUT",
    help="Seconds a request body may take to arrive (slower: 408; env UNIQODO_MOCK_BODY_TIMEOUT).",
)
@click.option(
    "--admin-max-body-bytes",
    default=64 * 1_048_576,
    show_default=True,
    type=click.IntRange(1),
    envvar="UNIQODO_MOCK_ADMIN_MAX_BODY_BYTES",
    help="Largest /__admin request body (snapshots, fixtures, code uploads), in bytes; larger: "
    "413, refused as it streams in (env UNIQODO_MOCK_ADMIN_MAX_BODY_BYTES).",
)
@connection_options("UNIQODO_MOCK")
@click.option(
    "--db-busy-timeout",
    default=10_000,
    show_default=True,
    type=click.IntRange(1),
    help="SQLite: milliseconds a write waits for the lock before answering 503.",
)
@option(
    "--answer-cache/--no-answer-cache",
    "answer_cache",
    aliases=("--read-memo/--no-read-memo",),
    default=True,
    show_default=True,
    help="Reuse the answer of a repeated read-only request (GET /code of a known customer, "
    "the queries, the offer list) while the database's data version says nothing changed "
    "(SQLite; answers stay exact). Off: every answer is computed afresh.",
)
@click.option(
    "--db-timeout",
    default=3.0,
    show_default=True,
    type=click.FloatRange(min=0.1),
    help="PostgreSQL: seconds a database call may take (connecting, waiting for a pooled "
    "connection or a lock) before the request gets 503 with Retry-After.",
)
@log_level_option()
@cors_options
@callback_options
def serve(
    host: str,
    port: int,
    db: str,
    fixtures: Path | None,
    reset_fixtures: bool,
    workers: int,
    admin_token: str | None,
    journal_size: int,
    journal_settle: float,
    max_body: int,
    body_timeout: float,
    admin_max_body_bytes: int,
    head_timeout: float,
    max_connections: int,
    db_busy_timeout: int,
    answer_cache: bool,
    db_timeout: float,
    log_level: str,
    cors_origins: tuple[str, ...],
    no_cors: bool,
    **callback_kwargs: Any,
) -> None:
    """Run the mock Uniqodo API on HOST:PORT.

    The state lives in the database (--db, a SQLAlchemy URL; SQLite file by default) and
    survives restarts. Fixtures are loaded only into an empty database, or over existing state
    with --reset-fixtures. GET /__admin/health answers 200 once the mock is ready; the API's
    Swagger UI is at /__admin/docs. To get redemption callbacks recorded too, use `uniqodo-mock
    up`.

    \b
    Examples:
      uniqodo-mock serve
      uniqodo-mock serve --fixtures fixtures/docs.yaml   # the docs' examples, as printed
      uniqodo-mock serve --port 9000 --db sqlite:///state.db --fixtures fixtures/features.yaml
      uniqodo-mock serve --db postgresql+psycopg://qa@127.0.0.1/uniqodo --workers 4
      uniqodo-mock serve --host 0.0.0.0 --admin-token "$(openssl rand -hex 16)"
    """
    from uniqodo_mock.mock.runtime import build_runtime

    configure_logging(log_level)
    warn_if_exposed(host, admin_token)
    limits = connection_limits(head_timeout, max_connections)
    config = mock_config(
        db=db,
        fixtures=fixtures,
        reset_fixtures=reset_fixtures,
        admin_token=admin_token,
        cors_origins=cors_origins,
        no_cors=no_cors,
        callback_kwargs=callback_kwargs,
        journal_size=journal_size,
        journal_settle=journal_settle,
        max_body_bytes=max_body,
        body_timeout=body_timeout,
        admin_max_body_bytes=admin_max_body_bytes,
        db_busy_timeout_ms=db_busy_timeout,
        answer_cache=answer_cache,
        db_timeout=db_timeout,
    )
    with fail_on_fixture_error():
        # Migrate and load fixtures once, here, before any worker starts.
        runtime = build_runtime(config)
    config.reset_fixtures = False
    click.echo(
        f"uniqodo-mock serving on http://{host}:{port} (database {_describe_db(db)}); Ctrl-C stops it",
        err=True,
    )
    from uniqodo_mock.heap import settle_startup_heap

    if workers == 1:
        from uniqodo_mock.mock.app import create_app

        # One process: serve the runtime just built (start-up pays for one migration check).
        from uniqodo_mock.serving import run_server

        app = create_app(runtime=runtime)
        settle_startup_heap()
        run_server(app, limits=limits, host=host, port=port, log_level=log_level)
        return
    # Several worker processes under uvicorn's supervisor (it replaces workers that die or
    # hang; SIGHUP restarts them, SIGTTIN/SIGTTOU add and remove one). Each builds its app
    # from the configuration handed over here.
    import os

    from uniqodo_mock.mock.workers import SUPERVISOR_PID

    runtime.close()
    config.export_to_environment()
    os.environ[SUPERVISOR_PID] = str(os.getpid())
    from uniqodo_mock.serving import serve_workers

    sys.exit(
        serve_workers(
            "uniqodo_mock.mock.workers:worker_app",
            workers=workers,
            limits=limits,
            host=host,
            port=port,
            log_level=log_level,
        )
    )


def _describe_db(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
