"""The mock's behaviour: each API operation as one method over the store and the pure rules.

Imports no web framework: the connexion handlers (``uniqodo_mock.mock.api``) call these methods
and render their ``Outcome`` in the vendor's envelope.
"""

from __future__ import annotations

import difflib
import random
import re
import secrets
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection

from uniqodo_mock.core import rules
from uniqodo_mock.core.callbacks import Subscription, callback_items, matches, payload_for
from uniqodo_mock.core.clock import Clock
from uniqodo_mock.core.code_csv import CodeRow, parse_codes_csv, write_codes_csv
from uniqodo_mock.core.codes import new_redemption_key, new_val_key, normalise_code, normalise_user
from uniqodo_mock.core.dates import to_db
from uniqodo_mock.core.errors import ErrorCatalogue, VendorError, default_catalogue
from uniqodo_mock.core.model import Account, Code, Offer, Redemption
from uniqodo_mock.core.money import MysteryChoice, draw_mystery, round_money
from uniqodo_mock.core.views import code_discount, format_end_date, offer_json, redemption_json
from uniqodo_mock.feature_checks import DEFAULT_CHECKS
from uniqodo_mock.read_memo import ReadMemo, ReadToken
from uniqodo_mock.store.repository import Repository

__all__ = ["MockService", "Outcome", "ServiceSettings", "ValidationContext"]

# Parameters of the Redemption API the service reads itself; everything else is kept as sent.
_REDEEM_KNOWN = {"orderId", "orderValue", "discount", "valKey", "currency"}
# Query failures answered with the documented default values beside the error (docs 2.5).
_ANSWERED_WITH_DEFAULTS = frozenset({"unknown_offer", "unknown_code"})
_CUSTOM_PARAM = re.compile(r"^p\d+$")


@dataclass
class Outcome:
    """What an operation answers: ``data`` and the vendor errors beside it (possibly both)."""

    data: Any
    errors: list[VendorError] = field(default_factory=list)


@dataclass(frozen=True)
class ServiceSettings:
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Europe/London"))
    require_val_key: bool = False
    seed: int | str = 0
    default_locale: str = "en"

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any] | None) -> ServiceSettings:
        raw = raw or {}
        return cls(
            zone=ZoneInfo(raw.get("timezone", "Europe/London")),
            require_val_key=bool(raw.get("require_val_key", False)),
            seed=raw.get("seed", 0),
            default_locale=raw.get("default_locale", "en"),
        )


@dataclass
class ValidationContext:
    """What a validation check sees (basket rules, locks): checks raise ``VendorError``."""

    repo: Repository
    conn: Connection
    account: Account
    offer: Offer
    code: Code
    params: Mapping[str, str]
    now: datetime
    locale: str | None
    # The val_key the validation answers with; a check may replace it (a new lock session).
    val_key: str | None = None
    # A val_key to use if a check opens a new session.
    fresh_val_key: str = field(default_factory=new_val_key)


ValidationCheck = Callable[[ValidationContext], None]


