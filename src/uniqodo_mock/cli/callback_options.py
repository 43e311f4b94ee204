"""The callback-delivery options shared by ``serve`` and ``up``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from uniqodo_mock.dispatch import DispatchSettings

__all__ = ["callback_options", "dispatch_settings"]

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
