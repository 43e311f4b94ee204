"""Every query the mock runs, on SQLAlchemy Core. No web framework, no domain decisions.

Writes that must be atomic under concurrency (claiming a pool code, counting a use) are single
conditional statements or run under a row lock, so they hold across worker processes and across
replicas sharing one PostgreSQL database. The counters answers need (an offer's unissued pool
codes, a code's uses) are columns kept by the transactions that change them, so no answer costs
more as the data grows; the statements of the vendor API are listed in ``VENDOR_STATEMENTS``, and
the test suite checks that each one is answered from an index on both databases.
"""

from __future__ import annotations

import contextlib
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    BindParameter,
    Connection,
    Engine,
    Select,
    bindparam,
    delete,
    exists,
    func,
    insert,
    literal,
    select,
    update,
)

from uniqodo_mock.core.dates import from_db, to_db
from uniqodo_mock.core.model import Account, Code, Offer, Redemption
from uniqodo_mock.core.money import Discount
from uniqodo_mock.store.commit_guard import current_guard
from uniqodo_mock.store.no_wait import WouldWait, is_lock_wait, waiting_allowed
from uniqodo_mock.store.schema import (
    api_keys,
    codes,
    distributors,
    merchants,
    meta,
    offer_distributors,
    offers,
    outbox,
    redemptions,
    subscriptions,
)
from uniqodo_mock.store.statements import Statement, new_id

# ``Connection``: the handle of a transaction the repository opened (``read()``, ``write()``),
# which callers pass back to its methods.
__all__ = [
    "VENDOR_STATEMENTS",
    "WAL_RESTART_FRAMES",
    "Connection",
    "KeyAndOffer",
    "Repository",
    "mark_changed",
]


@dataclass(frozen=True)
class KeyAndOffer:
    """An API key's account, the offer a request names, and whether the key's distributor is
    authorised for it: what every distributor operation reads first, in one statement."""

    account: Account | None
    offer: Offer | None
    authorised: bool


_OFFER_COLUMNS = (
    *offers.c,
    merchants.c.name.label("merchant_name"),
    merchants.c.config.label("merchant_config"),
)


def _offer_of(m: Mapping[str, Any]) -> Offer:
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
        pool_unissued=m["pool_unissued"],
        merchant_config=m["merchant_config"] or {},
        tags=tuple(m["tags"] or ()),
    )


def _code_of(m: Mapping[Any, Any]) -> Code:
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
        reference=m["reference"],
    )


def _redemption_of(m: Mapping[Any, Any]) -> Redemption:
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


def _unissued_pool(offer_id: Any) -> Any:
    return (
        codes.c.offer_id == offer_id,
        codes.c.issued_at.is_(None),
        codes.c.origin != "generic",
    )


# -- the vendor API's statements, built once ----------------------------------------------
def _key_and_offer(offer_match: Any) -> Select[Any]:
    authorised = exists().where(
        offer_distributors.c.offer_id == offers.c.id,
        offer_distributors.c.distributor_id == api_keys.c.distributor_id,
    )
    return (
        select(
            api_keys.c.merchant_id.label("key_merchant_id"),
            api_keys.c.distributor_id.label("key_distributor_id"),
            authorised.label("authorised"),
            *_OFFER_COLUMNS,
        )
        .select_from(
            api_keys.outerjoin(offers, offer_match).outerjoin(
                merchants, merchants.c.id == offers.c.merchant_id
            )
        )
        .where(api_keys.c.key == bindparam("key"))
    )


