"""``/__admin/callbacks`` and ``/__admin/deliveries``: callback subscriptions at runtime and the
delivery log. The body's shape is checked by connexion against ``admin.yaml``; this module
checks what a schema cannot (the owner exists, the URL is absolute http(s), a body template's
placeholders are callback items)."""

from __future__ import annotations

import builtins
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from connexion.exceptions import ProblemException

from uniqodo_mock.core.callbacks import DEFAULT_PARAMS, template_problems
from uniqodo_mock.core.dates import from_db, to_db
from uniqodo_mock.store.outbox import OutboxStore

if TYPE_CHECKING:
    from uniqodo_mock.mock.runtime import MockRuntime

__all__ = ["CallbackAdmin", "subscription_json"]


def _bad(detail: str, status: int = 400) -> ProblemException:
    return ProblemException(status=status, title="Bad Request", detail=detail)


def subscription_json(row: dict[str, Any]) -> dict[str, Any]:
    owner: dict[str, int] | None = None
    if row["owner_merchant_id"] is not None:
        owner = {"merchant": row["owner_merchant_id"]}
    elif row["owner_distributor_id"] is not None:
        owner = {"distributor": row["owner_distributor_id"]}
    created: datetime = row["created_at"]
    return {
        "id": row["id"],
        "url": row["url"],
        "method": row["method"],
        # A body template names its own items: params are not sent.
        "params": None if row["body"] is not None else row["params"] or dict(DEFAULT_PARAMS),
        "headers": row["headers"] or {},
        "body": row["body"],
        "owner": owner,
        "origin": row["origin"],
        "created_at": from_db(created).isoformat(),
    }


def _check_template(template: object, method: str, *, has_params: bool) -> None:
    if method != "JSON":
        raise _bad(f"body: a body template is sent as JSON: give method JSON, not {method}.")
    if has_params:
        raise _bad("body: params and body exclude each other: the body names the items it sends.")
    problems = template_problems(template)
    if problems:
        raise _bad("; ".join(f"{p.where()}: {p.message}" for p in problems) + ".")


class CallbackAdmin:
    def __init__(self, runtime: MockRuntime) -> None:
        self.runtime = runtime
        self.outbox = OutboxStore(runtime.repo)

    def list(self) -> list[dict[str, Any]]:
        repo = self.runtime.repo
        with repo.read() as conn:
            return [subscription_json(row) for row in repo.subscriptions_for(conn)]

    def create(self, body: dict[str, Any]) -> dict[str, Any]:
        url = str(body.get("url", "")).strip()
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise _bad(f"url must be an absolute http:// or https:// URL, not {url!r}.")
        method = body.get("method", "POST")
        template = body.get("body")
        if template is not None:
            _check_template(template, method, has_params="params" in body)
        params = body.get("params") or dict(DEFAULT_PARAMS)
        names = [str(name).strip() for name in params.values()]
        if any(not name for name in names):
            raise _bad("params: every parameter name must be a non-empty string.")
        if len(set(names)) != len(names):
            raise _bad("params: two items cannot be sent under the same name.")
        owner = body.get("owner") or {}
        repo = self.runtime.repo
        with repo.write() as conn:
            if "merchant" in owner and not repo.merchant_exists(conn, owner["merchant"]):
                raise _bad(f"owner.merchant: no merchant has the id {owner['merchant']}.")
            if "distributor" in owner and not repo.distributor_exists(conn, owner["distributor"]):
                raise _bad(f"owner.distributor: no distributor has the id {owner['distributor']}.")
            new_id = repo.add_subscription(
                conn,
                {
                    "url": url,
                    "method": method,
                    "params": {item: str(name).strip() for item, name in params.items()},
                    "headers": {str(k): str(v) for k, v in (body.get("headers") or {}).items()},
                    "body": template,
                    "owner_merchant_id": owner.get("merchant"),
                    "owner_distributor_id": owner.get("distributor"),
                    "origin": "runtime",
                    "created_at": to_db(self.runtime.clock.now()),
                },
            )
            row = repo.subscription(conn, new_id)
        assert row is not None
        return subscription_json(row)

    def delete(self, subscription_id: int) -> None:
        with self.runtime.repo.write() as conn:
            if not self.runtime.repo.delete_subscription(conn, subscription_id):
                raise _bad(f"no callback subscription has the id {subscription_id}.", 404)

    def deliveries(
        self,
        status: str | None,
        subscription: int | None,
        redemption: int | None,
        limit: int,
    ) -> builtins.list[dict[str, Any]]:
        return self.outbox.list(
            status=status, subscription_id=subscription, redemption_id=redemption, limit=limit
        )
