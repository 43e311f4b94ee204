"""Writing a checked fixture document into the mock's database.

Fixtures go into an empty database, or replace the whole state when asked explicitly
(``replace=True``): never silently over existing state.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select

from uniqodo_mock.core.codes import CodeGenerator, normalise_code, normalise_user
from uniqodo_mock.core.dates import parse_duration, parse_offer_date, to_db
from uniqodo_mock.core.money import Discount
from uniqodo_mock.fixtures import FixtureDocument
from uniqodo_mock.store.controls import DatabaseFaultStore
from uniqodo_mock.store.repository import Repository
from uniqodo_mock.store.schema import (
    api_keys,
    codes,
    delivery_attempts,
    distributors,
    merchants,
    meta,
    offer_distributors,
    offers,
    outbox,
    redemptions,
    subscriptions,
)
from uniqodo_mock.store.statements import new_id
from uniqodo_mock.store.template import (
    Stamp,
    prepare_template,
    restart_sequences,
    restore_template,
)

__all__ = [
    "StateNotEmptyError",
    "apply_fixtures",
    "clear_state",
    "restore_fixtures",
    "seed_fault_rules",
]

# Children before parents, so foreign keys hold while deleting.
_TABLES_IN_DELETE_ORDER = (
    delivery_attempts,
    outbox,
    subscriptions,
    redemptions,
    codes,
    offer_distributors,
    offers,
    api_keys,
    distributors,
    merchants,
    meta,
)


class StateNotEmptyError(RuntimeError):
    """Fixtures were about to be loaded over existing state without ``replace``."""


def clear_state(conn: Connection) -> None:
    for table in _TABLES_IN_DELETE_ORDER:
        conn.execute(delete(table))


def apply_fixtures(
    repo: Repository,
    document: FixtureDocument,
    *,
    replace: bool = False,
    now: datetime | None = None,
    template_key: str | None = None,
) -> None:
    """Load ``document`` in one transaction: all of it, or nothing. Ids start from 1, as in a
    new database (PostgreSQL's sequences restart), so a load of one document always gives the
    same rows. ``template_key``: also prepare the template a reset restores
    (``store/template.py``) for that key, in the same transaction."""
    now = now or datetime.now(UTC)
    with repo.write() as conn:
        if not repo.is_empty(conn):
            if not replace:
                raise StateNotEmptyError(
                    "the database already holds state; load fixtures over it only with replace=True "
                    "(CLI: --reset-fixtures, API: POST /__admin/reset)"
                )
            clear_state(conn)
        restart_sequences(conn)
        stamps: list[Stamp] = []
        _load(conn, repo, document, now, stamps)
        # Explicit fixture ids (redemptions) leave the counters behind: new rows continue after.
        restart_sequences(conn)
        seed_fault_rules(conn, document)
        if template_key is not None:
            prepare_template(conn, template_key, stamps)


def restore_fixtures(repo: Repository, document: FixtureDocument, key: str, now: datetime) -> bool:
    """A reset to ``document`` without loading it: its state restored from the template of
    ``key`` (``store/template.py``) and its fault rules in place of every rule, in one
    transaction, as ``apply_fixtures`` at ``now`` leaves them. False (nothing changed) when
    there is no template for ``key``."""
    return restore_template(repo, key, now, also=lambda conn: seed_fault_rules(conn, document))


def seed_fault_rules(conn: Connection, document: FixtureDocument) -> None:
    """The document's ``faults:`` (checked with the document) in place of every fault rule,
    in the transaction that loads its state: every replica sees the new state and its rules
    together. Rules added through the admin API go with the state they were added to."""
    created = time.time()
    DatabaseFaultStore.replace_in(
        conn,
        [
            (rule.get("target", "api"), {k: v for k, v in rule.items() if k != "target"}, created)
            for rule in document.data.get("faults") or []
        ],
    )


def _load(
    conn: Connection,
    repo: Repository,
    document: FixtureDocument,
    now: datetime,
    stamps: list[Stamp],
) -> None:
    """``stamps``: gets the cells whose values come from ``now`` (``store/template.py``)."""
    data = document.data
    zone = document.zone
    settings = document.settings
    seed = settings.get("seed", 0)

    for merchant in data.get("merchants") or []:
        config = {}
        if merchant.get("validation_lock_minutes") is not None:
            config["validation_lock_minutes"] = merchant["validation_lock_minutes"]
        conn.execute(
            insert(merchants).values(
                id=merchant["id"],
                name=merchant["name"],
                shares_data=merchant.get("shares_data", True),
                config=config,
            )
        )
    for distributor in data.get("distributors") or []:
        conn.execute(insert(distributors).values(id=distributor["id"], name=distributor["name"]))

    roles: dict[str, dict[str, int | None]] = {}
    for merchant in data.get("merchants") or []:
        for key in merchant.get("keys") or []:
            roles.setdefault(key, {"merchant_id": None, "distributor_id": None})["merchant_id"] = (
                merchant["id"]
            )
    for distributor in data.get("distributors") or []:
        for key in distributor.get("keys") or []:
            roles.setdefault(key, {"merchant_id": None, "distributor_id": None})[
                "distributor_id"
            ] = distributor["id"]
    if roles:
        conn.execute(insert(api_keys), [{"key": key, **role} for key, role in roles.items()])

    for offer in data.get("offers") or []:
        _load_offer(conn, offer, zone, seed, now, stamps)

    # Codes were written in bulk: the pool counters are set from them once.
    repo.recount_pool(conn)

    created: list[int] = []
    for subscription in data.get("subscriptions") or []:
        owner = subscription.get("owner") or {}
        subscription_id = repo.add_subscription(
            conn,
            {
                "url": subscription["url"],
                "method": subscription.get("method", "POST"),
                "params": subscription.get("params") or {"code": "code", "orderId": "orderId"},
                "headers": subscription.get("headers") or {},
                "body": subscription.get("body"),
                "owner_merchant_id": owner.get("merchant"),
                "owner_distributor_id": owner.get("distributor"),
                "origin": "fixture",
                "created_at": to_db(now),
            },
        )
        created.append(subscription_id)
    if created:
        stamps.append(Stamp("subscriptions", "created_at", tuple(created)))

    repo.set_meta(conn, "fixtures", {"source": document.source, "document": data})
    repo.set_meta(conn, "settings", settings)
    repo.set_meta(conn, "errors", data.get("errors") or {})
    repo.set_meta(conn, "loaded_at", now.isoformat())
    stamps.append(Stamp("meta", "value", ("loaded_at",), iso=True))


def _load_offer(
    conn: Connection,
    offer: dict[str, Any],
    zone: Any,
    seed: Any,
    now: datetime,
    stamps: list[Stamp],
) -> None:
    discount = offer.get("discount") or {"type": "percent", "amount": 0}
    expiry = offer.get("code_expiry")
    expiry_delta = parse_duration(expiry) if expiry not in (None, "") else None
    conn.execute(
        insert(offers).values(
            id=offer["id"],
            promotion_uuid=offer["promotion_uuid"].lower(),
            merchant_id=offer["merchant"],
            offer_description=offer["description"],
            description=offer.get("details", ""),
            status=offer.get("status", "active"),
            master_code=offer["master_code"],
            terms=offer.get("terms"),
            code_type=offer.get("code_type", "unique"),
            redemption_per_code=offer.get("redemption_per_code", 1),
            start_at=to_db(parse_offer_date(str(offer["start_date"]), zone)),
            end_at=to_db(parse_offer_date(str(offer["end_date"]), zone)),
            code_expiry_seconds=int(expiry_delta.total_seconds()) if expiry_delta else None,
            url=offer.get("url", ""),
            discount_type=discount["type"],
            discount_amount=float(discount["amount"]),
            currency=discount.get("currency"),
            codes_per_customer=offer.get("codes_per_customer", 1),
            config=offer.get("config") or {},
            tags=list(offer.get("tags") or []),
        )
    )
    distributor_ids = offer.get("distributors") or []
    if distributor_ids:
        conn.execute(
            insert(offer_distributors),
            [{"offer_id": offer["id"], "distributor_id": d} for d in distributor_ids],
        )

    listed = offer.get("codes") or []
    if offer.get("code_type") == "repeat":
        generic = offer.get("generic_code", offer["master_code"])
        if normalise_code(generic) not in {normalise_code(c["code"]) for c in listed}:
            conn.execute(insert(codes).values(_code_row(offer["id"], generic, "generic")))
    for entry in listed:
        origin = "generic" if offer.get("code_type") == "repeat" else "fixture"
        row = _code_row(offer["id"], entry["code"], origin)
        issued_at = entry.get("issued_at")
        issued_now = False
        if entry.get("issued_to") or entry.get("issued") or issued_at:
            issued_now = not issued_at
            row["issued_at"] = (
                to_db(parse_offer_date(str(issued_at), zone)) if issued_at else to_db(now)
            )
        if entry.get("issued_to"):
            row["issued_to"] = entry["issued_to"]
            row["issued_to_norm"] = normalise_user(entry["issued_to"])
        row["distributor_id"] = entry.get("distributor")
        row["discount_amount"] = entry.get("discount_amount")
        expires_from_now = False
        if entry.get("expires_at"):
            row["expires_at"] = to_db(parse_offer_date(str(entry["expires_at"]), zone))
        elif expiry_delta and row.get("issued_at"):
            row["expires_at"] = row["issued_at"] + expiry_delta
            expires_from_now = issued_now
        row["uses"] = max(entry.get("uses", 0), len(entry.get("redemptions") or []))
        validated_now = False
        if entry.get("val_key"):
            row["val_key"] = entry["val_key"]
            row["validated_at"] = row.get("issued_at") or to_db(now)
            validated_now = issued_now or not row.get("issued_at")
        if "reference" in entry:
            row["reference"] = entry["reference"] or ""
        if entry.get("locked"):
            row["lock_session"] = entry["locked"]["session"]
            row["lock_until"] = to_db(parse_offer_date(str(entry["locked"]["until"]), zone))
        code_id = new_id(conn.execute(insert(codes).values(**row)))
        if issued_now:
            stamps.append(Stamp("codes", "issued_at", (code_id,)))
        if expires_from_now and expiry_delta:
            stamps.append(Stamp("codes", "expires_at", (code_id,), offset=expiry_delta))
        if validated_now:
            stamps.append(Stamp("codes", "validated_at", (code_id,)))
        offer_discount = Discount(
            discount["type"],
            float(entry.get("discount_amount", discount["amount"])),
            discount.get("currency"),
        )
        for redemption in entry.get("redemptions") or []:
            redeemed_now = not redemption.get("redeemed_at")
            redeemed_at = (
                now if redeemed_now else parse_offer_date(str(redemption["redeemed_at"]), zone)
            )
            order_value = float(redemption["order_value"])
            user = redemption.get("user_id", entry.get("issued_to"))
            values: dict[str, Any] = {
                "code_id": code_id,
                "offer_id": offer["id"],
                "merchant_id": offer["merchant"],
                "distributor_id": entry.get("distributor"),
                "code": entry["code"],
                "order_id": str(redemption["order_id"]),
                "order_value": order_value,
                "discount_value": float(
                    redemption.get("discount_value", offer_discount.value_for(order_value))
                ),
                "currency": redemption.get("currency"),
                "custom_params": redemption.get("custom_params"),
                "extras": {},
                "user_id": user,
                "user_id_norm": normalise_user(user) if user else None,
                "redeemed_at": to_db(redeemed_at),
                "redemption_key": f"fixture-{offer['id']}-{entry['code']}-{redemption['order_id']}",
                "awc_token": None,
                # A record's own tags, else the offer's (what the API would have given it).
                "tags": list(redemption.get("tags", offer.get("tags") or [])),
            }
            if "id" in redemption:
                values["id"] = redemption["id"]
            added = new_id(conn.execute(insert(redemptions).values(**values)))
            if redeemed_now:
                stamps.append(Stamp("redemptions", "redeemed_at", (added,)))

    pool = offer.get("pool") or {}
    count = pool.get("generate", 0)
    if count:
        generator = CodeGenerator(
            alphabet=pool.get("alphabet") or CodeGenerator().alphabet,
            length=pool.get("length", 8),
            prefix=pool.get("prefix", ""),
            suffix=pool.get("suffix", ""),
            seed=f"{seed}:{offer['id']}",
        )
        taken = list(
            conn.execute(select(codes.c.code_norm).where(codes.c.offer_id == offer["id"])).scalars()
        )
        # Only the columns a new pool code sets; the others are NULL (no defaults). Every key a
        # row carries costs SQLAlchemy time per row, and pools have thousands of rows.
        offer_id = offer["id"]
        rows = [
            {
                "offer_id": offer_id,
                "code": code,
                "code_norm": normalise_code(code),
                "origin": "generated",
                "uses": 0,
            }
            for code in generator.fresh(count, taken)
        ]
        for start in range(0, len(rows), 5000):
            conn.execute(insert(codes), rows[start : start + 5000])


def _code_row(offer_id: int, code: str, origin: str) -> dict[str, Any]:
    return {
        "offer_id": offer_id,
        "code": code,
        "code_norm": normalise_code(code),
        "origin": origin,
        "issued_at": None,
        "issued_to": None,
        "issued_to_norm": None,
        "distributor_id": None,
        "uses": 0,
        "discount_amount": None,
        "expires_at": None,
        "val_key": None,
        "validated_at": None,
        "lock_session": None,
        "lock_until": None,
    }