_KEY_AND_OFFER = Statement(_key_and_offer(offers.c.id == bindparam("offer_id")))
_KEY_AND_PROMOTION = Statement(
    _key_and_offer(offers.c.promotion_uuid == bindparam("promotion_uuid"))
)
_ACCOUNT = Statement(
    select(api_keys.c.merchant_id, api_keys.c.distributor_id).where(
        api_keys.c.key == bindparam("key")
    )
)
_OFFER = Statement(
    select(*_OFFER_COLUMNS)
    .join(merchants, merchants.c.id == offers.c.merchant_id)
    .where(offers.c.id == bindparam("offer_id"))
)
_OFFER_BY_UUID = Statement(
    select(*_OFFER_COLUMNS)
    .join(merchants, merchants.c.id == offers.c.merchant_id)
    .where(offers.c.promotion_uuid == bindparam("promotion_uuid"))
)
_CODES_OF_USER = Statement(
    select(codes)
    .where(
        codes.c.offer_id == bindparam("offer_id"),
        codes.c.issued_to_norm == bindparam("user_norm"),
    )
    .order_by(codes.c.issued_at, codes.c.id)
)
_GENERIC_CODE = Statement(
    select(codes)
    .where(codes.c.offer_id == bindparam("offer_id"), codes.c.origin == "generic")
    .limit(1)
)
# The next unissued pool code: the index (offer_id, issued_at, id) yields it first.
_NEXT_POOL_CODE = Statement(
    select(codes.c.id)
    .where(*_unissued_pool(bindparam("offer_id")))
    # The index's own order: the same as by id (issued_at is null throughout), and one that
    # PostgreSQL's planner sees the index provide (after "IS NULL" it would sort by id).
    .order_by(codes.c.issued_at, codes.c.id)
    .limit(1)
)
_CODES_BY_TEXT = Statement(
    select(codes, *[column.label(f"offer__{column.key}") for column in _OFFER_COLUMNS])
    .join(offers, offers.c.id == codes.c.offer_id)
    .join(merchants, merchants.c.id == offers.c.merchant_id)
    .where(codes.c.code_norm == bindparam("code_norm"))
    .order_by(codes.c.id)
)
_REDEMPTIONS_ORDER = (redemptions.c.redeemed_at, redemptions.c.id)
_REDEMPTIONS_OF_USER = Statement(
    select(redemptions)
    .where(
        redemptions.c.offer_id == bindparam("offer_id"),
        redemptions.c.user_id_norm == bindparam("user_norm"),
    )
    .order_by(*_REDEMPTIONS_ORDER)
)
_REDEMPTIONS_OF_CODE = Statement(
    select(redemptions).where(redemptions.c.code_id == bindparam("code_id"))
)
_SUBSCRIPTIONS = Statement(select(subscriptions).order_by(subscriptions.c.id))
_OFFERS_OF_DISTRIBUTOR = Statement(
    select(*_OFFER_COLUMNS)
    .join(merchants, merchants.c.id == offers.c.merchant_id)
    .join(offer_distributors, offer_distributors.c.offer_id == offers.c.id)
    .where(offer_distributors.c.distributor_id == bindparam("distributor_id"))
    # The same order as offers.id (the join's equality), and the index's own.
    .order_by(offer_distributors.c.offer_id)
)
_REDEMPTION_BY_KEY = Statement(
    select(redemptions).where(redemptions.c.redemption_key == bindparam("redemption_key"))
)
# What issuing a code sets on it, by either statement below.
_ISSUED: dict[str, BindParameter[Any]] = {
    "issued_at": bindparam("b_issued_at"),
    "issued_to": bindparam("b_issued_to"),
    "issued_to_norm": bindparam("b_issued_to_norm"),
    "distributor_id": bindparam("b_distributor_id"),
    "expires_at": bindparam("b_expires_at"),
    "discount_amount": bindparam("b_discount_amount"),
}
# Taking a pool code: conditional on its still being unissued (a concurrent issuer may have it).
_CLAIM_CODE = Statement(
    update(codes)
    .where(codes.c.id == bindparam("code_id"), codes.c.issued_at.is_(None))
    .values(_ISSUED)
    .returning(*codes.c)
)
_COUNT_USE = Statement(
    update(codes)
    .where(codes.c.id == bindparam("code_id"), codes.c.uses < bindparam("limit"))
    .values(uses=codes.c.uses + 1)
)
_COUNT_USE_UNLIMITED = Statement(
    update(codes).where(codes.c.id == bindparam("code_id")).values(uses=codes.c.uses + 1)
)
_POOL_ISSUED = Statement(
    update(offers)
    .where(offers.c.id == bindparam("offer_id"))
    .values(pool_unissued=offers.c.pool_unissued - bindparam("issued"))
)
_INSERT_REDEMPTION = Statement(
    insert(redemptions).returning(*redemptions.c),
    column_keys=[column.key for column in redemptions.c if column.key != "id"],
)
_SET_VAL_KEY = Statement(
    update(codes)
    .where(codes.c.id == bindparam("code_id"))
    .values(val_key=bindparam("b_val_key"), validated_at=bindparam("b_validated_at"))
)
_CUSTOMER_LOCK = Statement(
    select(func.pg_advisory_xact_lock(func.hashtextextended(bindparam("customer"), 0)))
)
_OFFER_LOCKED = Statement(_OFFER.statement.with_for_update(of=offers))
_NEXT_POOL_CODE_LOCKED = Statement(_NEXT_POOL_CODE.statement.with_for_update(skip_locked=True))
# PostgreSQL: the next unlocked pool code, taken in the same statement (one round trip;
# concurrent issuers skip each other's rows).
_CLAIM_NEXT_POOL_CODE = Statement(
    update(codes)
    .where(codes.c.id == _NEXT_POOL_CODE_LOCKED.statement.scalar_subquery())
    .values(_ISSUED)
    .returning(*codes.c)
)

