"""Every query the mock runs, on SQLAlchemy Core. No web framework, no domain decisions.

Writes that must be atomic under concurrency (claiming a pool code, counting a use) are single
conditional statements or run under a row lock, so they hold across worker processes and across
replicas sharing one PostgreSQL database.
"""

from __future__ import annotations

import uuid
from collections.abc import Hashable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    and_,
    bindparam,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)

from uniqodo_mock.core.dates import from_db, to_db
from uniqodo_mock.core.model import Account, Code, Offer, Redemption
from uniqodo_mock.core.money import Discount
from uniqodo_mock.store.cache import VersionedCache
from uniqodo_mock.store.hot import HotStatement
from uniqodo_mock.store.readconn import ThreadReadConnections, supports_thread_reads
from uniqodo_mock.store.schema import (
    api_keys,
    codes,
    merchants,
    meta,
    offer_distributors,
    offers,
    outbox,
    redemptions,
    subscriptions,
)

__all__ = ["Repository"]

_OFFER_COLUMNS = (*offers.c, merchants.c.name.label("merchant_name"))


def _offer(row: Any) -> Offer:
    m = row._mapping
    return Offer(
        id=m["id"],
        promotion_uuid=m["promotion_uuid"],
        merchant_id=m["merchant_id"],
        merchant_name=m["merchant_name"],
        offer_description=m["offer_description"],
        description=m["description"],
        status=m["status"],
        master_code=m["master_code"],
        terms=m["terms"],
        code_type=m["code_type"],
        redemption_per_code=m["redemption_per_code"],
        start_at=from_db(m["start_at"]),
        end_at=from_db(m["end_at"]),
        code_expiry=timedelta(seconds=m["code_expiry_seconds"])
        if m["code_expiry_seconds"]
        else None,
        url=m["url"],
        discount=Discount(m["discount_type"], m["discount_amount"], m["currency"]),
        codes_per_customer=m["codes_per_customer"],
        config=m["config"] or {},
    )


def _code(row: Any) -> Code:
    return _code_of(row._mapping)


def _code_of(m: Any) -> Code:
    return Code(
        id=m["id"],
        offer_id=m["offer_id"],
        code=m["code"],
        origin=m["origin"],
        issued_at=from_db(m["issued_at"]) if m["issued_at"] else None,
        issued_to=m["issued_to"],
        distributor_id=m["distributor_id"],
        uses=m["uses"],
        discount_amount=m["discount_amount"],
        expires_at=from_db(m["expires_at"]) if m["expires_at"] else None,
        val_key=m["val_key"],
        lock_session=m["lock_session"],
        lock_until=from_db(m["lock_until"]) if m["lock_until"] else None,
    )


def _redemption(row: Any) -> Redemption:
    return _redemption_of(row._mapping)


def _redemption_of(m: Any) -> Redemption:
    return Redemption(
        id=m["id"],
        offer_id=m["offer_id"],
        merchant_id=m["merchant_id"],
        distributor_id=m["distributor_id"],
        code=m["code"],
        order_id=m["order_id"],
        order_value=m["order_value"],
        discount_value=m["discount_value"],
        currency=m["currency"],
        custom_params=m["custom_params"],
        redeemed_at=from_db(m["redeemed_at"]),
        redemption_key=m["redemption_key"],
        awc_token=m["awc_token"],
        tags=m["tags"] or [],
        user_id=m["user_id"],
    )


