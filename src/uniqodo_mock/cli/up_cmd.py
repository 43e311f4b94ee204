"""``uniqodo-mock up``: the mock and the callback receiver in one process, wired together.

Both are ``uvicorn.Server``s in one asyncio loop. The receiver starts first so that its real
port (``--receiver-port 0`` picks a free one) is known before the mock's ``up`` subscription
(form POST of ``code`` and ``orderId`` to ``/callback``, as in the docs' example) is ensured.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from sqlalchemy.engine import make_url

from uniqodo_mock.cli import cli
from uniqodo_mock.cli.callback_options import (
    callback_body_option,
    callback_options,
)
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
)
from uniqodo_mock.store.engine import default_db_url

if TYPE_CHECKING:
    from uniqodo_mock.serving import ConnectionLimits

__all__ = ["receiver_db_beside", "up"]

_MERCHANT_KEY = "64a287ae534cf1bd58f45f3e23de9d433caec669"


def receiver_db_beside(mock_db: str) -> str:
    """The receiver's default database: a SQLite file next to the mock's SQLite file, or
    ``uniqodo-receiver.db`` here when the mock uses PostgreSQL."""
    url = make_url(mock_db)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        path = Path(url.database)
        return f"sqlite:///{path.with_name(path.stem + '-receiver.db')}"
    return "sqlite:///uniqodo-receiver.db"


class _Server:
    """A uvicorn server that leaves signal handling to ``up`` (two servers, one Ctrl-C)."""

    def __init__(
        self, app: Any, host: str, port: int, log_level: str, limits: ConnectionLimits
    ) -> None:
        import uvicorn

        from uniqodo_mock.serving import server_config

        class Quiet(uvicorn.Server):
            @contextlib.contextmanager
            def capture_signals(self) -> Iterator[None]:
                yield

        config = server_config(
            app,
            limits=limits,
            host=host,
            port=port,
            log_level=log_level,
            lifespan="on",
            timeout_graceful_shutdown=2,
        )
        self.server = Quiet(config)
        self.task: asyncio.Task[None] | None = None

    async def start(self, what: str) -> int:
        self.task = asyncio.create_task(self._serve())
        while not self.server.started:
            if self.task.done():
                raise click.ClickException(
                    f"the {what} could not listen on {self.server.config.host}:"
                    f"{self.server.config.port} (port in use or not permitted; see above)"
                )
            await asyncio.sleep(0.01)
        return self.server.servers[0].sockets[0].getsockname()[1]

    async def _serve(self) -> None:
        # uvicorn ends a failed startup with sys.exit(); here that is "did not start".
        with contextlib.suppress(SystemExit):
            await self.server.serve()

    async def wait_stopped(self) -> None:
        if self.task:
            await asyncio.gather(self.task, return_exceptions=True)

    def stop(self) -> None:
        self.server.should_exit = True


def _display_host(host: str) -> str:
    return "127.0.0.1" if host in ("0.0.0.0", "::", "") else host


async def _run(
    app: Any,
    receiver_app: Any,
    host: str,
    port: int,
    receiver_port: int,
    log: str,
    limits: ConnectionLimits,
) -> None:
    from uniqodo_mock.mock.runtime import ensure_receiver_subscription

    shown = _display_host(host)
    mock_config = app.runtime.config
    receiver = _Server(receiver_app, host, receiver_port, log, limits)
    real_receiver_port = await receiver.start("receiver")
    mock_config.receiver_url = f"http://{shown}:{real_receiver_port}/callback"
    try:
        ensure_receiver_subscription(app.runtime)
    except BaseException:
        receiver.stop()
        await receiver.wait_stopped()
        raise
    mock = _Server(app, host, port, log, limits)
    try:
        real_port = await mock.start("mock")
    except BaseException:
        receiver.stop()
        await receiver.wait_stopped()
        raise
    loop = asyncio.get_running_loop()

    def stop_both() -> None:
        mock.stop()
        receiver.stop()

    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop_both)
    api = f"http://{shown}:{real_port}"
    rec = f"http://{shown}:{real_receiver_port}"
    # Never print the token itself: banners end up in CI logs.
    guarded = bool(mock_config.admin_token)
    token_note = (
        "\n  Admin token:  required by /__admin and /__receiver (Authorization: Bearer TOKEN)"
        if guarded
        else ""
    )
    token_arg = " --admin-token TOKEN" if guarded else ""
    click.echo(
        f"""
uniqodo-mock is up
  API:          {api}
  Swagger UI:   {api}/__admin/docs
  Receiver:     {rec}/__receiver/   (callbacks POSTed to {mock_config.receiver_url})
  Deliveries:   {api}/__admin/deliveries{token_note}
  Demo shop:    {api}/__demo/shop/   (the merchant tags: code link, basket, order confirmation)

