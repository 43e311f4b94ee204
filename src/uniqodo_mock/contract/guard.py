"""What a contract run may do to the mock it tests.

A run against a local mock redeems codes, and every redemption goes out as a callback to the
mock's subscriptions (with ``uniqodo-mock up``: QA's receiver, flooded with generated values).
So before a run that redeems, the mock's subscriptions are read (``GET /__admin/callbacks``):

* none: the run goes ahead;
* some, and ``--allow-callbacks``: it goes ahead, the callbacks go out;
* some, otherwise: ``ContractRefused``, naming them and the ways out.

``--isolate`` saves the whole state first (``GET /__admin/snapshot``), deletes the
subscriptions for the run (no callback goes out), and afterwards puts the state back
(``PUT /__admin/snapshot``): codes, redemptions, the clock and the subscriptions (the snapshot
holds them) are as before the run. A target without the admin API (a real deployment) has no
subscriptions to read: the run goes ahead (``--isolate`` then refuses).
"""

from __future__ import annotations

import contextlib
import json
import tempfile
from collections.abc import Callable, Iterator
from typing import Any

from uniqodo_mock.admin_client import AdminClient, AdminError, UnexpectedAnswer
from uniqodo_mock.contract.settings import ContractSettings

__all__ = ["ContractRefused", "guarded_run"]


class ContractRefused(Exception):
    """The run would harm the target, and the options do not consent to it."""


def _describe(subscription: dict[str, Any]) -> str:
    origin = f"origin {subscription['origin']}, " if subscription.get("origin") else ""
    return f"#{subscription['id']} ({origin}{subscription['method']} {subscription['url']})"


def _subscriptions(admin: AdminClient, settings: ContractSettings) -> list[dict[str, Any]] | None:
    """The target's subscriptions; None when it has no admin API (not a uniqodo-mock)."""
    try:
        return admin.callbacks.list()
    except UnexpectedAnswer:
        return None
    except AdminError as error:
        if error.status in (404, 405):
            return None
        if error.status in (401, 403):
            others = "" if settings.isolate else ", or --allow-callbacks to run without looking"
            raise ContractRefused(
                f"cannot read the callback subscriptions of {settings.base_url} (HTTP "
                f"{error.status}: it wants its admin token): pass --admin-token{others}"
            ) from None
        raise


@contextlib.contextmanager
def _isolated(
    admin: AdminClient, settings: ContractSettings, echo: Callable[[str], Any]
) -> Iterator[None]:
    subscriptions = _subscriptions(admin, settings)
    if subscriptions is None:
        raise ContractRefused(
            f"--isolate needs the mock's admin API, and {settings.base_url} has none: run "
            "without --isolate (a deployment without it sends no simulator callbacks)"
        )
    snapshot = admin.snapshot()
    rows = sum(len(table) for table in snapshot["tables"].values())
    for subscription in subscriptions:
        admin.callbacks.delete(subscription["id"])
    paused = f"; {len(subscriptions)} callback subscription(s) paused" if subscriptions else ""
    echo(f"isolate: saved the state of {settings.base_url} ({rows} rows){paused}")
    try:
        yield
    finally:
        try:
            admin.restore(snapshot)
        except Exception:
            with tempfile.NamedTemporaryFile(
                "w", prefix="uqm-contract-state-", suffix=".json", delete=False
            ) as kept:
                json.dump(snapshot, kept)
            echo(
                f"isolate: restoring the state of {settings.base_url} failed; the saved state "
                f"is in {kept.name}: `uniqodo-mock admin --url {settings.base_url} restore "
                f"{kept.name}`"
            )
            raise
        back = {s["id"] for s in admin.callbacks.list()}
        missing = [s for s in subscriptions if s["id"] not in back]
        if missing:
            echo(
                "isolate: the state is back but not the subscription(s) "
                + ", ".join(_describe(s) for s in missing)
                + ": re-create them with POST /__admin/callbacks"
            )
        else:
            echo(f"isolate: the state of {settings.base_url} is back as it was before the run")


@contextlib.contextmanager
def guarded_run(settings: ContractSettings, echo: Callable[[str], Any]) -> Iterator[None]:
    """Check (or, with ``settings.isolate``, protect) the target around the run."""
    if not settings.isolate and (settings.allow_callbacks or not settings.redeems):
        yield
        return
    with AdminClient(settings.base_url, token=settings.admin_token, timeout=60) as admin:
        if settings.isolate:
            with _isolated(admin, settings, echo):
                yield
            return
        subscriptions = _subscriptions(admin, settings)
        if subscriptions:
            named = ", ".join(_describe(s) for s in subscriptions)
            raise ContractRefused(
                f"refusing to run: the run redeems codes and {settings.base_url} would send a "
                f"callback for each to its subscription(s) {named}; pass --isolate to pause "
                "them and put the mock's state back afterwards, or --allow-callbacks to send "
                "them anyway"
            )
        yield
