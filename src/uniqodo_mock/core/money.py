"""Discounts: what a code is worth and what a redemption saved."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

__all__ = ["Discount", "MysteryChoice", "draw_mystery", "round_money"]


def round_money(value: float) -> float:
    return float(Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class Discount:
    """``percent`` of the order value (VAT excluded), or a ``fixed`` amount in ``currency``."""

    kind: str
    amount: float
    currency: str | None = None

    def value_for(self, order_value: float) -> float:
        """The ``discount_value`` of a redemption: computed from the offer's discount."""
        if order_value <= 0:
            return 0.0
        if self.kind == "percent":
            return round_money(order_value * self.amount / 100)
        return round_money(min(self.amount, order_value))

    def to_json(self) -> dict[str, object]:
        return {
            "discount_amount": self.amount,
            "discount_type": self.kind,
            "currency": self.currency,
        }


@dataclass(frozen=True)
class MysteryChoice:
    amount: float
    weight: float


def draw_mystery(choices: Sequence[MysteryChoice], rng: random.Random) -> float:
    """A weighted draw of the discount a mystery code carries (made once, at issue)."""
    return rng.choices([c.amount for c in choices], weights=[c.weight for c in choices])[0]