Try it: redeem the docs' code, then see the callback arrive
  curl '{api}/redeem/{_MERCHANT_KEY}/AB12E3GH/1?orderId=145789&orderValue=219.99'
  uniqodo-mock calls wait --receiver {rec}{token_arg} --param code:AB12E3GH --after 0

Ctrl-C stops both.
""".rstrip()
        + "\n",
        err=True,
    )
    assert mock.task and receiver.task
    await asyncio.wait({mock.task, receiver.task}, return_when=asyncio.FIRST_COMPLETED)
    # One stopped (Ctrl-C, or a crash): stop the other too.
    mock.stop()
    receiver.stop()
    await asyncio.gather(mock.task, receiver.task, return_exceptions=True)


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address both servers bind.")
@click.option("--port", default=8080, show_default=True, type=int, help="Port of the mock API.")
@click.option(
    "--receiver-port",
    default=8090,
    show_default=True,
    type=int,
    help="Port of the callback receiver (0: any free port).",
)
@db_option(default_db_url)
@click.option(
    "--receiver-db",
    default=None,
    help="The receiver's database URL [default: a SQLite file beside --db's, else "
    "sqlite:///uniqodo-receiver.db].",
)
@click.option(
    "--fixtures",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Fixture file loaded into an empty database [default: fixtures/default.yaml].",
)
@click.option(
    "--reset-fixtures", is_flag=True, help="Replace the database's state with the fixtures."
)
@log_level_option()
@click.option(
    "--admin-token",
    envvar="UNIQODO_MOCK_ADMIN_TOKEN",
    default=None,
    help="Token that protects the mock's /__admin and the receiver's /__receiver APIs "
    "(Authorization: Bearer TOKEN or ?token=; env UNIQODO_MOCK_ADMIN_TOKEN). Health checks "
    "and the receiver's callback endpoints stay open.",
)
@connection_options("UNIQODO_MOCK")
@cors_options
@callback_options
@callback_body_option
def up(
    host: str,
    port: int,
    receiver_port: int,
    db: str,
    receiver_db: str | None,
    fixtures: Path | None,
    reset_fixtures: bool,
    log_level: str,
    admin_token: str | None,
    cors_origins: tuple[str, ...],
    no_cors: bool,
    head_timeout: float,
    max_connections: int,
    callback_body: dict[str, Any] | None,
    **callback_kwargs: Any,
) -> None:
    """Start the mock API and the callback receiver together, wired up.

    Every successful redemption is delivered as a form POST of code and orderId (the docs'
    example) to the receiver's /callback, through the mock's outbox (retried with backoff;
    see /__admin/deliveries), or as a JSON body with --callback-body. The subscription is
    created once and kept across restarts.

    \b
    Examples:
      uniqodo-mock up
      uniqodo-mock up --port 8080 --receiver-port 8090 --db sqlite:///state.db
      uniqodo-mock up --fixtures fixtures/features.yaml --reset-fixtures
      uniqodo-mock up --host 0.0.0.0 --admin-token "$(openssl rand -hex 16)"
      uniqodo-mock up --callback-body '{"code": "{code}", "total": "{orderValue}"}'
    """
    from sqlalchemy.exc import ArgumentError, DBAPIError

    from uniqodo_mock.heap import settle_startup_heap
    from uniqodo_mock.mock.app import create_app
    from uniqodo_mock.receiver.app import create_receiver_app
    from uniqodo_mock.receiver.settings import ReceiverSettings

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
        receiver_body=callback_body,
    )
    for option, url in (("--db", db), ("--receiver-db", receiver_db)):
        try:
            if url is not None:
                make_url(url)
        except ArgumentError:
            raise click.BadParameter(
                f"{url!r} is not a database URL (sqlite:///FILE or postgresql+psycopg://...)",
                param_hint=option,
            ) from None
    settings = ReceiverSettings(
        db_url=receiver_db or receiver_db_beside(db), admin_token=admin_token
    )
    # Everything that can be wrong with the input is found before either server starts.
    try:
        with fail_on_fixture_error():
            app = create_app(config)
        receiver_app = create_receiver_app(settings)
    except (ArgumentError, DBAPIError) as exc:
        reason = " ".join(str(getattr(exc, "orig", None) or exc).split())
        raise click.ClickException(
            f"cannot open the database: {reason}; check --db and --receiver-db"
        ) from None
    settle_startup_heap()
    try:
        asyncio.run(_run(app, receiver_app, host, port, receiver_port, log_level, limits))
    except KeyboardInterrupt:
        pass
    except (OSError, DBAPIError) as exc:
        reason = " ".join(str(getattr(exc, "orig", None) or exc).split())
        raise click.ClickException(f"could not start: {reason}") from None