class MockService:
    """Every operation of the Uniqodo API over one database."""

    def __init__(
        self,
        repo: Repository,
        clock: Clock | None = None,
        *,
        settings: ServiceSettings | None = None,
        catalogue: ErrorCatalogue | None = None,
    ) -> None:
        self.repo = repo
        self.clock = clock or Clock()
        self.settings = settings or ServiceSettings()
        self.catalogue = catalogue or default_catalogue()
        # Extra validation rules (basket rules, validation locks), run after the built-in ones.
        self.validation_checks: list[ValidationCheck] = list(DEFAULT_CHECKS)
        # Called after a redemption commits (wakes the callback dispatcher).
        self.on_redeemed: list[Callable[[int], None]] = []
        # Answers of the hottest reads, reused while provably unchanged (read_memo.py).
        self.read_memo = ReadMemo()

    def reload_settings(self) -> None:
        """Read settings and error-catalogue overrides from the loaded fixtures."""
        with self.repo.read() as conn:
            settings = self.repo.get_meta(conn, "settings")
            overrides = self.repo.get_meta(conn, "errors")
        self.settings = ServiceSettings.from_mapping(settings)
        self.catalogue = default_catalogue().with_overrides(overrides)

    # -- keys ---------------------------------------------------------------------------
    def _account(self, conn: Connection, key: str, parameter: str = "api_key") -> Account:
        account = self.repo.account(conn, key)
        if account is None:
            raise VendorError(
                "unknown_api_key",
                f"no account has the key {key!r}",
                parameter=parameter,
                looked_up=key,
            )
        return account

    def _distributor(self, conn: Connection, key: str) -> Account:
        account = self._account(conn, key)
        if account.distributor_id is None:
            raise VendorError(
                "wrong_key_kind",
                "a merchant key was used where a distributor key is needed",
                parameter="api_key",
            )
        return account

    # -- Code API -----------------------------------------------------------------------
    def issue_code(self, api_key: str, offer_id: int, uid: str | None) -> Outcome:
        """``GET /code/{api_key}/{offer_id}?uid=``: a code for a customer (the same again for
        the same ``uid``), taken from the offer's pool."""
        token = self._read_token()
        now = self.clock.now()
        key = ("issue_code", api_key, offer_id, uid)
        if token is not None and (kept := self.read_memo.lookup(key, token, now)) is not None:
            return kept
        # One query (the customer's codes) besides cached lookups: no snapshot to share.
        with self.repo.read(single_statement=True) as conn:
            account = self._distributor(conn, api_key)
            offer = self._offer(conn, offer_id)
            rules.check_distributor_may_promote(
                account, offer, self.repo.is_authorised(conn, offer.id, account.distributor_id)
            )
            rules.check_window(offer, now)
            existing = self._existing_code(conn, offer, uid)
        if existing is None:
            with self.repo.write() as conn:
                existing = self._issue_new(conn, offer, uid, account.distributor_id, now)
            return Outcome(self._code_data(offer, existing))
        # Read only: the same answer until the stored state changes or the offer ends.
        outcome = Outcome(self._code_data(offer, existing))
        if token is not None:
            self.read_memo.store(key, token, offer.end_at, outcome)
        return outcome

    def _read_token(self) -> ReadToken | None:
        """What a read's answer depends on besides its arguments (``read_memo.py``); None when
        answers cannot be kept (memo off, or no data version on this database)."""
        if not self.read_memo.enabled:
            return None
        version = self.repo.data_version()
        if version is None:
            return None
        return (version, self.catalogue, self.settings, self.clock.state)

    def _existing_code(self, conn: Connection, offer: Offer, uid: str | None) -> Code | None:
        if offer.code_type == "repeat":
            generic = self.repo.generic_code(conn, offer.id)
            if generic is None:
                raise VendorError("sold_out", f"repeat offer {offer.id} has no generic code")
            return generic
        if offer.code_type == "secure" and not uid:
            raise VendorError(
                "uid_required",
                f"offer {offer.id} issues secure codes: uid is required",
                parameter="uid",
            )
        if not uid:
            return None
        held = self.repo.codes_of_user(conn, offer.id, normalise_user(uid))
        if not held:
            return None
        unused = [code for code in held if not rules.redemption_limit_reached(code, offer)]
        if unused:
            return unused[-1]
        return held[-1] if len(held) >= offer.codes_per_customer else None

    def _issue_new(
        self,
        conn: Connection,
        offer: Offer,
        uid: str | None,
        distributor_id: int | None,
        now: datetime,
    ) -> Code:
        if uid:
            # Re-check under the offer's row lock: two first requests for one customer must
            # not both take a code.
            self.repo.offer(conn, offer.id, lock=True)
            existing = self._existing_code(conn, offer, uid)
            if existing is not None:
                return existing
        expires_at = now + offer.code_expiry if offer.code_expiry else None
        code = self.repo.claim_pool_code(
            conn,
            offer.id,
            now=now,
            user=uid,
            user_norm=normalise_user(uid) if uid else None,
            distributor_id=distributor_id,
            expires_at=expires_at,
            discount_amount=self._mystery_draw(offer, uid, now),
        )
        if code is None:
            raise VendorError(
                "sold_out", f"offer {offer.id} has no unissued code left", rule="code_remaining"
            )
        return code

    def _mystery_draw(self, offer: Offer, uid: str | None, now: datetime) -> float | None:
        choices = offer.config.get("mystery_discounts")
        if not choices:
            return None
        rng = random.Random(f"{self.settings.seed}:{offer.id}:{uid or ''}:{now.isoformat()}")
        return draw_mystery(
            [MysteryChoice(float(c["amount"]), float(c.get("weight", 1))) for c in choices], rng
        )

    def _code_data(self, offer: Offer, code: Code) -> dict[str, Any]:
        zone = self.settings.zone
        return {
            "code": code.code,
            "url": offer.landing_url(code.code),
            "endDate": format_end_date(offer.end_at, zone),
            "offer_id": offer.id,
            "promotion_uuid": offer.promotion_uuid,
            "expires_at": format_end_date(code.expires_at, zone) if code.expires_at else "",
            "discount": code_discount(offer, code).to_json(),
        }

    def _offer(self, conn: Connection, offer_id: int) -> Offer:
        offer = self.repo.offer(conn, offer_id)
        if offer is None:
            raise VendorError(
                "unknown_offer",
                f"no offer has id {offer_id}",
                parameter="offer_id",
                looked_up=str(offer_id),
            )
        return offer

    def _promotion(self, conn: Connection, promotion_uuid: str) -> Offer:
        offer = self.repo.offer_by_uuid(conn, promotion_uuid)
        if offer is None:
            raise VendorError(
                "unknown_offer",
                f"no promotion has uuid {promotion_uuid}",
                parameter="promotion_uuid",
                looked_up=promotion_uuid,
            )
        return offer

    # -- Offers API ---------------------------------------------------------------------
    def list_offers(self, api_key: str) -> Outcome:
        with self.repo.read() as conn:
            account = self._distributor(conn, api_key)
            listed = [
                offer_json(offer, self.settings.zone, code_remaining=self._remaining(conn, offer))
                for offer in self.repo.offers_for_distributor(conn, account.distributor_id)
            ]
        return Outcome({"offers": listed, "total": len(listed)})

    def _remaining(
        self, conn: Connection, offer: Offer, data_version: Hashable | None = None
    ) -> int | None:
        if offer.code_type == "repeat":
            return None
        return self.repo.code_remaining(conn, offer.id, data_version)

    # -- Validation API -------------------------------------------------------------------
    def validate(
        self, api_key: str, code_text: str, merchant_id: int, params: Mapping[str, str]
    ) -> Outcome:
        """Check a code at the basket. Does not consume it; returns the ``val_key`` the
        redemption must carry and the trigger (master) code the shop applies."""
        now = self.clock.now()
        locale = params.get("locale")
        with self.repo.write() as conn:
            account = self._account(conn, api_key)
            rules.check_merchant_key(account, merchant_id)
            code, offer = self._find_code(conn, code_text, merchant_id)
            rules.check_window(offer, now)
            rules.check_code_expiry(code, now)
            rules.check_code_uses(code, offer)
            rules.check_secure_email(code, offer, params.get("email"))
            context = ValidationContext(
                self.repo, conn, account, offer, code, params, now, locale, code.val_key
            )
            for check in self.validation_checks:
                check(context)
            val_key = context.val_key
            if val_key is None:
                val_key = new_val_key()
            if val_key != code.val_key:
                self.repo.set_val_key(conn, code.id, val_key, now)
        discount = code_discount(offer, code)
        return Outcome(
            {
                "val_key": val_key,
                "code": offer.master_code,
                "trigger_code": offer.master_code,
                "offer_id": offer.id,
                "promotion_uuid": offer.promotion_uuid,
                "customer_code": code.code,
                "discount": discount.to_json(),
            }
        )

    def _find_code(self, conn: Connection, code_text: str, merchant_id: int) -> tuple[Code, Offer]:
        norm = normalise_code(code_text)
        found = self.repo.find_codes(conn, norm)
        mine = [code for code, owner in found if owner == merchant_id]
        if not mine:
            if found:
                raise VendorError(
                    "wrong_merchant",
                    f"code {norm} belongs to merchant {found[0][1]}, not merchant {merchant_id}",
                    parameter="code",
                    looked_up=norm,
                )
            reason = f"no code {norm!r} exists for merchant {merchant_id}"
            master_of = self.repo.master_code_offers(conn, norm)
            if master_of:
                reason += (
                    f"; {norm} is the master (trigger) code of offer {master_of[0]}: "
                    "validate and redeem the customer's own code"
                )
            nearest = difflib.get_close_matches(
                norm, self.repo.codes_like(conn, merchant_id), n=1, cutoff=0.6
            )
            raise VendorError(
                "unknown_code",
                reason,
                parameter="code",
                looked_up=norm,
                nearest=nearest[0] if nearest else None,
            )
        # Several offers of one merchant may share a code text: prefer one still usable.
        code = mine[0]
        offer = self.repo.offer(conn, code.offer_id)
        assert offer is not None
        for candidate in mine[1:]:
            if not rules.redemption_limit_reached(code, offer):
                break
            other = self.repo.offer(conn, candidate.offer_id)
            assert other is not None
            code, offer = candidate, other
        return code, offer

    # -- Redemption API -------------------------------------------------------------------
    def redeem(
        self, api_key: str, code_text: str, merchant_id: int, params: Mapping[str, str]
    ) -> Outcome:
        """Confirm an order with the customer's code: counts one use, records the redemption
        and queues one callback delivery per matching subscription, in one transaction."""
        now = self.clock.now()
        order_id = (params.get("orderId") or "").strip()
        if not order_id:
            raise VendorError(
                "invalid_parameter",
                "orderId is required",
                parameter="orderId",
                message="Missing query parameter 'orderId'.",
            )
        order_value = _amount(params.get("orderValue"), "orderValue")
        with self.repo.write() as conn:
            account = self._account(conn, api_key)
            rules.check_merchant_key(account, merchant_id)
            code, offer = self._find_code(conn, code_text, merchant_id)
            rules.check_window(offer, now)
            rules.check_code_expiry(code, now)
            val_key = params.get("valKey")
            needs_val_key = self.settings.require_val_key or offer.config.get("require_val_key")
            if (val_key or needs_val_key) and (not val_key or val_key != code.val_key):
                raise VendorError(
                    "invalid_val_key",
                    "valKey does not match the val_key of the code's last validation"
                    if code.val_key
                    else "the code has not been validated, so no valKey matches",
                    parameter="valKey",
                    looked_up=val_key,
                )
            if not self.repo.count_use(conn, code.id, offer.redemption_per_code):
                rules.check_code_uses(code, offer)
                raise VendorError(
                    "already_redeemed",
                    f"code {code.code} reached its use limit",
                    looked_up=code.code,
                )
            custom = {k: v for k, v in params.items() if _CUSTOM_PARAM.match(k)}
            extras = {k: v for k, v in params.items() if k not in _REDEEM_KNOWN and k not in custom}
            user = params.get("email") or code.issued_to
            redemption_id = self.repo.insert_redemption(
                conn,
                {
                    "code_id": code.id,
                    "offer_id": offer.id,
                    "merchant_id": offer.merchant_id,
                    "distributor_id": code.distributor_id,
                    "code": code.code,
                    "order_id": order_id,
                    "order_value": order_value,
                    "discount_value": code_discount(offer, code).value_for(order_value),
                    "currency": (params.get("currency") or offer.discount.currency or None),
                    "custom_params": custom or None,
                    "extras": extras,
                    "user_id": user,
                    "user_id_norm": normalise_user(user) if user else None,
                    "redeemed_at": now,
                    "redemption_key": new_redemption_key(),
                    "awc_token": None,
                    "tags": [],
                },
            )
            redemption = self.repo.redemption(conn, redemption_id)
            assert redemption is not None
            self._queue_callbacks(conn, redemption, now)
        for listener in self.on_redeemed:
            listener(redemption_id)
        return Outcome(
            {
                "redemption_key": redemption.redemption_key,
                "awc_token": redemption.awc_token,
                "redemption": redemption_json(redemption, self.settings.zone),
            }
        )

    # -- affiliate conversion (the merchant tag, after a redemption) -----------------------
    def record_conversion(self, redemption_key: str) -> Outcome:
        """``GET /vcot/conversion``: the redemption tag reports the affiliate conversion of a
        redemption the mock answered. Answers the redemption's ``awc_token``, made on the
        first call and kept (later calls answer the same token)."""
        with self.repo.write() as conn:
            redemption = self.repo.redemption_by_key(conn, redemption_key)
            if redemption is None:
                raise VendorError(
                    "unknown_code",
                    f"no redemption has the redemption key {redemption_key!r}",
                    parameter="redemptionKey",
                    looked_up=redemption_key,
                )
            token = redemption.awc_token
            if token is None:
                # Conditional: a concurrent conversion of the same redemption may set it first.
                self.repo.set_awc_token(conn, redemption.id, _new_awc_token())
                kept = self.repo.redemption(conn, redemption.id)
                token = kept.awc_token if kept is not None else None
        return Outcome({"awc_token": token})

    def _queue_callbacks(self, conn: Connection, redemption: Any, now: datetime) -> None:
        rows = self.repo.subscriptions_for(conn)
        if not rows:
            return
        items = callback_items(redemption)
        shares = self.repo.merchant_shares_data(conn, redemption.merchant_id)

        def distributor_may_see(distributor_id: int) -> bool:
            return shares and self.repo.is_authorised(conn, redemption.offer_id, distributor_id)

        deliveries = []
        for row in rows:
            subscription = Subscription.from_mapping(row)
            if matches(subscription, redemption, distributor_may_see=distributor_may_see):
                deliveries.append(
                    {
                        "redemption_id": redemption.id,
                        "subscription_id": subscription.id,
                        "url": subscription.url,
                        "method": subscription.method,
                        "headers": dict(subscription.headers),
                        "payload": payload_for(subscription, items),
                    }
                )
        self.repo.enqueue_deliveries(conn, deliveries, now)

    # -- Queries --------------------------------------------------------------------------
    def _customer_history(
        self, conn: Connection, api_key: str, promotion_uuid: str, user_id: str
    ) -> tuple[Offer, list[Code], list[Redemption]]:
        """What both query operations read: the promotion, the codes issued to the user and the
        user's redemptions. An unknown promotion or user raises (the callers answer it with
        the documented default values beside the error)."""
        account = self._distributor(conn, api_key)
        offer = self._promotion(conn, promotion_uuid)
        rules.check_distributor_may_promote(
            account, offer, self.repo.is_authorised(conn, offer.id, account.distributor_id)
        )
        norm = normalise_user(user_id)
        held = self.repo.codes_of_user(conn, offer.id, norm)
        records = self.repo.redemptions_of_customer(
            conn, offer.id, norm, [code.id for code in held]
        )
        if not held and not records:
            raise VendorError(
                "unknown_code",
                f"user {user_id!r} has no code or redemption on promotion {promotion_uuid}",
                parameter="userId",
                looked_up=user_id,
            )
        return offer, held, records

    def publisher_query(self, api_key: str, promotion_uuid: str, user_id: str) -> Outcome:
        """Code Query: the user's redemptions on a promotion, the offer, and an error when the
        user's code can no longer be used."""
        empty = {"redemption": {"records": [], "total": 0}, "offer": None}
        token = self._read_token()
        now = self.clock.now()
        key = ("publisher_query", api_key, promotion_uuid, user_id)
        if token is not None and (kept := self.read_memo.lookup(key, token, now)) is not None:
            return kept
        with self.repo.read() as conn:
            try:
                offer, held, records = self._customer_history(
                    conn, api_key, promotion_uuid, user_id
                )
            except VendorError as error:
                if error.key in _ANSWERED_WITH_DEFAULTS:
                    return Outcome(empty, [error])
                raise
            code = held[-1] if held else None
            data = {
                "redemption": {
                    "records": [redemption_json(r, self.settings.zone) for r in records],
                    "total": len(records),
                },
                "offer": offer_json(
                    offer,
                    self.settings.zone,
                    code_remaining=self._remaining(conn, offer, token[0] if token else None),
                    code=code,
                ),
            }
        errors: list[VendorError] = []
        if code is not None:
            try:
                rules.check_code_uses(code, offer)
                rules.check_code_expiry(code, now)
                rules.check_window(offer, now)
            except VendorError as error:
                errors.append(error)
        outcome = Outcome(data, errors)
        if token is not None and not errors:
            # Time changes this answer when the offer ends or the code expires.
            until = offer.end_at
            if code is not None and code.expires_at is not None:
                until = min(until, code.expires_at)
            self.read_memo.store(key, token, until, outcome)
        return outcome

    def distributor_query(self, api_key: str, promotion_uuid: str, user_id: str) -> Outcome:
        """User Redemption Query: the user's totals and history on a promotion."""
        empty = {
            "total_discount_value": 0,
            "total_order_value": 0,
            "redemption": {"records": [], "total": 0},
        }
        with self.repo.read() as conn:
            try:
                _offer, _held, records = self._customer_history(
                    conn, api_key, promotion_uuid, user_id
                )
            except VendorError as error:
                if error.key in _ANSWERED_WITH_DEFAULTS:
                    return Outcome(empty, [error])
                raise
        return Outcome(
            {
                "total_discount_value": _plain(round_money(sum(r.discount_value for r in records))),
                "total_order_value": _plain(round_money(sum(r.order_value for r in records))),
                "redemption": {
                    "records": [redemption_json(r, self.settings.zone) for r in records],
                    "total": len(records),
                },
            }
        )

    # -- Embeddable codes and user code enquiry -----------------------------------------------
    def embeddable_code(
        self, claim_credential: str, promotion_uuid: str, uid: str | None, email: str | None
    ) -> Outcome:
        """Embeddable codes, click-to-reveal and HTML buttons, content gates: a code for the
        visitor, by a distributor key or the promotion's own claim credential."""
        now = self.clock.now()
        customer = uid or email
        with self.repo.read() as conn:
            offer = self._promotion(conn, promotion_uuid)
            distributor_id = self._claim_distributor(conn, claim_credential, offer)
            rules.check_window(offer, now)
            existing = self._existing_code(conn, offer, customer)
        if existing is None:
            with self.repo.write() as conn:
                existing = self._issue_new(conn, offer, customer, distributor_id, now)
        data = self._code_data(offer, existing)
        return Outcome(
            {
                key: data[key]
                for key in ("code", "url", "endDate", "discount", "offer_id", "promotion_uuid")
            }
        )

    def _claim_distributor(self, conn: Connection, credential: str, offer: Offer) -> int | None:
        if credential == offer.config.get("claim_credential"):
            return None
        account = self.repo.account(conn, credential)
        if account is None:
            raise VendorError(
                "unknown_api_key",
                "the claim credential is neither a distributor key nor the promotion's claim credential",
                parameter="claim_credential",
            )
        if account.distributor_id is None:
            raise VendorError(
                "wrong_key_kind",
                "a merchant key cannot claim embeddable codes",
                parameter="claim_credential",
            )
        rules.check_distributor_may_promote(
            account, offer, self.repo.is_authorised(conn, offer.id, account.distributor_id)
        )
        return account.distributor_id

    def user_code_enquiry(self, merchant_key: str, promotion_uuid: str, email: str) -> Outcome:
        """Has this user been given a code, and was it used? ``data`` is null when not."""
        with self.repo.read() as conn:
            account = self._account(conn, merchant_key, "merchant_key")
            offer = self._promotion(conn, promotion_uuid)
            if account.merchant_id is None:
                raise VendorError(
                    "wrong_key_kind",
                    "a distributor key was used where a merchant key is needed",
                    parameter="merchant_key",
                )
            rules.check_merchant_key(account, offer.merchant_id)
            norm = normalise_user(email)
            held = self.repo.codes_of_user(conn, offer.id, norm)
            if not held:
                return Outcome(None)
            code = held[-1]
            records = self.repo.redemptions_of_customer(
                conn, offer.id, norm, [c.id for c in held]
            )
        return Outcome(
            {
                "code": code.code,
                "discount": code_discount(offer, code).to_json(),
                "redemption_records": [redemption_json(r, self.settings.zone) for r in records],
            }
        )

    # -- personalised uploads and CSV batches (admin) -------------------------------------------
    def import_codes(self, offer_id: int, data: bytes) -> int:
        """Add an uploaded CSV of codes to the offer: all of them or none (``CsvProblems``)."""
        now = self.clock.now()
        with self.repo.write() as conn:
            offer = self._offer(conn, offer_id)
            rows = parse_codes_csv(
                data, self.settings.zone, self.repo.offer_code_texts(conn, offer.id)
            )
            self.repo.insert_codes(conn, [_imported_row(offer, row, now) for row in rows])
        return len(rows)

    def code_batch(self, offer_id: int, count: int) -> str:
        """``count`` fresh unique codes of the offer, marked issued, as CSV."""
        if count < 1:
            raise VendorError("invalid_parameter", "count must be at least 1", parameter="count")
        now = self.clock.now()
        with self.repo.write() as conn:
            offer = self._offer(conn, offer_id)
            if offer.code_type == "repeat":
                raise VendorError(
                    "invalid_parameter",
                    f"offer {offer.id} has one repeat code, not a pool of unique codes",
                    parameter="offer_id",
                    message="A CSV batch needs an offer with unique codes.",
                )
            picked = self.repo.issue_batch(conn, offer.id, count, now)
            if not picked:
                left = self.repo.code_remaining(conn, offer.id)
                raise VendorError(
                    "sold_out", f"offer {offer.id} has {left} unissued codes, {count} were asked"
                )
        return write_codes_csv(picked, offer.id)


