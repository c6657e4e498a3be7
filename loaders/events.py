"""A load's machine-readable account (``python -m loaders … --json``): one JSON object a line.

A program that runs a loader in another process — the dashboard's data administration page
runs every upload that way, so a long load never holds up other users' sessions — reads
these lines while the load runs. Every line is an object with an ``event``:

- ``progress``: ``completed`` of ``total`` steps, ``description`` of the step now running;
- ``stage``: a step after the load itself (``description``, e.g. regrading);
- ``result``: the load's outcome (:func:`load_result_record`, :func:`boundary_result_record`);
- ``refused``: nothing was written; ``problems`` lists every problem;
- ``regraded``: the stored risk grades were refreshed (``as_of``, ``units`` per rule);
- ``error``: a configuration error (``message``); nothing was written.

The exit status stays the loaders' own (0 loaded, 1 with rejects, 2 refused, 3 configuration).
:class:`JsonLines` also stands in for rich's ``Progress``, which is all the loaders ask of one.
"""

from __future__ import annotations

import json
import sys
from typing import IO, Any

from loaders.errors import Problem

__all__ = ["JsonLines", "load_result_record", "boundary_result_record", "problem_records"]


class JsonLines:
    """Writes events as JSON lines, flushed at once (the reader follows the file as it grows)."""

    def __init__(self, stream: IO[str] | None = None) -> None:
        self.stream = stream or sys.stdout
        self._tasks: dict[int, dict[str, Any]] = {}

    def emit(self, event: str, **fields: Any) -> None:
        line = json.dumps({"event": event, **fields}, ensure_ascii=False, default=str)
        self.stream.write(line + "\n")
        self.stream.flush()

    # ---- the part of rich.progress.Progress the loaders use
    def add_task(self, description: str, total: float | None = None, **_: Any) -> int:
        task = len(self._tasks)
        self._tasks[task] = {"description": description, "completed": 0.0, "total": total}
        self._progress(task)
        return task

    def update(self, task_id: int, *, advance: float | None = None, description: str | None = None, **_: Any) -> None:
        task = self._tasks[task_id]
        task["completed"] += advance or 0.0
        if description is not None:
            task["description"] = description
        self._progress(task_id)

    def _progress(self, task_id: int) -> None:
        task = self._tasks[task_id]
        self.emit("progress", completed=task["completed"], total=task["total"], description=task["description"])


def problem_records(problems: list[Problem]) -> list[dict[str, object]]:
    return [p.as_dict() for p in problems]


def load_result_record(result: Any) -> dict[str, object]:
    """A tabular load's outcome (loaders.pipeline.LoadResult) as plain JSON values."""
    return {
        "total_rows": result.total_rows,
        "inserted": result.inserted,
        "updated": result.updated,
        "unchanged": result.unchanged,
        "rejected": result.rejected,
        "status": result.status,
        "audit_id": result.audit_id,
        "placement": result.placement,
        "rejects_file": str(result.rejects_file) if result.rejects_file else None,
        "warnings_file": str(result.warnings_file) if result.warnings_file else None,
        "rejections": problem_records(result.rejections),
        "warnings": problem_records(result.warnings),
    }


def boundary_result_record(result: Any) -> dict[str, object]:
    """A boundary load's outcome (loaders.boundaries.BoundaryLoadResult) as plain JSON values."""
    return {
        "status": "loaded",
        "district_code": result.district_code,
        "district_name": result.district_name,
        "district_area_km2": round(result.district_area_km2, 3),
        "code_year": result.code_year,
        "units_per_tier": {str(tier): n for tier, n in result.units_per_tier.items()},
        "bottom_tier": result.bottom_tier,
        "enterprises_moved": result.enterprises_moved,
        "repairs": [f"{r.code} {r.message}" for r in result.repairs],
        "audit_id": result.audit_id,
    }
