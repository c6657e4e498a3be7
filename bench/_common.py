"""Shared benchmark helpers: timing with medians, a table, and the final JSON line."""

from __future__ import annotations

import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def median_time(fn: Callable[[], object], *, repeat: int = 3, setup: Callable[[], object] | None = None) -> float:
    """Median wall time of ``fn`` over ``repeat`` runs (``setup`` runs before each, untimed)."""
    times = []
    for _ in range(repeat):
        if setup is not None:
            setup()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def interleaved_medians(
    runs: dict[str, Callable[[], object]], *, repeat: int = 5, setup: Callable[[], object] | None = None
) -> dict[str, float]:
    """Median wall time of each of ``runs`` over ``repeat`` rounds, one run of each per round.

    A product and its baseline timed in alternation see the same machine: a burst of load from
    elsewhere slows both rather than only whichever was running, so their ratio holds still
    where back-to-back medians moved by a tenth. ``setup`` runs before each run, untimed.
    """
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeat):
        for name, fn in runs.items():
            if setup is not None:
                setup()
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def report(bench: str, rows: list[tuple[str, float, str]], figures: dict[str, float]) -> None:
    """Print a readable table, then one JSON object as the last line."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"bench: {bench}")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_column("note")
    for name, value, note in rows:
        table.add_row(name, f"{value:.3f}", note)
    Console(stderr=False).print(table)
    print(json.dumps({"bench": bench, **{k: round(v, 4) for k, v in figures.items()}}))
