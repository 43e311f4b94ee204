"""How a command fails: one line on standard error naming what failed and what to do, and an
exit status that says which kind of failure it was. Never a traceback.

Every command of the CLI is a ``UniqodoCommand`` (groups: ``UniqodoGroup``); their ``invoke``
turns the clients' exceptions (httpx's transport errors, ``AdminError``, ``ReceiverError``)
into a ``CommandFailure``, here, once, instead of a try/except in each command.

Exit statuses: 0 done; 1 the server refused or failed the request (or ``calls wait`` timed out,
or ``contract`` found non-conforming answers); 2 bad usage (an option, a file, a URL, a refusal
to run without consent); 3 the server could not be reached or did not answer as expected.
"""

from __future__ import annotations

from typing import IO, Any
from urllib.parse import urlsplit

import click

from uniqodo_mock.cli.options import Target, targets, token_given

__all__ = [
    "EXIT_FAILED",
    "EXIT_UNREACHABLE",
    "EXIT_USAGE",
    "CommandFailure",
    "UniqodoCommand",
    "UniqodoGroup",
    "explain",
]

EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_UNREACHABLE = 3


class CommandFailure(click.ClickException):
    """``Error: MESSAGE`` on standard error, then ``details`` (one indented line each: the
    problems a server listed, e.g. every bad line of an uploaded file)."""

    def __init__(
        self, message: str, *, exit_code: int = EXIT_FAILED, details: list[str] | None = None
    ) -> None:
        super().__init__(message)
        # click declares exit_code on the class; main() reads it from the instance, so one
        # failure class can carry any of the exit codes.
        self.exit_code = exit_code  # type: ignore[misc]
        self.details = details or []

    def show(self, file: IO[Any] | None = None) -> None:
        super().show(file)
        for line in self.details:
            click.echo(f"  {line}", err=file is None, file=file)


# What to do about a vendor error, by (command, error number) or error number; formatted
# with the command's params.
_VENDOR_HINTS: dict[tuple[str, int] | int, str] = {
    206: "ask for fewer codes with --count",
    311: "is offer {offer_id} in the mock's fixtures? start the mock with the fixture file that "
    "defines it (e.g. `uniqodo-mock up --fixtures fixtures/features.yaml`), or pass another "
    "--offer",
    ("codes import", 330): "nothing was imported: correct those lines of {file} and import it "
    "again",
}


