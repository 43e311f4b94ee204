"""The promotion features that run as validation checks (``CodeValidation.checks``): basket
rules and the validation lock. Each is a function of a ``ValidationContext``."""

from __future__ import annotations

from uniqodo_mock.core.basket import check_basket_rules, parse_rules
from uniqodo_mock.core.lock import lock_for
from uniqodo_mock.service.validation_context import ValidationCheck, ValidationContext

__all__ = ["DEFAULT_CHECKS", "basket_rules_check", "validation_lock_check"]


def basket_rules_check(ctx: ValidationContext) -> None:
    """The offer's ``config.basket_rules`` over the validation data."""
    rules = parse_rules(ctx.offer.config.get("basket_rules"))
    check_basket_rules(rules, ctx.params, ctx.now, ctx.locale)


def validation_lock_check(ctx: ValidationContext) -> None:
    """The merchant's ``validation_lock_minutes`` (an offer may override it in its config)."""
    minutes = ctx.offer.config.get("validation_lock_minutes")
    if minutes is None:
        minutes = ctx.offer.merchant_config.get("validation_lock_minutes")
    lock = lock_for(ctx.code, ctx.offer, ctx.params, ctx.now, minutes, ctx.fresh_val_key)
    if lock is None:
        return
    ctx.repo.set_lock(ctx.conn, ctx.code.id, lock.session, lock.until)
    if lock.new_val_key is not None:
        ctx.val_key = lock.new_val_key


# Basket rules first: a basket that cannot use the code must not lock it.
DEFAULT_CHECKS: tuple[ValidationCheck, ...] = (basket_rules_check, validation_lock_check)
