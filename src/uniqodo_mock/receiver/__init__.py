"""The callback receiver: records every request partners' callbacks make, durably, and lets QA
list, filter, wait for and export them (API, web page and CLI)."""

from __future__ import annotations

__all__: list[str] = []
