"""The mock's tables (SQLAlchemy Core). Alembic migrations create and upgrade them; this module
is the one description both the migrations and the queries use.

Times are stored as naive UTC datetimes. Money is stored as floats rounded to cents: the API
speaks JSON numbers, and every value is computed and rounded in one place (``core.money``).
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

__all__ = [
    "api_keys",
    "codes",
    "delivery_attempts",
    "distributors",
    "merchants",
    "meta",
    "metadata",
    "offer_distributors",
    "offers",
    "outbox",
    "redemptions",
    "subscriptions",
]

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# Key/value facts about the state: the fixture document it was loaded from, settings, the error
# catalogue in force. Values are JSON.
meta = Table(
    "meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", JSON, nullable=False),
)

merchants = Table(
    "merchants",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("name", String(200), nullable=False),
    # Whether distributors may receive this merchant's redemption data in callbacks.
    Column("shares_data", Boolean, nullable=False, default=True),
    Column("config", JSON, nullable=False, default=dict),
)

distributors = Table(
    "distributors",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("name", String(200), nullable=False),
)

# One key may hold both roles (the docs use one key as merchant 1's and distributor 102's).
api_keys = Table(
    "api_keys",
    metadata,
    Column("key", String(128), primary_key=True),
    Column("merchant_id", BigInteger, ForeignKey("merchants.id"), nullable=True),
    Column("distributor_id", BigInteger, ForeignKey("distributors.id"), nullable=True),
)

offers = Table(
    "offers",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("promotion_uuid", String(32), nullable=False, unique=True),
    Column("merchant_id", BigInteger, ForeignKey("merchants.id"), nullable=False),
    Column("offer_description", String(500), nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("status", String(16), nullable=False, default="active"),
    Column("master_code", String(64), nullable=False),
    Column("terms", Text, nullable=True),
    Column("code_type", String(16), nullable=False, default="unique"),
    Column("redemption_per_code", Integer, nullable=True),
    Column("start_at", DateTime, nullable=False),
    Column("end_at", DateTime, nullable=False),
    Column("code_expiry_seconds", Integer, nullable=True),
    Column("url", String(1000), nullable=False, default=""),
    Column("discount_type", String(16), nullable=False, default="percent"),
    Column("discount_amount", Float, nullable=False, default=0.0),
    Column("currency", String(3), nullable=True),
    Column("codes_per_customer", Integer, nullable=False, default=1),
    # Unissued codes of the pool (``code_remaining``), kept by the transactions that issue,
    # import or batch codes (0004c).
    Column("pool_unissued", BigInteger, nullable=False, default=0, server_default="0"),
    # Feature settings that no query filters on (code generation, basket rules, locks, mystery
    # discounts, claim credentials): a JSON document validated by the fixture format.
    Column("config", JSON, nullable=False, default=dict),
    # The labels configured for the offer (["SUMMER_OFFER", "ONLINE"]): each redemption of the
    # offer carries them (0005t).
    Column("tags", JSON, nullable=False, default=list, server_default=text("'[]'")),
)

offer_distributors = Table(
    "offer_distributors",
    metadata,
    Column("offer_id", BigInteger, ForeignKey("offers.id", ondelete="CASCADE"), primary_key=True),
    Column("distributor_id", BigInteger, ForeignKey("distributors.id"), primary_key=True),
    # A distributor's offers in id order: the Offers API (0004c).
    Index("ix_offer_distributors_distributor", "distributor_id", "offer_id"),
)

codes = Table(
    "codes",
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("offer_id", BigInteger, ForeignKey("offers.id", ondelete="CASCADE"), nullable=False),
    Column("code", String(64), nullable=False),
    # Upper-cased and stripped: codes match ignoring case and surrounding blanks.
    Column("code_norm", String(64), nullable=False),
    # generated | imported | fixture | generic
    Column("origin", String(16), nullable=False, default="generated"),
    Column("issued_at", DateTime, nullable=True),
    Column("issued_to", String(320), nullable=True),
    Column("issued_to_norm", String(320), nullable=True),
    Column("distributor_id", BigInteger, nullable=True),
    Column("uses", Integer, nullable=False, default=0),
    # The discount drawn at issue time (mystery discounts); null = the offer's discount.
    Column("discount_amount", Float, nullable=True),
    Column("expires_at", DateTime, nullable=True),
    Column("val_key", String(64), nullable=True),
    Column("validated_at", DateTime, nullable=True),
    Column("lock_session", String(200), nullable=True),
    Column("lock_until", DateTime, nullable=True),
    # The error reference answered for this code (0005t): null derives it from the seed and the
    # request; "" answers errors about the code without a reference; else that very reference.
    Column("reference", String(64), nullable=True),
    UniqueConstraint("offer_id", "code_norm", name="uq_codes_offer_code"),
    # A code text's rows in id order (the Validation and Redemption APIs' lookup, 0004c).
    Index("ix_codes_code_norm", "code_norm", "id"),
    # The pool in issue order: the next unissued code is the index's first entry (0004c).
    Index("ix_codes_offer_pool", "offer_id", "issued_at", "id"),
    # Ends with the sort columns: one customer's codes in order by an index seek (0003s).
    Index("ix_codes_offer_user_order", "offer_id", "issued_to_norm", "issued_at", "id"),
)

redemptions = Table(
    "redemptions",
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("code_id", BigInteger, ForeignKey("codes.id", ondelete="CASCADE"), nullable=False),
    Column("offer_id", BigInteger, nullable=False),
    Column("merchant_id", BigInteger, nullable=False),
    Column("distributor_id", BigInteger, nullable=True),
    Column("code", String(64), nullable=False),
    Column("order_id", String(200), nullable=False),
    Column("order_value", Float, nullable=False),
    Column("discount_value", Float, nullable=False),
    Column("currency", String(3), nullable=True),
    Column("custom_params", JSON, nullable=True),
    # Every other parameter the integration sent (email, redemptionType, ...), kept as sent.
    Column("extras", JSON, nullable=False, default=dict),
    Column("user_id", String(320), nullable=True),
    Column("user_id_norm", String(320), nullable=True),
    Column("redeemed_at", DateTime, nullable=False),
    Column("redemption_key", String(64), nullable=False),
    Column("awc_token", String(200), nullable=True),
    Column("tags", JSON, nullable=False, default=list),
    Index("ix_redemptions_offer_user_order", "offer_id", "user_id_norm", "redeemed_at", "id"),
    Index("ix_redemptions_code", "code_id"),
    Index("ix_redemptions_key", "redemption_key"),
)

subscriptions = Table(
    "subscriptions",
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("url", String(2000), nullable=False),
    # POST (form), GET (query string) or JSON (a JSON body: simulator extra)
    Column("method", String(8), nullable=False, default="POST"),
    # item name -> parameter name sent, e.g. {"code": "code", "orderId": "order"}
    Column("params", JSON, nullable=False),
    Column("headers", JSON, nullable=False, default=dict),
    # A JSON body template with {item} placeholders (method JSON); null: send ``params`` (0005b)
    Column("body", JSON, nullable=True),
    Column("owner_merchant_id", BigInteger, nullable=True),
    Column("owner_distributor_id", BigInteger, nullable=True),
    Column("origin", String(16), nullable=False, default="runtime"),
    Column("created_at", DateTime, nullable=False),
)

# One row per (redemption, matching subscription), written in the redemption's transaction.
outbox = Table(
    "outbox",
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("delivery_id", String(36), nullable=False, unique=True),
    Column("redemption_id", BigInteger, nullable=False),
    Column("subscription_id", BigInteger, nullable=False),
    Column("url", String(2000), nullable=False),
    Column("method", String(8), nullable=False),
    Column("headers", JSON, nullable=False, default=dict),
    # The parameters to send, already renamed: {"code": "AB12E3GH", "order": "145789"}
    Column("payload", JSON, nullable=False),
    # pending | delivered | failed (gave up)
    Column("status", String(16), nullable=False, default="pending"),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", DateTime, nullable=False),
    Column("claimed_by", String(64), nullable=True),
    Column("claimed_until", DateTime, nullable=True),
    Column("created_at", DateTime, nullable=False),
    Column("delivered_at", DateTime, nullable=True),
    Index("ix_outbox_due", "status", "next_attempt_at"),
)

delivery_attempts = Table(
    "delivery_attempts",
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("outbox_id", BigInteger, ForeignKey("outbox.id", ondelete="CASCADE"), nullable=False),
    Column("delivery_id", String(36), nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("started_at", DateTime, nullable=False),
    Column("status_code", Integer, nullable=True),
    Column("latency_ms", Float, nullable=True),
    Column("error", Text, nullable=True),
    Column("outcome", String(16), nullable=False),
    Index("ix_delivery_attempts_outbox", "outbox_id"),
)