# Hot queries, built once: constructing a select() costs as much as running it from
# SQLAlchemy's compiled cache; the non-expanding ones run on the driver cursor (store/hot.py).
_CODES_OF_USER = HotStatement(
    select(codes)
    .where(
        codes.c.offer_id == bindparam("offer_id"),
        codes.c.issued_to_norm == bindparam("user_norm"),
    )
    .order_by(codes.c.issued_at, codes.c.id)
)
_REDEMPTIONS_ORDER = (redemptions.c.redeemed_at, redemptions.c.id)
_REDEMPTIONS_OF_USER = HotStatement(
    select(redemptions)
    .where(
        redemptions.c.offer_id == bindparam("offer_id"),
        redemptions.c.user_id_norm == bindparam("user_norm"),
    )
    .order_by(*_REDEMPTIONS_ORDER)
)
# A code's redemptions, in no particular order (the caller merges and sorts a handful of rows).
_REDEMPTIONS_OF_CODE = HotStatement(
    select(redemptions).where(redemptions.c.code_id == bindparam("code_id"))
)
_REDEMPTIONS_OF_USER_OR_CODES = (
    select(redemptions)
    .where(
        and_(
            redemptions.c.offer_id == bindparam("offer_id"),
            or_(
                redemptions.c.user_id_norm == bindparam("user_norm"),
                redemptions.c.code_id.in_(bindparam("code_ids", expanding=True)),
            ),
        )
    )
    .order_by(*_REDEMPTIONS_ORDER)
)


