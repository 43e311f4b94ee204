"""The option vocabulary every command shares: one spelling, one default and one environment
variable per idea (the mock's ``--url``, the receiver's ``--receiver``, ``--admin-token``,
``-o/--output``, ``--log-level``, ``--request-timeout``).

Older spellings stay accepted as hidden aliases (``AliasedOption``): they work on the command
line but the help shows only the current name.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import click

if TYPE_CHECKING:
    from uniqodo_mock.serving import ConnectionLimits

__all__ = [
    "DEFAULT_MOCK_URL",
    "DEFAULT_RECEIVER_URL",
    "LOG_LEVELS",
    "AliasedOption",
    "Target",
    "admin_token_option",
    "connection_limits",
    "connection_options",
    "cors_options",
    "log_level_option",
    "mock_url_option",
    "output_option",
    "receiver_url_option",
    "request_timeout_option",
    "targets",
    "token_given",
]

DEFAULT_MOCK_URL = "http://127.0.0.1:8080"
DEFAULT_RECEIVER_URL = "http://127.0.0.1:8090"
LOG_LEVELS = ("debug", "info", "warning", "error", "critical")

# ctx.meta is shared by a command's context and all its parents': the servers a command was
# pointed at are recorded there, so that a failure can name the right one and its option.
_TARGETS_KEY = "uniqodo_mock.targets"
_TOKEN_KEY = "uniqodo_mock.token_given"


class AliasedOption(click.Option):
    """An option with extra spellings (``aliases``) that parse like the others but are left
    out of the help."""

    def __init__(
        self, param_decls: Sequence[str], *, aliases: Sequence[str] = (), **attrs: Any
    ) -> None:
        names = [decl for decl in param_decls if decl.startswith("-")]
        identifiers = [decl for decl in param_decls if not decl.startswith("-")]
        super().__init__([*names, *aliases, *identifiers], **attrs)
        self.aliases = tuple(aliases)

    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        # A boolean pair's alias ("--old/--no-old") names two spellings.
        hidden = {name for alias in self.aliases for name in alias.split("/")}
        every, secondary = self.opts, self.secondary_opts
        self.opts = [name for name in every if name not in hidden]
        self.secondary_opts = [name for name in secondary if name not in hidden]
        try:
            return super().get_help_record(ctx)
        finally:
            self.opts, self.secondary_opts = every, secondary


def option(*param_decls: str, aliases: Sequence[str] = (), **attrs: Any) -> Callable[[Any], Any]:
    """``click.option`` with hidden ``aliases``."""
    return click.option(*param_decls, cls=AliasedOption, aliases=aliases, **attrs)


@dataclass
class Target:
    """A server a command talks to: what it is (``the mock``), its URL, the option that sets
    it and what to do when it cannot be reached."""

    kind: str
    url: str
    option: str
    start_hint: str


def targets(ctx: click.Context) -> list[Target]:
    return ctx.meta.setdefault(_TARGETS_KEY, [])


def token_given(ctx: click.Context) -> bool:
    return bool(ctx.meta.get(_TOKEN_KEY))


_MOCK_HINT = "is the mock running? start it with `uniqodo-mock up`, or pass its address with --url"
_RECEIVER_HINT = (
    "is the receiver running? start it with `uniqodo-mock up` (or `uniqodo-mock receiver`), "
    "or pass its address with --receiver"
)
_DEPLOYMENT_HINT = (
    "is the API running there? start the mock with `uniqodo-mock up`, or pass the deployment's "
    "address with --url"
)
_HINTS = {"mock": _MOCK_HINT, "receiver": _RECEIVER_HINT, "deployment": _DEPLOYMENT_HINT}


def _checked_url(kind: str, name: str) -> Callable[[click.Context, click.Parameter, Any], Any]:
    def callback(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc:
            from uniqodo_mock.cli.errors import CommandFailure

            raise CommandFailure(
                f"{name} {value!r} is not an http:// or https:// URL: pass e.g. "
                f"{name} {DEFAULT_RECEIVER_URL if kind == 'receiver' else DEFAULT_MOCK_URL}",
                exit_code=2,
            )
        url = value.strip().rstrip("/")
        targets(ctx).insert(0, Target(kind, url, name, _HINTS[kind]))
        return url

    return callback


def mock_url_option(
    *,
    kind: str = "mock",
    aliases: Sequence[str] = (),
    envvars: Sequence[str] = ("UNIQODO_MOCK_URL",),
    help: str = "The mock's URL (env UNIQODO_MOCK_URL).",
) -> Callable[[Any], Any]:
    """``--url``: where the mock (or, for ``contract``, the deployment) answers."""
    return option(
        "--url",
        aliases=aliases,
        envvar=list(envvars),
        default=DEFAULT_MOCK_URL,
        show_default=True,
        metavar="URL",
        callback=_checked_url(kind, "--url"),
        help=help,
    )


def receiver_url_option() -> Callable[[Any], Any]:
    """``--receiver``: where the callback receiver answers."""
    return option(
        "--receiver",
        "receiver_url",
        # UNIQODO_RECEIVER_URL: the variable's former name, still read.
        envvar=["UNIQODO_MOCK_RECEIVER_URL", "UNIQODO_RECEIVER_URL"],
        default=DEFAULT_RECEIVER_URL,
        show_default=True,
        metavar="URL",
        callback=_checked_url("receiver", "--receiver"),
        help="The callback receiver's URL (env UNIQODO_MOCK_RECEIVER_URL).",
    )


def _note_token(ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    if value:
        ctx.meta[_TOKEN_KEY] = True
    return value


def admin_token_option(
    *,
    envvars: Sequence[str] = ("UNIQODO_MOCK_ADMIN_TOKEN",),
    help: str = "The mock's admin token, if it was started with one "
    "(env UNIQODO_MOCK_ADMIN_TOKEN).",
) -> Callable[[Any], Any]:
    """``--admin-token`` (formerly also ``--token``): the token sent as ``Authorization:
    Bearer``."""
    return option(
        "--admin-token",
        aliases=("--token",),
        envvar=list(envvars),
        default=None,
        metavar="TOKEN",
        callback=_note_token,
        help=help,
    )


def _origins(_ctx: click.Context, param: click.Parameter, value: str) -> tuple[str, ...]:
    origins = tuple(part.strip().rstrip("/") for part in value.split(",") if part.strip())
    for origin in origins:
        parts = urlsplit(origin)
        if origin != "*" and (
            parts.scheme not in ("http", "https") or not parts.netloc or parts.path
        ):
            raise click.BadParameter(
                f"{origin!r} is not an origin: give scheme://host[:port] (e.g. "
                "http://localhost:3000), several separated by commas, or * for any",
                param=param,
            )
    return origins or ("*",)


def cors_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """``--cors-origins`` and ``--no-cors``: which pages of other origins may call the mock."""
    command = click.option(
        "--no-cors",
        is_flag=True,
        default=False,
        help="Send no CORS headers: browsers then refuse pages of other origins the answers.",
    )(command)
    return click.option(
        "--cors-origins",
        default="*",
        show_default=True,
        envvar="UNIQODO_MOCK_CORS_ORIGINS",
        metavar="ORIGINS",
        callback=_origins,
        help="Origins whose pages may call the API with fetch (CORS), separated by commas, "
        "e.g. http://localhost:3000; * is any origin (env UNIQODO_MOCK_CORS_ORIGINS). The "
        "admin API never answers other origins.",
    )(command)


def connection_options(env_prefix: str) -> Callable[[Any], Any]:
    """``--head-timeout`` and ``--max-connections`` (env ``{env_prefix}_HEAD_TIMEOUT``,
    ``{env_prefix}_MAX_CONNECTIONS``): the server's connection bounds
    (``uniqodo_mock.serving.ConnectionLimits``)."""
    from uniqodo_mock.serving import DEFAULT_HEAD_TIMEOUT, DEFAULT_MAX_CONNECTIONS

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        command = click.option(
            "--max-connections",
            type=click.IntRange(1),
            default=DEFAULT_MAX_CONNECTIONS,
            show_default=True,
            envvar=f"{env_prefix}_MAX_CONNECTIONS",
            help="Connections open at once (per worker); one more is answered 503 and closed "
            f"(env {env_prefix}_MAX_CONNECTIONS).",
        )(command)
        return click.option(
            "--head-timeout",
            type=click.FloatRange(min=0.1, max=3600),
            default=DEFAULT_HEAD_TIMEOUT,
            show_default=True,
            envvar=f"{env_prefix}_HEAD_TIMEOUT",
            metavar="SECONDS",
            help="Seconds a request's head (request line and headers) may take to arrive, from "
            "the connection's start or the previous answer; slower connections are closed "
            f"(env {env_prefix}_HEAD_TIMEOUT).",
        )(command)

    return decorate


def connection_limits(head_timeout: float, max_connections: int) -> ConnectionLimits:
    """The ``ConnectionLimits`` of ``connection_options``' values."""
    from uniqodo_mock.serving import ConnectionLimits

    return ConnectionLimits(head_timeout=head_timeout, max_connections=max_connections)


