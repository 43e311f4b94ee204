"""The controls of one mock: shared clock, journal, fault rules (all three kept in the database
the replicas share; this process holds their front ends and cached copies)."""

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
