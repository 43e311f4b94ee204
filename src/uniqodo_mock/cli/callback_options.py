"""The callback-delivery options shared by ``serve`` and ``up``, and ``up``'s body template for
the subscription it makes (``--callback-body``)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from uniqodo_mock.core.callbacks import template_problems
from uniqodo_mock.dispatch import DispatchSettings

__all__ = ["callback_body_option", "callback_options", "dispatch_settings", "read_callback_body"]

_DEFAULTS = DispatchSettings()


def callback_options(command: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.option(
            "--no-callbacks",
            is_flag=True,
            help="Queue callbacks but do not deliver them from this process.",
        ),
        click.option(
            "--callback-attempts",
            type=click.IntRange(1, 100),
            default=None,
            show_default=str(_DEFAULTS.max_attempts),
            help="Attempts per callback delivery before it is marked failed.",
        ),
        click.option(
            "--callback-backoff",
            type=click.FloatRange(0, 3600),
            default=None,
            show_default=str(_DEFAULTS.backoff_base),
            help="Seconds before the first retry; doubles each retry (±20% jitter).",
        ),
        click.option(
            "--callback-backoff-cap",
            type=click.FloatRange(0, 86400),
            default=None,
            show_default=str(_DEFAULTS.backoff_cap),
            help="Longest wait between retries, in seconds.",
        ),
        click.option(
            "--callback-timeout",
            type=click.FloatRange(0.1, 600),
            default=None,
            show_default=str(_DEFAULTS.timeout),
            help="Seconds an attempt may take before it counts as failed.",
        ),
        click.option(
            "--callback-concurrency",
            type=click.IntRange(1, 1000),
            default=None,
            show_default=str(_DEFAULTS.concurrency),
            help="Deliveries in flight at once.",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def dispatch_settings(kwargs: dict[str, Any]) -> tuple[bool, dict[str, Any]]:
    """Pop the callback options from a command's kwargs: (deliver?, the options given). Options
    not given leave the fixtures' ``settings.callbacks`` (or the defaults) in force."""
    deliver = not kwargs.pop("no_callbacks")
    given = {
        "max_attempts": kwargs.pop("callback_attempts"),
        "backoff_base": kwargs.pop("callback_backoff"),
        "backoff_cap": kwargs.pop("callback_backoff_cap"),
        "timeout": kwargs.pop("callback_timeout"),
        "concurrency": kwargs.pop("callback_concurrency"),
    }
    return deliver, {k: v for k, v in given.items() if v is not None}


def read_callback_body(
    ctx: click.Context | None, param: click.Parameter | None, value: str | None
) -> dict[str, Any] | None:
    """``--callback-body``: a JSON object (or ``@FILE`` holding one), checked as a body
    template (docs/callbacks.md) before anything starts."""
    if value is None:
        return None
    text = value
    if value.startswith("@"):
        try:
            text = Path(value[1:]).read_text(encoding="utf-8")
        except OSError as error:
            raise click.BadParameter(f"cannot read {value[1:]}: {error.strerror}") from None
    try:
        body = json.loads(text)
    except ValueError as error:
        raise click.BadParameter(f"not JSON: {error}") from None
    problems = template_problems(body)
    if problems:
        raise click.BadParameter("; ".join(str(problem) for problem in problems))
    assert isinstance(body, dict)
    return body


def callback_body_option(command: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--callback-body",
        metavar="JSON|@FILE",
        default=None,
        callback=read_callback_body,
        help="Send the receiver's callbacks as this JSON body template (method JSON) in place "
        'of the form: {item} placeholders are sent as text, "{item:number}" as a number, '
        "{{ and }} are braces (docs/callbacks.md).",
    )(command)
