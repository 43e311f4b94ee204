#!/usr/bin/env python3
"""Subscribe a callback receiver to every redemption of a running mock, once.

    uniqodo-mock-subscribe --mock http://mock:8080 --receiver-url http://receiver:8090/callback

In compose.yaml the mock (``uniqodo-mock serve``) and the receiver run as separate services, so
the subscription that ``uniqodo-mock up`` makes for itself is made here, through the admin API
(``POST /__admin/callbacks``): a form POST of ``code`` and ``orderId`` for every redemption, as in
the docs' example. A subscription to the same URL already there (the state is kept across
restarts) is left as it is, so running this again never adds a second one. A state reset
(``POST /__admin/reset``) returns the mock to its fixtures and so drops the subscription: run
this again after one (``docker compose run --rm subscribe``).
"""

from __future__ import annotations

import sys

import click
import httpx

from uniqodo_mock.admin_client import AdminClient, AdminError


def _subscribe(admin: AdminClient, receiver_url: str) -> str:
    """Make sure of one subscription to ``receiver_url``; say what was done."""
    listed = admin.get("/callbacks")
    if listed.status_code != 200:
        raise AdminError(listed.status_code, [listed.text])
    for subscription in listed.json()["subscriptions"]:
        if subscription["url"] == receiver_url:
            return f"already subscribed: {receiver_url} (subscription {subscription['id']})"
    created = admin.post(
        "/callbacks",
        json={
            "url": receiver_url,
            "method": "POST",
            "params": {"code": "code", "orderId": "orderId"},
        },
    )
    if created.status_code != 201:
        raise AdminError(created.status_code, [created.text])
    return f"subscribed: {receiver_url} (subscription {created.json()['id']})"


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--mock",
    "mock_url",
    envvar="UNIQODO_MOCK_URL",
    default="http://127.0.0.1:8080",
    show_default=True,
    help="Base URL of the running mock (env UNIQODO_MOCK_URL).",
)
@click.option(
    "--receiver-url",
    required=True,
    help="Where the mock posts each redemption, e.g. http://receiver:8090/callback.",
)
@click.option(
    "--token",
    envvar="UNIQODO_MOCK_ADMIN_TOKEN",
    default=None,
    help="The mock's admin token, if it has one (env UNIQODO_MOCK_ADMIN_TOKEN).",
)
@click.option(
    "--wait",
    "wait_seconds",
    default=60.0,
    show_default=True,
    type=click.FloatRange(min=0),
    help="Seconds to wait for the mock's health endpoint before giving up.",
)
def main(mock_url: str, receiver_url: str, token: str | None, wait_seconds: float) -> None:
    """Subscribe RECEIVER_URL to every redemption of the mock at --mock (idempotent)."""
    try:
        with AdminClient(mock_url, token=token) as admin:
            admin.wait_ready(deadline=wait_seconds)
            click.echo(_subscribe(admin, receiver_url))
    except TimeoutError as error:
        raise click.ClickException(f"{error}: is the mock running?") from None
    except AdminError as error:
        hint = " (set UNIQODO_MOCK_ADMIN_TOKEN or --token)" if error.status == 401 else ""
        raise click.ClickException(f"the mock refused the subscription: {error}{hint}") from None
    except httpx.HTTPError as error:
        raise click.ClickException(f"cannot reach the mock at {mock_url}: {error}") from None


if __name__ == "__main__":
    sys.exit(main())
