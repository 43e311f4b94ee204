"""Redemption callback delivery: the outbox queries (``outbox``), how one delivery is sent
(``sender``) and the asyncio dispatcher that drives them (``dispatcher``)."""

from uniqodo_mock.dispatch.dispatcher import Dispatcher, DispatchSettings

__all__ = ["DispatchSettings", "Dispatcher"]
