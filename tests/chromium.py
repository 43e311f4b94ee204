"""The browser the tests drive: Debian's headless Chromium, and the flags that keep it quiet
and offline (shared by the receiver page and the embeddable-code tests)."""

from __future__ import annotations

__all__ = ["ARGS", "CHROMIUM"]

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