class _Params(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "?"


def _what(ctx: click.Context) -> str:
    """The command as typed, without the program name: ``codes import``."""
    return " ".join(ctx.command_path.split()[1:]) or ctx.command_path


def _target(ctx: click.Context, url: str | None) -> Target:
    known = targets(ctx)
    if url:
        for target in known:
            if url == target.url or url.startswith(target.url + "/"):
                return target
    if known:
        return known[0]
    parts = urlsplit(url or "")
    base = f"{parts.scheme}://{parts.netloc}" if parts.netloc else (url or "?")
    return Target("server", base, "--url", "is the server running at that address?")


def _the(target: Target) -> str:
    return f"the {target.kind} at {target.url}" if target.kind != "deployment" else target.url


def _path(url: str | None) -> str:
    return urlsplit(url).path if url else "the request"


def _connect_reason(error: Exception) -> str:
    text = str(error)
    lowered = text.lower()
    if "refused" in lowered or "all connection attempts failed" in lowered:
        return "connection refused"
    if "name or service not known" in lowered or "nodename nor servname" in lowered:
        return "unknown host"
    return text or type(error).__name__


def _timeout_seconds(error: Any) -> str:
    try:
        limits = error.request.extensions.get("timeout") or {}
    except RuntimeError:  # an httpx error raised without its request
        return ""
    name = type(error).__name__
    key = {"ConnectTimeout": "connect", "WriteTimeout": "write", "PoolTimeout": "pool"}.get(
        name, "read"
    )
    seconds = limits.get(key)
    return f" within {seconds:g} s" if isinstance(seconds, int | float) else ""


def _request_url(error: Any) -> str | None:
    try:
        return str(error.request.url)
    except (AttributeError, RuntimeError):
        return None


def _has_timeout(ctx: click.Context | None) -> bool:
    """Whether the command (or a group above it: ``admin``) takes --request-timeout."""
    while ctx is not None:
        if any(param.name == "request_timeout" for param in ctx.command.params):
            return True
        ctx = ctx.parent
    return False


def _transport(error: Exception, ctx: click.Context) -> CommandFailure | None:
    import httpx

    if not isinstance(error, httpx.HTTPError | httpx.InvalidURL):
        return None
    url = _request_url(error)
    target = _target(ctx, url)
    the = _the(target)
    if isinstance(error, httpx.InvalidURL | httpx.UnsupportedProtocol):
        return CommandFailure(
            f"{url or target.url} is not a usable URL ({error}): pass e.g. "
            f"{target.option} http://127.0.0.1:8080",
            exit_code=EXIT_USAGE,
        )
    if isinstance(error, httpx.TimeoutException):
        more = "allow more time with --request-timeout" if _has_timeout(ctx) else "retry later"
        return CommandFailure(
            f"{the} did not answer{_timeout_seconds(error)} ({type(error).__name__}): is it "
            f"stuck or overloaded? check its log, or {more}",
            exit_code=EXIT_UNREACHABLE,
        )
    if isinstance(error, httpx.ConnectError):
        reason = _connect_reason(error)
        hint = (
            f"check the host name in {target.option}"
            if reason == "unknown host"
            else target.start_hint
        )
        return CommandFailure(
            f"cannot connect to {the} ({reason}): {hint}", exit_code=EXIT_UNREACHABLE
        )
    return CommandFailure(
        f"{the} closed the connection without a complete answer to {_path(url)} "
        f"({type(error).__name__}: {error or 'no detail'}): is {target.option} the "
        f"{target.kind}'s address, and is a fault rule dropping connections? check its log",
        exit_code=EXIT_UNREACHABLE,
    )


def _refusal(ctx: click.Context, url: str | None, status: int, problems: list[str]) -> Any:
    target = _target(ctx, url)
    the = _the(target)
    if status in (401, 403):
        if token_given(ctx):
            advice = (
                "pass the token it was started with (--admin-token or $UNIQODO_MOCK_ADMIN_TOKEN)"
            )
            return CommandFailure(
                f"{the} refused the admin token (HTTP {status}): {advice}",
                exit_code=EXIT_FAILED,
            )
        return CommandFailure(
            f"{the} needs its admin token (HTTP {status}): pass --admin-token TOKEN or set "
            "$UNIQODO_MOCK_ADMIN_TOKEN",
            exit_code=EXIT_FAILED,
        )
    said = problems[0] if len(problems) == 1 else f"{len(problems)} problems"
    details = problems if len(problems) > 1 else []
    if status >= 500:
        return CommandFailure(
            f"{_what(ctx)} failed: {the} could not answer {_path(url)} (HTTP {status}: {said}); "
            "it may be overloaded or its database unavailable: check its log and retry",
            details=details,
        )
    return CommandFailure(
        f"{_what(ctx)} failed: {the} refused {_path(url)} (HTTP {status}): {said}",
        details=details,
    )


def _client_error(error: Exception, ctx: click.Context) -> CommandFailure | None:
    from uniqodo_mock.admin_client import AdminError
    from uniqodo_mock.admin_client import UnexpectedAnswer as AdminAnswer
    from uniqodo_mock.receiver.client import ReceiverError, WaitTimeout
    from uniqodo_mock.receiver.client import UnexpectedAnswer as ReceiverAnswer

    if isinstance(error, AdminAnswer | ReceiverAnswer):
        target = _target(ctx, error.url)
        problem = error.problems[0] if isinstance(error, AdminError) else error.message
        return CommandFailure(
            f"{(error.url or target.url).split('?')[0]} did not answer like the {target.kind} "
            f"({problem}): is "
            f"{target.option} the {target.kind}'s address?",
            exit_code=EXIT_UNREACHABLE,
        )
    if isinstance(error, WaitTimeout):
        return CommandFailure(
            f"{error.message}: allow more time with --timeout, or check the filters (and "
            "--after: without it only calls from now on count)",
            exit_code=EXIT_FAILED,
        )
    if isinstance(error, ReceiverError):
        return _refusal(ctx, error.url, error.status, [error.message])
    if isinstance(error, AdminError):
        if error.codes and error.status < 500 and error.status not in (401, 403):
            target = _target(ctx, error.url)
            code = error.codes[0]
            message = "; ".join(p.rstrip(".") for p in error.problems)
            hint = _VENDOR_HINTS.get((_what(ctx), code)) or _VENDOR_HINTS.get(code)
            advice = f"; {hint.format_map(_Params(ctx.params))}" if hint else ""
            if len(error.problems) > 1:
                said = (
                    f"answered {len(error.problems)} problems (error {code})"
                    if error.status == 200
                    else f"refused {_path(error.url)} (HTTP {error.status}, error {code}) with "
                    f"{len(error.problems)} problems"
                )
                return CommandFailure(
                    f"{_what(ctx)} failed: {_the(target)} {said}{advice}", details=error.problems
                )
            if error.status == 200:  # a business failure, the vendor's way
                said = f"answered error {code} ({message})"
            else:
                said = f"refused {_path(error.url)} (HTTP {error.status}, error {code}: {message})"
            return CommandFailure(f"{_what(ctx)} failed: {_the(target)} {said}{advice}")
        return _refusal(ctx, error.url, error.status, error.problems)
    return None


def _usage(error: click.UsageError) -> CommandFailure:
    message = error.format_message().rstrip(".")
    where = f"; see `{error.ctx.command_path} --help`" if error.ctx is not None else ""
    return CommandFailure(f"{message}{where}", exit_code=error.exit_code)


def explain(error: Exception, ctx: click.Context) -> CommandFailure | None:
    """The one-line failure for ``error``, or None when it is not a known client failure (a
    bug then shows its traceback)."""
    if isinstance(error, click.UsageError) and not isinstance(
        error, click.exceptions.NoArgsIsHelpError
    ):
        # A subcommand's usage error, in one line instead of click's usage block.
        return _usage(error)
    if isinstance(error, click.ClickException):
        return None
    failure = _transport(error, ctx) or _client_error(error, ctx)
    if failure is None and isinstance(error, OSError) and error.filename:
        failure = CommandFailure(
            f"{error.filename}: {error.strerror or error}", exit_code=EXIT_USAGE
        )
    return failure


class _FailsInOneLine:
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)  # type: ignore[misc]
        except Exception as error:
            failure = explain(error, ctx)
            if failure is None:
                raise
            raise failure from None


class UniqodoCommand(_FailsInOneLine, click.Command):
    """A command whose client failures end in one clear line (see the module's doc)."""


class UniqodoGroup(_FailsInOneLine, click.Group):
    """A group whose commands and subgroups are ``UniqodoCommand`` and ``UniqodoGroup``."""

    command_class = UniqodoCommand
    # Subgroups: the same class as their parent.
    group_class: type[click.Group] | type[type] | None = type
