"""Debian's Chromium as the tests and the map benchmark launch it (no browser downloads)."""

from __future__ import annotations

import shutil

__all__ = ["CHROMIUM", "CHROMIUM_ARGS"]

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Without the background-networking flags Chromium keeps trying to reach Google's services,
# which a closed network refuses.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
