"""Callback fault rules (``"target": "callbacks"`` in ``/__admin/faults``) as the dispatcher
applies them to a delivery's first attempt:

* ``delay_ms``: the delivery is held that long before it is sent;
* ``duplicate``: it is sent twice, with the same ``X-Uniqodo-Delivery-Id`` (receivers must
  de-duplicate);
* ``out_of_order``: it is held until a later delivery has been sent, so that one overtakes it
  (at most ``delay_ms``, default ``DEFAULT_OUT_OF_ORDER_HOLD_MS``).

Rules match a delivery by ``code`` (the redeemed code), ``path`` (a prefix of the callback
URL's path) and ``operation`` (always ``redeem_code``). Retries are sent plainly: a rule
shapes how the first attempt goes out, and its ``count`` counts deliveries.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from urllib.parse import urlsplit

from uniqodo_mock.control.faults import CallbackFault, FaultBook
from uniqodo_mock.store.outbox import ClaimedDelivery

__all__ = ["DEFAULT_OUT_OF_ORDER_HOLD_MS", "FaultHook", "Overtaking", "fault_hook"]

# How long an out-of-order delivery waits for a later one at most (x-source: simulator).
DEFAULT_OUT_OF_ORDER_HOLD_MS = 10_000

FaultHook = Callable[[ClaimedDelivery], CallbackFault | None]


def fault_hook(book: FaultBook) -> FaultHook:
    """The dispatcher's view of ``book``: the fault for one claimed delivery, if any."""

    def fault_for(delivery: ClaimedDelivery) -> CallbackFault | None:
        return book.fault_for_delivery(
            operation="redeem_code", path=urlsplit(delivery.url).path or "/", code=delivery.code
        )

    return fault_for


class Overtaking:
    """Which deliveries have gone out, so that a held one knows when it was overtaken. Outbox
    ids grow with redemptions: "later" is a higher id. Create it inside the running loop."""

    def __init__(self) -> None:
        self._sent_max = 0
        self._changed = asyncio.Condition()

    async def sent(self, outbox_id: int) -> None:
        async with self._changed:
            self._sent_max = max(self._sent_max, outbox_id)
            self._changed.notify_all()

    async def wait_overtaken(self, outbox_id: int, limit_s: float) -> bool:
        """Wait until a delivery queued after ``outbox_id`` was sent; False after ``limit_s``."""
        async with self._changed:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self._changed.wait_for(lambda: self._sent_max > outbox_id), limit_s
                )
            return self._sent_max > outbox_id