# Name → (statement, example parameters): what the vendor API runs on its requests. The test
# suite reads the query plan of each on SQLite and PostgreSQL and fails on a full table scan.
VENDOR_STATEMENTS: dict[str, tuple[Statement, dict[str, Any]]] = {
    "key_and_offer": (_KEY_AND_OFFER, {"key": "k", "offer_id": 1}),
    "key_and_promotion": (_KEY_AND_PROMOTION, {"key": "k", "promotion_uuid": "u"}),
    "account": (_ACCOUNT, {"key": "k"}),
    "offer": (_OFFER, {"offer_id": 1}),
    "offer_by_uuid": (_OFFER_BY_UUID, {"promotion_uuid": "u"}),
    "offer_locked": (_OFFER_LOCKED, {"offer_id": 1}),
    "codes_of_user": (_CODES_OF_USER, {"offer_id": 1, "user_norm": "u"}),
    "generic_code": (_GENERIC_CODE, {"offer_id": 1}),
    "next_pool_code": (_NEXT_POOL_CODE, {"offer_id": 1}),
    "next_pool_code_locked": (_NEXT_POOL_CODE_LOCKED, {"offer_id": 1}),
    "claim_next_pool_code": (
        _CLAIM_NEXT_POOL_CODE,
        {
            "offer_id": 1,
            "b_issued_at": datetime(2020, 1, 1),
            "b_issued_to": "u",
            "b_issued_to_norm": "u",
            "b_distributor_id": None,
            "b_expires_at": None,
            "b_discount_amount": None,
        },
    ),
    "codes_by_text": (_CODES_BY_TEXT, {"code_norm": "C"}),
    "redemptions_of_user": (_REDEMPTIONS_OF_USER, {"offer_id": 1, "user_norm": "u"}),
    "redemptions_of_code": (_REDEMPTIONS_OF_CODE, {"code_id": 1}),
    "offers_of_distributor": (_OFFERS_OF_DISTRIBUTOR, {"distributor_id": 1}),
    "redemption_by_key": (_REDEMPTION_BY_KEY, {"redemption_key": "r"}),
    "claim_code": (
        _CLAIM_CODE,
        {
            "code_id": 1,
            "b_issued_at": datetime(2020, 1, 1),
            "b_issued_to": "u",
            "b_issued_to_norm": "u",
            "b_distributor_id": None,
            "b_expires_at": None,
            "b_discount_amount": None,
        },
    ),
    "count_use": (_COUNT_USE, {"code_id": 1, "limit": 1}),
    "count_use_unlimited": (_COUNT_USE_UNLIMITED, {"code_id": 1}),
    "pool_issued": (_POOL_ISSUED, {"offer_id": 1, "issued": 1}),
    "set_val_key": (
        _SET_VAL_KEY,
        {"code_id": 1, "b_val_key": "v", "b_validated_at": datetime(2020, 1, 1)},
    ),
}


# Frames (pages) the SQLite write-ahead log may hold before a checkpoint starts it over
# (``Repository.checkpoint``); SQLite's own automatic checkpoint acts at 1,000.
WAL_RESTART_FRAMES = 16_384


# Where a write transaction's marks wait on its connection until it ends.
_CHANGED = "uniqodo_mock.changed"


def mark_changed(conn: Connection, what: str) -> None:
    """Mark ``conn``'s write transaction (``Repository.write``) as changing ``what``: once it
    has committed, the repository's ``commit_listeners`` hear of it."""
    conn.info.setdefault(_CHANGED, set()).add(what)


