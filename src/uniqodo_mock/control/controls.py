"""The controls one mock process holds: shared clock, journal, fault rules."""

from __future__ import annotations

from dataclasses import dataclass

from uniqodo_mock.control.clock_sync import ClockSync
from uniqodo_mock.control.faults import FaultBook
from uniqodo_mock.control.journal import Journal

__all__ = ["Controls"]


@dataclass
class Controls:
    clock_sync: ClockSync
    journal: Journal
    faults: FaultBook