def request_timeout_option(default: float = 30.0) -> Callable[[Any], Any]:
    return click.option(
        "--request-timeout",
        type=click.FloatRange(min=0.1),
        default=default,
        show_default=True,
        metavar="SECONDS",
        help="Seconds to wait for each answer before giving up.",
    )


def _writable(_ctx: click.Context, _param: click.Parameter, value: Path | None) -> Path | None:
    """Checked before any request: a batch of codes is issued once, and must not be lost to a
    file that cannot be written."""
    if value is None:
        return None
    folder = value.parent if str(value.parent) else Path(".")
    if (
        not folder.is_dir()
        or not os.access(folder, os.W_OK)
        or (value.exists() and not os.access(value, os.W_OK))
    ):
        from uniqodo_mock.cli.errors import EXIT_USAGE, CommandFailure

        why = "no such folder" if not folder.is_dir() else "not writable"
        raise CommandFailure(
            f"cannot write {value} ({why}): pass -o/--output a file in a writable folder",
            exit_code=EXIT_USAGE,
        )
    return value


def output_option(help: str) -> Callable[[Any], Any]:
    """``-o/--output FILE`` (formerly also ``--out``)."""
    return option(
        "-o",
        "--output",
        aliases=("--out",),
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        metavar="FILE",
        callback=_writable,
        help=help,
    )


def log_level_option(default: str = "warning") -> Callable[[Any], Any]:
    return click.option(
        "--log-level",
        type=click.Choice(LOG_LEVELS),
        default=default,
        show_default=True,
        help="Least severe log records printed on standard error.",
    )