class _Kept:
    """A connection a thread keeps between its transactions (``Repository._take_kept``)."""

    __slots__ = ("busy", "conn")

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.busy = False


class Repository:
    """Queries over one engine. ``read()`` and ``write()`` open a transaction each."""

    def __init__(self, engine: Engine, *, no_wait_engine: Engine | None = None) -> None:
        """``no_wait_engine``: the same SQLite database on connections that never wait for a
        lock, for work inside ``store.no_wait.no_waiting()``."""
        self.engine = engine
        self.is_postgres = engine.dialect.name == "postgresql"
        # Read-only transactions: a deferred BEGIN on SQLite (store/engine.py), which never
        # queues behind a writer.
        self._read_engine = engine.execution_options(uqm_readonly=True)
        self._streaming_read_engine = self._read_engine
        if self.is_postgres:
            # PostgreSQL's READ COMMITTED gives every statement its own snapshot, inside a
            # transaction or not: a read in autocommit sees exactly what it would see inside
            # BEGIN ... COMMIT, without those two round trips.
            self._read_engine = engine.execution_options(
                uqm_readonly=True, isolation_level="AUTOCOMMIT"
            )
        self._no_wait = no_wait_engine
        self._no_wait_read = (
            no_wait_engine.execution_options(uqm_readonly=True) if no_wait_engine else None
        )
        # SQLite has one writer at a time. This process's writers queue on this lock instead
        # of in SQLite's busy handler, which retries in sleeps of growing length; other
        # processes still meet the busy handler (and its timeout: 503).
        self._write_lock: threading.Lock | None = None if self.is_postgres else threading.Lock()
        self.commits = 0
        # The no-wait connections a thread (the event loop's) keeps between its transactions,
        # one for reads and one for writes: the loop runs one transaction after another, and
        # checking a connection out of the pool and back in for each would cost more than
        # most of its transactions do. A transaction begun inside another takes one of its own.
        # Called after a write transaction committed, with what it marked as changed
        # (``mark_changed``), outside the write lock.
        self.commit_listeners: list[Callable[[frozenset[str]], None]] = []
        self._kept = threading.local()
        self._kept_all: list[_Kept] = []
        self._kept_lock = threading.Lock()

    # -- transactions -------------------------------------------------------------------
    @contextmanager
    def read(self, *, streaming: bool = False) -> Iterator[Connection]:
        """A read-only transaction. ``streaming``: its results are fetched in pieces
        (``yield_per``), through a server-side cursor on PostgreSQL, which needs a transaction
        block of its own there."""
        if streaming:
            with self._streaming_read_engine.connect() as conn, conn.begin():
                yield conn
            return
        if self._no_wait_read is not None and not waiting_allowed():
            conn = self._take_kept("read", self._no_wait_read)
            try:
                with conn.begin():
                    yield conn
            except Exception as error:
                if is_lock_wait(error):
                    raise WouldWait(str(error)) from error
                raise
            finally:
                self._give_back("read", conn)
            return
        with self._read_engine.connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction. When the request it serves has stopped waiting for it
        (``store/commit_guard.py``), it rolls back instead of committing. Inside
        ``no_waiting()`` it raises ``WouldWait`` (having done nothing) where it would wait."""
        guard = current_guard.get()
        lock = self._write_lock
        no_wait = self._no_wait is not None and not waiting_allowed()
        if lock is not None:
            if no_wait:
                if not lock.acquire(blocking=False):
                    raise WouldWait("another thread of this process is writing")
            else:
                lock.acquire()
        try:
            conn = (
                self._take_kept("write", self._no_wait)
                if no_wait and self._no_wait is not None  # (no_wait implies it: for mypy)
                else self.engine.connect()
            )
            try:
                with conn.begin():
                    yield conn
                    if guard is not None:
                        guard.enter_commit()
            finally:
                if guard is not None:
                    guard.leave_commit()
                # Taken whether it committed or not: the mark is the transaction's alone.
                changed = None if conn.invalidated else conn.info.pop(_CHANGED, None)
                if no_wait:
                    self._give_back("write", conn)
                else:
                    conn.close()
        except Exception as error:
            if no_wait and is_lock_wait(error):
                raise WouldWait(str(error)) from error
            raise
        finally:
            if lock is not None:
                lock.release()
        self.commits += 1
        if changed:
            for listener in self.commit_listeners:
                listener(frozenset(changed))

    def _take_kept(self, kind: str, engine: Engine) -> Connection:
        kept: _Kept | None = getattr(self._kept, kind, None)
        if kept is None or kept.conn.invalidated or kept.conn.closed:
            kept = _Kept(engine.connect())
            setattr(self._kept, kind, kept)
            with self._kept_lock:  # once per thread (or after a broken connection)
                self._kept_all.append(kept)
        if kept.busy:  # a transaction inside another: a connection of its own
            return engine.connect()
        kept.busy = True
        return kept.conn

    def _give_back(self, kind: str, conn: Connection) -> None:
        kept: _Kept | None = getattr(self._kept, kind, None)
        if kept is not None and kept.conn is conn:
            kept.busy = False
        else:
            conn.close()

    def checkpoint(self, *, restart_above: int = WAL_RESTART_FRAMES) -> None:
        """Copy the SQLite write-ahead log into the database file, without waiting for
        anyone (``PASSIVE``): done here, in a thread, rather than by a commit on the event
        loop. When the log holds more than ``restart_above`` frames it is then started over
        (``RESTART``), which waits a moment for this process's and other processes'
        transactions. Nothing on other databases.

        Why the second step: SQLite starts the log over only when a writer begins while every
        frame of it is already in the database file. Under steady writes (a load test) there
        are always newer frames than the last passive checkpoint's, so without it the log
        would grow for as long as the load lasts (by tens of megabytes a second), and every
        page read would search its ever longer index."""
        if self.is_postgres or self.engine.dialect.name != "sqlite":
            return
        # Outside any transaction (SQLite refuses to checkpoint inside one): the pool's
        # DBAPI connection, which begins nothing by itself (store/engine.py).
        connection = self.engine.raw_connection()
        try:
            cursor = connection.cursor()
            cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")
            row = cursor.fetchone()
            if row is not None and row[1] > restart_above:
                # This process's writers wait for it on their lock (the event loop's in a
                # thread), holding no snapshot of the log meanwhile, so the restart need not
                # wait for them; other processes' are waited for by the busy timeout.
                lock = self._write_lock or contextlib.nullcontext()
                with lock:
                    cursor.execute("PRAGMA wal_checkpoint(RESTART)")
                    cursor.fetchone()
            cursor.close()
        finally:
            connection.close()

    def close(self) -> None:
        """Release the connections of the no-wait engine (the main engine is the owner's)."""
        with self._kept_lock:
            kept, self._kept_all = self._kept_all, []
        for each in kept:
            each.conn.close()
        self._kept = threading.local()
        if self._no_wait is not None:
            self._no_wait.dispose()

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
    def merchant_exists(self, conn: Connection, merchant_id: int) -> bool:
        query = select(merchants.c.id).where(merchants.c.id == merchant_id)
        return conn.execute(query).first() is not None

    def distributor_exists(self, conn: Connection, distributor_id: int) -> bool:
        query = select(distributors.c.id).where(distributors.c.id == distributor_id)
        return conn.execute(query).first() is not None

    def account(self, conn: Connection, key: str) -> Account | None:
        row = _ACCOUNT.first(conn, {"key": key})
        return Account(key, row["merchant_id"], row["distributor_id"]) if row else None

    def key_and_offer(
        self,
        conn: Connection,
        key: str,
        *,
        offer_id: int | None = None,
        promotion_uuid: str | None = None,
    ) -> KeyAndOffer:
        """The key's account, the offer (by id or promotion uuid) and the authorisation."""
        if offer_id is not None:
            m = _KEY_AND_OFFER.first(conn, {"key": key, "offer_id": offer_id})
        else:
            assert promotion_uuid is not None
            m = _KEY_AND_PROMOTION.first(
                conn, {"key": key, "promotion_uuid": promotion_uuid.lower()}
            )
        if m is None:
            return KeyAndOffer(None, None, False)
        account = Account(key, m["key_merchant_id"], m["key_distributor_id"])
        if m["id"] is None:
            return KeyAndOffer(account, None, False)
        return KeyAndOffer(account, _offer_of(m), bool(m["authorised"]))

    def offer(self, conn: Connection, offer_id: int, *, lock: bool = False) -> Offer | None:
        query = _OFFER_LOCKED if lock and self.is_postgres else _OFFER
        row = query.first(conn, {"offer_id": offer_id})
        return _offer_of(row) if row else None

    def offer_by_uuid(self, conn: Connection, promotion_uuid: str) -> Offer | None:
        row = _OFFER_BY_UUID.first(conn, {"promotion_uuid": promotion_uuid.lower()})
        return _offer_of(row) if row else None

    def lock_customer(self, conn: Connection, offer_id: int, user_norm: str) -> None:
        """Until the transaction ends, hold a lock of one customer of one offer (PostgreSQL: a
        transaction-scoped advisory lock, so customers never wait for each other; SQLite: the
        write transaction holds the database's write lock already)."""
        if self.is_postgres:
            _CUSTOMER_LOCK.first(conn, {"customer": f"{offer_id}:{user_norm}"})

    def offers_for_distributor(self, conn: Connection, distributor_id: int) -> list[Offer]:
        rows = _OFFERS_OF_DISTRIBUTOR.rows(conn, {"distributor_id": distributor_id})
        return [_offer_of(row) for row in rows]

    def is_authorised(self, conn: Connection, offer_id: int, distributor_id: int) -> bool:
        return (
            conn.execute(
                select(literal(1)).where(
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

    # -- codes --------------------------------------------------------------------------
    def code_remaining(self, conn: Connection, offer_id: int) -> int:
        """Unissued codes of the offer's pool (the counter, not a count)."""
        return int(
            conn.execute(
                select(offers.c.pool_unissued).where(offers.c.id == offer_id)
            ).scalar_one_or_none()
            or 0
        )

    def recount_pool(self, conn: Connection, offer_id: int | None = None) -> None:
        """Set the pool counter of one offer (or of all) from its codes: after bulk loads
        (fixtures, snapshots) that write codes without going through the counter."""
        counted = (
            select(func.count())
            .select_from(codes)
            .where(*_unissued_pool(offers.c.id))
            .scalar_subquery()
        )
        statement = update(offers).values(pool_unissued=counted)
        if offer_id is not None:
            statement = statement.where(offers.c.id == offer_id)
        conn.execute(statement)

    def codes_of_user(self, conn: Connection, offer_id: int, user_norm: str) -> list[Code]:
        rows = _CODES_OF_USER.rows(conn, {"offer_id": offer_id, "user_norm": user_norm})
        return [_code_of(row) for row in rows]

    def generic_code(self, conn: Connection, offer_id: int) -> Code | None:
        row = _GENERIC_CODE.first(conn, {"offer_id": offer_id})
        return _code_of(row) if row else None

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
        values = {
            "offer_id": offer_id,
            "b_issued_at": to_db(now),
            "b_issued_to": user,
            "b_issued_to_norm": user_norm,
            "b_distributor_id": distributor_id,
            "b_expires_at": to_db(expires_at) if expires_at else None,
            "b_discount_amount": discount_amount,
        }
        if self.is_postgres:
            row = _CLAIM_NEXT_POOL_CODE.first(conn, values)
            if row is None:
                return None
            self._count_issued(conn, offer_id, 1)
            return _code_of(row)
        for _ in range(5):
            picked = _NEXT_POOL_CODE.first(conn, {"offer_id": offer_id})
            if picked is None:
                return None
            row = _CLAIM_CODE.first(conn, {**values, "code_id": picked["id"]})
            if row is not None:
                self._count_issued(conn, offer_id, 1)
                return _code_of(row)
        return None

    def _count_issued(self, conn: Connection, offer_id: int, count: int) -> None:
        _POOL_ISSUED.run(conn, {"offer_id": offer_id, "issued": count})

    def find_codes(self, conn: Connection, code_norm: str) -> list[tuple[Code, Offer]]:
        """Every code with this text, with its offer."""
        found = []
        for m in _CODES_BY_TEXT.rows(conn, {"code_norm": code_norm}):
            offer = {column.key: m[f"offer__{column.key}"] for column in _OFFER_COLUMNS}
            found.append((_code_of(m), _offer_of(offer)))
        return found

    def master_code_offers(self, conn: Connection, code_norm: str) -> list[int]:
        return list(
            conn.execute(
                select(offers.c.id).where(func.upper(offers.c.master_code) == code_norm)
            ).scalars()
        )

    def codes_like(self, conn: Connection, merchant_id: int | None, limit: int = 5000) -> list[str]:
        """Known code texts (for "did you mean" hints on an unknown code)."""
        query = select(codes.c.code).join(offers, offers.c.id == codes.c.offer_id).limit(limit)
        query = query.where((codes.c.issued_at.is_not(None)) | (codes.c.origin != "generated"))
        if merchant_id is not None:
            query = query.where(offers.c.merchant_id == merchant_id)
        return list(conn.execute(query).scalars())

    def set_val_key(self, conn: Connection, code_id: int, val_key: str, now: datetime) -> None:
        _SET_VAL_KEY.run(
            conn, {"code_id": code_id, "b_val_key": val_key, "b_validated_at": to_db(now)}
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
        if limit is None:
            return _COUNT_USE_UNLIMITED.run(conn, {"code_id": code_id}) == 1
        return _COUNT_USE.run(conn, {"code_id": code_id, "limit": limit}) == 1

    # -- redemptions ----------------------------------------------------------------------
    def insert_redemption(self, conn: Connection, values: dict[str, Any]) -> Redemption:
        values = dict(values)
        values["redeemed_at"] = to_db(values["redeemed_at"])
        row = _INSERT_REDEMPTION.first(conn, values)
        assert row is not None
        return _redemption_of(row)

    def redemption(self, conn: Connection, redemption_id: int) -> Redemption | None:
        row = conn.execute(select(redemptions).where(redemptions.c.id == redemption_id)).first()
        return _redemption_of(row._mapping) if row else None

    def redemption_by_key(self, conn: Connection, redemption_key: str) -> Redemption | None:
        """The redemption the mock answered with this ``redemption_key`` (fixture ones too)."""
        row = _REDEMPTION_BY_KEY.first(conn, {"redemption_key": redemption_key})
        return _redemption_of(row) if row else None

    # -- merchant tags and affiliate conversions ------------------------------------------
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
        A single statement (a ``UNION`` inside ``IN``) made SQLite build two temporary B-trees
        per call."""
        if code_ids is None:
            code_ids = [code.id for code in self.codes_of_user(conn, offer_id, user_norm)]
        found: dict[int, dict[str, Any]] = {
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

    # -- callbacks ------------------------------------------------------------------------
    def subscriptions_for(self, conn: Connection) -> list[dict[str, Any]]:
        return _SUBSCRIPTIONS.rows(conn, {})

    def add_subscription(self, conn: Connection, values: dict[str, Any]) -> int:
        return new_id(conn.execute(insert(subscriptions).values(**values)))

    def ensure_origin_subscription(self, conn: Connection, values: dict[str, Any]) -> int:
        """The one subscription of ``values["origin"]`` at ``values["url"]``: kept if present
        (with what it sends: ``method``, ``params`` and ``body`` from ``values``, so a restart
        with another body template takes it), added if not; others of that origin (an old
        address) are removed."""
        same_origin = subscriptions.c.origin == values["origin"]
        conn.execute(delete(subscriptions).where(same_origin, subscriptions.c.url != values["url"]))
        existing = conn.execute(
            select(subscriptions.c.id).where(same_origin).order_by(subscriptions.c.id).limit(1)
        ).scalar_one_or_none()
        if existing is None:
            return self.add_subscription(conn, values)
        sends = {k: values[k] for k in ("method", "params", "body") if k in values}
        if sends:
            conn.execute(update(subscriptions).where(subscriptions.c.id == existing).values(sends))
        return existing

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
        """Add codes; unissued ones of a pool count into their offer's ``code_remaining``."""
        for start in range(0, len(rows), 5000):
            conn.execute(insert(codes), rows[start : start + 5000])
        added: dict[int, int] = {}
        for row in rows:
            if row.get("issued_at") is None and row.get("origin") != "generic":
                added[row["offer_id"]] = added.get(row["offer_id"], 0) + 1
        for offer_id, count in added.items():
            self._count_issued(conn, offer_id, -count)

    def issue_batch(self, conn: Connection, offer_id: int, count: int, now: datetime) -> list[str]:
        """Mark ``count`` unissued codes issued and return them; [] when fewer are left (the
        caller then issues none: a batch is all or nothing)."""
        pick: Any = (
            select(codes.c.id, codes.c.code)
            .where(*_unissued_pool(offer_id))
            .order_by(codes.c.issued_at, codes.c.id)
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
        self._count_issued(conn, offer_id, len(picked))
        return [row[1] for row in picked]