class Repository:
    """Queries over one engine. ``read()`` and ``write()`` open a transaction each."""

    def __init__(self, engine: Engine, *, cache_ttl: float = 0.1) -> None:
        self.engine = engine
        self.is_postgres = engine.dialect.name == "postgresql"
        self._read_engine = engine.execution_options(uqm_readonly=True)
        # SQLite files: reads on a connection kept per thread (no pool checkout per request).
        self._thread_reads = (
            ThreadReadConnections(engine) if supports_thread_reads(engine) else None
        )
        # Keys, offers and authorisations are read on every request and rarely change.
        self.cache = VersionedCache(cache_ttl)
        self._seen_data_version: Hashable | None = None

    # -- transactions -------------------------------------------------------------------
    @contextmanager
    def read(self, *, single_statement: bool = False) -> Iterator[Connection]:
        """A read transaction; see ``ThreadReadConnections.read`` for ``single_statement``
        (a hint: other databases always get a transaction)."""
        # The read-only option is set on an engine view once: setting it per connection ran
        # SQLAlchemy's option events on every request.
        if self._thread_reads is not None:
            with self._thread_reads.read(single_statement=single_statement) as conn:
                yield conn
            return
        with self._read_engine.connect() as conn, conn.begin():
            yield conn

    def data_version(self) -> Hashable | None:
        """A token that changes whenever anyone commits a change to the database, cheap
        enough to read per request; None where the database offers none (PostgreSQL).

        A new version also makes the read cache check its own version before its next read,
        so that what is read after this call is exact as of the token (not up to the cache's
        ttl behind another replica's change)."""
        if self._thread_reads is None:
            return None
        version = self._thread_reads.data_version()
        if version != self._seen_data_version:
            self._seen_data_version = version
            self.cache.mark_changed()
        return version

    def close(self) -> None:
        """Release the connections kept for reads (the engine's pool is the caller's)."""
        if self._thread_reads is not None:
            self._thread_reads.close()

    @contextmanager
    def write(self) -> Iterator[Connection]:
        try:
            with self.engine.begin() as conn:
                yield conn
        finally:
            self.cache.mark_written()

    # -- meta ---------------------------------------------------------------------------
    def get_meta(self, conn: Connection, key: str) -> Any:
        return conn.execute(select(meta.c.value).where(meta.c.key == key)).scalar_one_or_none()

    def set_meta(self, conn: Connection, key: str, value: Any) -> None:
        if conn.execute(select(meta.c.key).where(meta.c.key == key)).first():
            conn.execute(update(meta).where(meta.c.key == key).values(value=value))
        else:
            conn.execute(insert(meta).values(key=key, value=value))

    def is_empty(self, conn: Connection) -> bool:
        return conn.execute(select(func.count()).select_from(merchants)).scalar_one() == 0

    # -- accounts and offers --------------------------------------------------------------
    def account(self, conn: Connection, key: str) -> Account | None:
        return self.cache.get(conn, ("account", key), lambda: self._load_account(conn, key))

    def _load_account(self, conn: Connection, key: str) -> Account | None:
        row = conn.execute(
            select(api_keys.c.merchant_id, api_keys.c.distributor_id).where(api_keys.c.key == key)
        ).first()
        return Account(key, row[0], row[1]) if row else None

    def offer(self, conn: Connection, offer_id: int, *, lock: bool = False) -> Offer | None:
        if lock:
            return self._load_offer(conn, offer_id, lock=True)
        return self.cache.get(conn, ("offer", offer_id), lambda: self._load_offer(conn, offer_id))

    def _load_offer(self, conn: Connection, offer_id: int, *, lock: bool = False) -> Offer | None:
        query = (
            select(*_OFFER_COLUMNS)
            .join(merchants, merchants.c.id == offers.c.merchant_id)
            .where(offers.c.id == offer_id)
        )
        if lock and self.is_postgres:
            query = query.with_for_update(of=offers)
        row = conn.execute(query).first()
        return _offer(row) if row else None

    def offer_by_uuid(self, conn: Connection, promotion_uuid: str) -> Offer | None:
        return self.cache.get(
            conn,
            ("offer_uuid", promotion_uuid),
            lambda: self._load_offer_by_uuid(conn, promotion_uuid),
        )

    def _load_offer_by_uuid(self, conn: Connection, promotion_uuid: str) -> Offer | None:
        row = conn.execute(
            select(*_OFFER_COLUMNS)
            .join(merchants, merchants.c.id == offers.c.merchant_id)
            .where(offers.c.promotion_uuid == promotion_uuid.lower())
        ).first()
        return _offer(row) if row else None

    def offers_for_distributor(self, conn: Connection, distributor_id: int) -> list[Offer]:
        rows = conn.execute(
            select(*_OFFER_COLUMNS)
            .join(merchants, merchants.c.id == offers.c.merchant_id)
            .join(offer_distributors, offer_distributors.c.offer_id == offers.c.id)
            .where(offer_distributors.c.distributor_id == distributor_id)
            .order_by(offers.c.id)
        )
        return [_offer(row) for row in rows]

    def offers_with_claim_credential(self, conn: Connection) -> list[Offer]:
        rows = conn.execute(
            select(*_OFFER_COLUMNS).join(merchants, merchants.c.id == offers.c.merchant_id)
        )
        return [offer for offer in map(_offer, rows) if offer.config.get("claim_credential")]

    def is_authorised(self, conn: Connection, offer_id: int, distributor_id: int) -> bool:
        return self.cache.get(
            conn,
            ("authorised", offer_id, distributor_id),
            lambda: self._load_authorised(conn, offer_id, distributor_id),
        )

    def _load_authorised(self, conn: Connection, offer_id: int, distributor_id: int) -> bool:
        return (
            conn.execute(
                select(offer_distributors.c.offer_id).where(
                    offer_distributors.c.offer_id == offer_id,
                    offer_distributors.c.distributor_id == distributor_id,
                )
            ).first()
            is not None
        )

    def merchant_shares_data(self, conn: Connection, merchant_id: int) -> bool:
        return bool(
            conn.execute(
                select(merchants.c.shares_data).where(merchants.c.id == merchant_id)
            ).scalar()
        )

    def merchant_config(self, conn: Connection, merchant_id: int) -> dict[str, Any]:
        return (
            conn.execute(select(merchants.c.config).where(merchants.c.id == merchant_id)).scalar()
            or {}
        )

    # -- codes --------------------------------------------------------------------------
    def code_remaining(
        self, conn: Connection, offer_id: int, data_version: Hashable | None = None
    ) -> int:
        """Unissued codes of the offer's pool. With ``data_version`` (``data_version()``), the
        count is exact as of that version; without, at most the cache's ttl old."""
        return self.cache.get_volatile(
            conn,
            ("remaining", offer_id),
            lambda: self._count_remaining(conn, offer_id),
            version=data_version,
        )

    def _count_remaining(self, conn: Connection, offer_id: int) -> int:
        return conn.execute(
            select(func.count())
            .select_from(codes)
            .where(
                codes.c.offer_id == offer_id,
                codes.c.issued_at.is_(None),
                codes.c.origin != "generic",
            )
        ).scalar_one()

    def codes_of_user(self, conn: Connection, offer_id: int, user_norm: str) -> list[Code]:
        rows = _CODES_OF_USER.rows(conn, {"offer_id": offer_id, "user_norm": user_norm})
        return [_code_of(row) for row in rows]

    def generic_code(self, conn: Connection, offer_id: int) -> Code | None:
        row = conn.execute(
            select(codes).where(codes.c.offer_id == offer_id, codes.c.origin == "generic").limit(1)
        ).first()
        return _code(row) if row else None

    def claim_pool_code(
        self,
        conn: Connection,
        offer_id: int,
        *,
        now: datetime,
        user: str | None,
        user_norm: str | None,
        distributor_id: int | None,
        expires_at: datetime | None,
        discount_amount: float | None,
    ) -> Code | None:
        """Take one unissued code of the offer's pool, atomically; None when the pool is empty.

        PostgreSQL: ``FOR UPDATE SKIP LOCKED`` lets concurrent issuers take different rows.
        SQLite: the write transaction holds the database's write lock already.
        """
        for _ in range(5):
            pick = (
                select(codes.c.id)
                .where(
                    codes.c.offer_id == offer_id,
                    codes.c.issued_at.is_(None),
                    codes.c.origin != "generic",
                )
                .order_by(codes.c.id)
                .limit(1)
            )
            if self.is_postgres:
                pick = pick.with_for_update(skip_locked=True)
            code_id = conn.execute(pick).scalar_one_or_none()
            if code_id is None:
                return None
            claimed = conn.execute(
                update(codes)
                .where(codes.c.id == code_id, codes.c.issued_at.is_(None))
                .values(
                    issued_at=to_db(now),
                    issued_to=user,
                    issued_to_norm=user_norm,
                    distributor_id=distributor_id,
                    expires_at=to_db(expires_at) if expires_at else None,
                    discount_amount=discount_amount,
                )
            ).rowcount
            if claimed == 1:
                return self.code_by_id(conn, code_id)
        return None

    def code_by_id(self, conn: Connection, code_id: int) -> Code:
        return _code(conn.execute(select(codes).where(codes.c.id == code_id)).one())

    def find_codes(self, conn: Connection, code_norm: str) -> list[tuple[Code, int]]:
        """Every code with this text, with the merchant of its offer."""
        rows = conn.execute(
            select(codes, offers.c.merchant_id.label("offer_merchant_id"))
            .join(offers, offers.c.id == codes.c.offer_id)
            .where(codes.c.code_norm == code_norm)
            .order_by(codes.c.id)
        )
        return [(_code(row), row._mapping["offer_merchant_id"]) for row in rows]

    def master_code_offers(self, conn: Connection, code_norm: str) -> list[int]:
        return list(
            conn.execute(
                select(offers.c.id).where(func.upper(offers.c.master_code) == code_norm)
            ).scalars()
        )

    def codes_like(self, conn: Connection, merchant_id: int | None, limit: int = 5000) -> list[str]:
        """Known code texts (for "did you mean" hints)."""
        query = select(codes.c.code).join(offers, offers.c.id == codes.c.offer_id).limit(limit)
        query = query.where(or_(codes.c.issued_at.is_not(None), codes.c.origin != "generated"))
        if merchant_id is not None:
            query = query.where(offers.c.merchant_id == merchant_id)
        return list(conn.execute(query).scalars())

    def set_val_key(self, conn: Connection, code_id: int, val_key: str, now: datetime) -> None:
        conn.execute(
            update(codes)
            .where(codes.c.id == code_id)
            .values(val_key=val_key, validated_at=to_db(now))
        )

    def set_lock(
        self, conn: Connection, code_id: int, session: str | None, until: datetime | None
    ) -> None:
        conn.execute(
            update(codes)
            .where(codes.c.id == code_id)
            .values(lock_session=session, lock_until=to_db(until) if until else None)
        )

    def count_use(self, conn: Connection, code_id: int, limit: int | None) -> bool:
        """Add one use unless the limit is reached: one conditional UPDATE, so two concurrent
        redemptions of a single-use code cannot both succeed."""
        statement = update(codes).where(codes.c.id == code_id).values(uses=codes.c.uses + 1)
        if limit is not None:
            statement = statement.where(codes.c.uses < limit)
        return conn.execute(statement).rowcount == 1

    # -- redemptions ----------------------------------------------------------------------
    def insert_redemption(self, conn: Connection, values: dict[str, Any]) -> int:
        values = dict(values)
        values["redeemed_at"] = to_db(values["redeemed_at"])
        return conn.execute(insert(redemptions).values(**values)).inserted_primary_key[0]

    def redemption(self, conn: Connection, redemption_id: int) -> Redemption | None:
        row = conn.execute(select(redemptions).where(redemptions.c.id == redemption_id)).first()
        return _redemption(row) if row else None

    # -- merchant tags and affiliate conversions ------------------------------------------
    def redemption_by_key(self, conn: Connection, redemption_key: str) -> Redemption | None:
        """The redemption the mock answered with this ``redemption_key`` (fixture ones too)."""
        row = conn.execute(
            select(redemptions).where(redemptions.c.redemption_key == redemption_key).limit(1)
        ).first()
        return _redemption(row) if row else None

    def set_awc_token(self, conn: Connection, redemption_id: int, token: str) -> bool:
        """Keep ``token`` on the redemption unless it has one already (the first conversion
        wins): one conditional UPDATE, so two concurrent conversions keep the same token."""
        return (
            conn.execute(
                update(redemptions)
                .where(redemptions.c.id == redemption_id, redemptions.c.awc_token.is_(None))
                .values(awc_token=token)
            ).rowcount
            == 1
        )

    def merchant_tag_key(self, conn: Connection, merchant_id: int) -> str | None:
        """The key a merchant's JavaScript tags use: a merchant-only key before one that is
        also a distributor's, then the first in key order; None when the merchant has none."""
        return conn.execute(
            select(api_keys.c.key)
            .where(api_keys.c.merchant_id == merchant_id)
            .order_by(api_keys.c.distributor_id.is_not(None), api_keys.c.key)
            .limit(1)
        ).scalar_one_or_none()

    def redemptions_of_user(
        self, conn: Connection, offer_id: int, user_norm: str, code_ids: Sequence[int]
    ) -> list[Redemption]:
        """Redemptions made by the user (as ``email``/user id) or of codes issued to them."""
        values = {"offer_id": offer_id, "user_norm": user_norm}
        if code_ids:
            values["code_ids"] = list(code_ids)
            return [_redemption(row) for row in conn.execute(_REDEMPTIONS_OF_USER_OR_CODES, values)]
        return [_redemption_of(row) for row in _REDEMPTIONS_OF_USER.rows(conn, values)]

    def redemptions_of_customer(
        self,
        conn: Connection,
        offer_id: int,
        user_norm: str,
        code_ids: Sequence[int] | None = None,
    ) -> list[Redemption]:
        """Redemptions of the offer made by the user (as ``email``/user id) or of codes issued
        to them (``code_ids``: the ids of ``codes_of_user``, when the caller has read them).

        Index seeks only: one for the user's own redemptions (in index order), one per code.
        A single statement (a ``UNION`` inside ``IN``) built two temporary B-trees per call,
        which cost SQLite more than the rest of the publisher query together."""
        if code_ids is None:
            code_ids = [code.id for code in self.codes_of_user(conn, offer_id, user_norm)]
        found = {
            row["id"]: row
            for row in _REDEMPTIONS_OF_USER.rows(
                conn, {"offer_id": offer_id, "user_norm": user_norm}
            )
        }
        for code_id in code_ids:
            for row in _REDEMPTIONS_OF_CODE.rows(conn, {"code_id": code_id}):
                found.setdefault(row["id"], row)
        ordered = sorted(found.values(), key=lambda row: (row["redeemed_at"], row["id"]))
        # A code's redemptions are of its offer; the filter keeps the answer exact regardless.
        return [_redemption_of(row) for row in ordered if row["offer_id"] == offer_id]

    def redemptions_of_code(self, conn: Connection, code_id: int) -> list[Redemption]:
        rows = conn.execute(
            select(redemptions).where(redemptions.c.code_id == code_id).order_by(redemptions.c.id)
        )
        return [_redemption(row) for row in rows]

    # -- callbacks ------------------------------------------------------------------------
    def subscriptions_for(self, conn: Connection) -> list[dict[str, Any]]:
        return [
            dict(row._mapping)
            for row in conn.execute(select(subscriptions).order_by(subscriptions.c.id))
        ]

    def add_subscription(self, conn: Connection, values: dict[str, Any]) -> int:
        return conn.execute(insert(subscriptions).values(**values)).inserted_primary_key[0]

    def ensure_origin_subscription(self, conn: Connection, values: dict[str, Any]) -> int:
        """The one subscription of ``values["origin"]`` at ``values["url"]``: kept if present,
        added if not; others of that origin (an old address) are removed."""
        same_origin = subscriptions.c.origin == values["origin"]
        conn.execute(delete(subscriptions).where(same_origin, subscriptions.c.url != values["url"]))
        existing = conn.execute(
            select(subscriptions.c.id).where(same_origin).order_by(subscriptions.c.id).limit(1)
        ).scalar_one_or_none()
        return existing if existing is not None else self.add_subscription(conn, values)

    def subscription(self, conn: Connection, subscription_id: int) -> dict[str, Any] | None:
        row = conn.execute(
            select(subscriptions).where(subscriptions.c.id == subscription_id)
        ).first()
        return dict(row._mapping) if row else None

    def delete_subscription(self, conn: Connection, subscription_id: int) -> bool:
        return (
            conn.execute(
                delete(subscriptions).where(subscriptions.c.id == subscription_id)
            ).rowcount
            == 1
        )

    def enqueue_deliveries(
        self, conn: Connection, rows: list[dict[str, Any]], now: datetime
    ) -> None:
        if not rows:
            return
        stamp = to_db(now)
        conn.execute(
            insert(outbox),
            [
                {
                    "delivery_id": str(uuid.uuid4()),
                    "status": "pending",
                    "attempts": 0,
                    "next_attempt_at": stamp,
                    "created_at": stamp,
                    **row,
                }
                for row in rows
            ],
        )

    # -- personalised uploads and CSV batches ----------------------------------------------
    def offer_code_texts(self, conn: Connection, offer_id: int) -> list[str]:
        return list(
            conn.execute(select(codes.c.code_norm).where(codes.c.offer_id == offer_id)).scalars()
        )

    def insert_codes(self, conn: Connection, rows: list[dict[str, Any]]) -> None:
        for start in range(0, len(rows), 5000):
            conn.execute(insert(codes), rows[start : start + 5000])

    def issue_batch(self, conn: Connection, offer_id: int, count: int, now: datetime) -> list[str]:
        """Mark ``count`` unissued codes issued and return them; [] when fewer are left (the
        caller then issues none: a batch is all or nothing)."""
        pick = (
            select(codes.c.id, codes.c.code)
            .where(
                codes.c.offer_id == offer_id,
                codes.c.issued_at.is_(None),
                codes.c.origin != "generic",
            )
            .order_by(codes.c.id)
            .limit(count)
        )
        if self.is_postgres:
            pick = pick.with_for_update(skip_locked=True)
        picked = conn.execute(pick).all()
        if len(picked) < count:
            return []
        ids = [row[0] for row in picked]
        for start in range(0, len(ids), 5000):
            conn.execute(
                update(codes)
                .where(codes.c.id.in_(ids[start : start + 5000]))
                .values(issued_at=to_db(now))
            )
        return [row[1] for row in picked]
