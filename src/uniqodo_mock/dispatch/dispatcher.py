"""The asyncio dispatcher: sends the outbox's deliveries off the request path.

A redemption's commit wakes it at once (``MockService.on_redeemed``); it also polls the outbox
every ``poll_interval`` seconds for retries that came due and rows other replicas queued. Sends
run concurrently up to ``concurrency``; each attempt is logged; failures (non-2xx, timeouts,
connection errors) are retried with exponential backoff until ``max_attempts``, then ``failed``.
Callback fault rules (``dispatch/faults.py``) may delay, duplicate or reorder a first attempt.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
import uuid
from collections.abc import Awaitable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from uniqodo_mock.control.faults import CallbackFault
from uniqodo_mock.core.backoff import BackoffPolicy
from uniqodo_mock.dispatch.faults import DEFAULT_OUT_OF_ORDER_HOLD_MS, FaultHook, Overtaking
from uniqodo_mock.dispatch.sender import build_request
from uniqodo_mock.store.outbox import AttemptRecord, ClaimedDelivery, OutboxStore

__all__ = ["DispatchSettings", "Dispatcher"]

logger = logging.getLogger("uniqodo_mock.dispatch")


@dataclass(frozen=True)
class DispatchSettings:
    """Defaults: 8 attempts, backoff 0.5 s doubling to 60 s (±20%), 5 s timeout per attempt,
    16 deliveries in flight, the outbox polled every second, claims held 30 s."""

    max_attempts: int = 8
    backoff_base: float = 0.5
    backoff_cap: float = 60.0
    jitter: float = 0.2
    timeout: float = 5.0
    concurrency: int = 16
    poll_interval: float = 1.0
    claim_seconds: float = 30.0

    @property
    def policy(self) -> BackoffPolicy:
        return BackoffPolicy(self.backoff_base, self.backoff_cap, self.max_attempts, self.jitter)

    def to_mapping(self) -> dict[str, Any]:
        return dict(self.__dict__)

    def merged(self, changes: dict[str, Any] | None) -> DispatchSettings:
        """These settings with ``changes`` (unknown keys and None values ignored)."""
        known = {k: v for k, v in (changes or {}).items() if k in self.__dict__ and v is not None}
        return replace(self, **known)


def _now() -> datetime:
    # Deliveries run on real time: the simulated clock is for offers and codes, not for retries.
    return datetime.now(UTC)


@dataclass
class Dispatcher:
    outbox: OutboxStore
    settings: DispatchSettings = field(default_factory=DispatchSettings)
    worker: str = field(default_factory=lambda: f"dispatcher-{uuid.uuid4().hex[:12]}")
    # The test controls' callback fault rules (set by the runtime once they exist).
    fault_for: FaultHook | None = None

    def __post_init__(self) -> None:
        self._policy = self.settings.policy
        self._wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._inflight: set[asyncio.Task[None]] = set()
        self._client: httpx.AsyncClient | None = None
        self._stopping = False
        self._stopped = asyncio.Event()
        self._overtaking: Overtaking | None = None

    @property
    def in_flight(self) -> int:
        """Deliveries this dispatcher is sending or holding (a fault rule's delay) right now."""
        return len(self._inflight)

    # -- lifecycle -------------------------------------------------------------------------
    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self._stopping = False
        self._stopped = asyncio.Event()
        self._overtaking = Overtaking()
        self._client = None  # made by the first delivery (``_http``)
        self._task = asyncio.create_task(self._run(), name=self.worker)

    async def stop(self) -> None:
        self._stopping = True
        self._stopped.set()  # ends fault holds: their deliveries stay queued for next time
        self._wake.set()
        if self._task:
            await self._task
        if self._inflight:
            await asyncio.gather(*self._inflight, return_exceptions=True)
        if self._client:
            await self._client.aclose()
            self._client = None
        try:
            await asyncio.to_thread(self.outbox.release, self.worker)
        except Exception:  # the database may be gone at shutdown; claims expire anyway
            logger.warning("could not release callback claims at shutdown", exc_info=True)

    def _http(self) -> httpx.AsyncClient:
        """The delivery client, made on first use: making one imports httpx's transport
        (httpcore, h11), which a start with no callback to deliver need not pay."""
        if self._client is None:
            self._client = httpx.AsyncClient(
                timeout=self.settings.timeout,
                follow_redirects=False,
                limits=httpx.Limits(max_connections=self.settings.concurrency),
            )
        return self._client

    def wake(self, _redemption_id: int | None = None) -> None:
        """Look at the outbox now (a ``MockService.on_redeemed`` listener; any thread)."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
            loop.call_soon_threadsafe(self._wake.set)

    # -- the loop --------------------------------------------------------------------------
    async def _run(self) -> None:
        while not self._stopping:
            self._wake.clear()
            free = self.settings.concurrency - len(self._inflight)
            claimed: list[ClaimedDelivery] = []
            if free > 0:
                try:
                    claimed = await asyncio.to_thread(
                        self.outbox.claim,
                        self.worker,
                        _now(),
                        timedelta(seconds=self.settings.claim_seconds),
                        free,
                    )
                except Exception:
                    logger.exception("could not read the callback outbox; trying again")
            for delivery in claimed:
                task = asyncio.create_task(self._deliver(delivery))
                self._inflight.add(task)
                task.add_done_callback(self._done)
            if claimed and len(claimed) == free:
                continue  # maybe more are due
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.settings.poll_interval)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._inflight.discard(task)
        self._wake.set()  # a slot is free

    async def _fault(self, delivery: ClaimedDelivery) -> CallbackFault | None:
        if self.fault_for is None or delivery.attempts:
            return None
        try:
            # The rules and their counts are in the database: off the loop, as the outbox.
            return await asyncio.to_thread(self.fault_for, delivery)
        except Exception:  # a broken rule must not stop deliveries
            logger.exception("callback fault rules failed for %s", delivery.delivery_id)
            return None

    async def _apply_hold(self, delivery: ClaimedDelivery, fault: CallbackFault) -> bool:
        """Hold the delivery as the fault says; False when the dispatcher stops meanwhile."""
        hold: Awaitable[object]
        if fault.out_of_order and self._overtaking is not None:
            limit = fault.delay_s or DEFAULT_OUT_OF_ORDER_HOLD_MS / 1000
            hold = self._overtaking.wait_overtaken(delivery.id, limit)
            what = f"until a later one went out (or {limit:g} s)"
        elif fault.delay_s:
            hold, what = asyncio.sleep(fault.delay_s), f"{fault.delay_s:g} s"
        else:
            return True
        logger.info("fault rule %d: callback %s held %s", fault.rule, delivery.delivery_id, what)
        held = asyncio.ensure_future(hold)
        stop = asyncio.ensure_future(self._stopped.wait())
        await asyncio.wait({held, stop}, return_when=asyncio.FIRST_COMPLETED)
        for task in (held, stop):
            task.cancel()
        return not self._stopped.is_set()

    async def _send(self, delivery: ClaimedDelivery, attempt: int) -> tuple[int | None, str | None]:
        """One HTTP exchange: (status code, error or None when it was a 2xx)."""
        client = self._http()
        try:
            request = build_request(
                client,
                url=delivery.url,
                method=delivery.method,
                payload=delivery.payload,
                headers=delivery.headers,
                delivery_id=delivery.delivery_id,
                attempt=attempt,
            )
            response = await client.send(request)
            await response.aclose()
        except httpx.TimeoutException:
            return None, f"timed out after {self.settings.timeout:g} s"
        except httpx.HTTPError as exc:
            return None, f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        except Exception as exc:  # a malformed URL must not kill the dispatcher
            return None, f"{type(exc).__name__}: {exc}"
        status_code = response.status_code
        return status_code, None if 200 <= status_code < 300 else f"HTTP {status_code}"

    async def _deliver(self, delivery: ClaimedDelivery) -> None:
        attempt = delivery.attempts + 1
        fault = await self._fault(delivery)
        if fault is not None and not await self._apply_hold(delivery, fault):
            return  # stopping: the claim is released, the delivery goes out next time
        started = _now()
        clock = time.perf_counter()
        status_code, error = await self._send(delivery, attempt)
        if self._overtaking is not None:
            await self._overtaking.sent(delivery.id)
        if fault is not None and fault.duplicate:
            # The same delivery again, same id and attempt number: what an at-least-once
            # sender does after a lost acknowledgement. Only the first exchange is recorded.
            again, why = await self._send(delivery, attempt)
            logger.info(
                "fault rule %d: callback %s sent twice (second: %s)",
                fault.rule,
                delivery.delivery_id,
                why or again,
            )
        latency = (time.perf_counter() - clock) * 1000
        delivered = error is None
        next_at: datetime | None = None
        if not delivered and not self._policy.gives_up_after(attempt):
            delay = self._policy.delay(attempt, random.random())
            next_at = _now() + timedelta(seconds=delay)
            if self._loop:
                # Wake for this retry precisely; polling covers it if this process dies.
                self._loop.call_later(delay, self._wake.set)
        result = AttemptRecord(started, status_code, latency, error, delivered, next_at)
        try:
            status = await asyncio.to_thread(self.outbox.record, delivery, self.worker, result)
        except Exception:
            logger.exception("could not record delivery %s; its claim will expire", delivery.id)
            return
        if status == "failed":
            logger.warning(
                "callback %s to %s failed after %d attempts: %s",
                delivery.delivery_id,
                delivery.url,
                attempt,
                error,
            )