def _imported_row(offer: Offer, row: CodeRow, now: datetime) -> dict[str, Any]:
    expires_at = row.expires_at
    if expires_at is None and row.issued_to and offer.code_expiry:
        expires_at = now + offer.code_expiry
    return {
        "offer_id": offer.id,
        "code": row.code,
        "code_norm": normalise_code(row.code),
        "origin": "imported",
        "issued_at": to_db(now) if row.issued_to else None,
        "issued_to": row.issued_to,
        "issued_to_norm": normalise_user(row.issued_to) if row.issued_to else None,
        "distributor_id": None,
        "uses": 0,
        "discount_amount": None,
        "expires_at": to_db(expires_at) if expires_at else None,
        "val_key": None,
        "validated_at": None,
        "lock_session": None,
        "lock_until": None,
    }


def _amount(text: str | None, name: str) -> float:
    if text in (None, ""):
        return 0.0
    try:
        value = float(text)
    except ValueError:
        raise VendorError(
            "invalid_parameter",
            f"{name} {text!r} is not a number",
            parameter=name,
            message=f"Query parameter '{name}' must be a decimal number.",
        ) from None
    if value != value or value in (float("inf"), float("-inf")):
        raise VendorError(
            "invalid_parameter",
            f"{name} must be finite",
            parameter=name,
            message=f"Query parameter '{name}' must be a decimal number.",
        )
    return round_money(value)


def _new_awc_token() -> str:
    """The affiliate conversion token of a redemption (simulator: 32 random hex digits)."""
    return secrets.token_hex(16)


def _plain(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def _raise(error: VendorError) -> Outcome:
    raise error
