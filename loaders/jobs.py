"""A load run in the background: the ``python -m loaders`` command in its own process.

The data administration page hands every upload to the same command a bureau runs by hand,
with ``--json`` (loaders/events.py): the load then has its own interpreter, so parsing a
200,000-row file never holds the dashboard's lock on Python (other users' sessions keep
drawing), it runs at a lower CPU priority than the dashboard, and a crash cannot take the
server with it. Its progress and outcome are JSON lines in a file next to the upload, which
the page reads once a second; nothing but the file and the process is shared.

No Streamlit here: the page keeps the jobs in its own registry (dashboard/components/load_jobs.py).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from config.settings import PROJECT_ROOT

__all__ = [
    "KINDS",
    "LoadRequest",
    "JobState",
    "upload_path",
    "start_load_process",
    "read_job_state",
    "EVENTS_FILE",
    "LOG_FILE",
]

# The loaders the page offers, in the order it offers them (the CLI's subcommand names).
KINDS = ("boundaries", "enterprises", "hazards", "inspections", "staff")
EVENTS_FILE = "events.jsonl"  # the command's --json lines
LOG_FILE = "loader.log"  # its human output (stderr): shown when it fails
UPLOADS_DIR = PROJECT_ROOT / ".data" / "uploads"
LOAD_NICENESS = 10  # below the dashboard's sessions: a load waits, a page redraw does not
_UNSAFE_NAME = re.compile(r'[\x00-\x1f/\\:*?"<>|]')


@dataclass(frozen=True)
class LoadRequest:
    """What to load and with which of the command line's options (None = the command's default).

    ``columns`` are the field → file column mappings: ``--map`` for tabular files, the
    ``--code-column``-style options for boundaries (keys code, name, tier, parent).
    """

    kind: str
    crs: str | None = None
    sheet: str | None = None
    encoding: str | None = None
    columns: dict[str, str] = field(default_factory=dict)
    strict: bool = False
    # boundaries only
    code_year: int | None = None
    layer: str | None = None
    repair: bool = False
    allow: tuple[str, ...] = ()
    tolerances: dict[str, float] = field(default_factory=dict)  # outside_m, overlap_m2, gap_m2

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind={self.kind!r}: expected one of {', '.join(KINDS)}")
        if self.kind == "boundaries" and self.code_year is None:
            raise ValueError("a boundary load needs code_year (区划代码年份), e.g. 2024")

    def argv(self, path: Path) -> list[str]:
        """The command line for ``path``: ``python -m loaders KIND PATH [options] --json``."""
        args = [sys.executable, "-m", "loaders", self.kind, str(path)]
        args += _option("--encoding", self.encoding)
        if self.kind == "boundaries":
            args += ["--code-year", str(self.code_year), *_option("--crs", self.crs), *_option("--layer", self.layer)]
            for key, column in self.columns.items():
                args += _option(f"--{key.replace('_', '-')}-column", column)
            args += ["--repair"] if self.repair else []
            for kind in self.allow:
                args += ["--allow", kind]
            for name, value in self.tolerances.items():
                args += [f"--{name.replace('_', '-')}", f"{value:g}"]
        else:
            args += _option("--crs", self.crs) if self.kind == "enterprises" else []
            args += _option("--sheet", self.sheet)
            for key, column in self.columns.items():
                args += ["--map", f"{key}={column}"]
            args += ["--strict"] if self.strict else []
        return [*args, "--json"]


def _option(flag: str, value: object | None) -> list[str]:
    return [] if value in (None, "") else [flag, str(value)]


def upload_path(job_dir: Path, original_name: str) -> Path:
    """Where an uploaded file is kept: the job's directory, under the name it was uploaded with
    (the rejects report and the load history name the file as the user knows it). Directory
    parts and characters no file system takes are dropped; the name is never empty."""
    name = _UNSAFE_NAME.sub("_", Path(original_name.replace("\\", "/")).name).strip(" .")
    return job_dir / (name or "upload")


def start_load_process(request: LoadRequest, path: Path, job_dir: Path) -> subprocess.Popen:
    """Start the loader command on ``path``; its JSON lines go to ``job_dir/events.jsonl``."""
    job_dir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(PROJECT_ROOT), os.environ.get("PYTHONPATH")]))}
    with (job_dir / EVENTS_FILE).open("wb") as events, (job_dir / LOG_FILE).open("wb") as log:
        process = subprocess.Popen(
            request.argv(path), cwd=PROJECT_ROOT, env=env, stdin=subprocess.DEVNULL, stdout=events, stderr=log
        )
    try:
        os.setpriority(os.PRIO_PROCESS, process.pid, LOAD_NICENESS)
    except OSError:  # the process has already ended, or the platform has no priorities
        pass
    return process


@dataclass(frozen=True)
class JobState:
    """What a load's events say so far; ``exit_code`` is None while the process runs."""

    exit_code: int | None
    completed: float = 0.0
    total: float = 1.0
    description: str = "启动载入程序"
    stage: str | None = None  # after the load itself, e.g. regrading
    result: dict[str, Any] | None = None
    problems: list[dict[str, Any]] | None = None  # the file was refused
    regraded: dict[str, Any] | None = None
    error: str | None = None  # a configuration error, or the log's end after a crash

    @property
    def running(self) -> bool:
        return self.exit_code is None

    @property
    def fraction(self) -> float:
        """Share of the work done, 0..1 (the regrade after a load counts as its last tenth)."""
        if not self.running:
            return 1.0
        if self.result is not None:
            return 0.9
        return 0.9 * min(self.completed / self.total, 1.0) if self.total else 0.0

    @property
    def outcome(self) -> str:
        """running, loaded, loaded_with_rejects, unchanged, refused or failed."""
        if self.running:
            return "running"
        if self.problems is not None:
            return "refused"
        if self.result is not None and self.exit_code in (0, 1):
            return str(self.result.get("status", "loaded"))
        return "failed"


def read_job_state(job_dir: Path, exit_code: int | None) -> JobState:
    """Fold the events written so far (a last line still being written is skipped)."""
    fields: dict[str, Any] = {}
    path = job_dir / EVENTS_FILE
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    for line in lines:
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            continue
        kind = event.pop("event", None)
        if kind == "progress":
            fields.update(
                completed=float(event["completed"]), total=float(event["total"] or 1), description=event["description"]
            )
        elif kind == "stage":
            fields["stage"] = event["description"]
        elif kind == "result":
            fields["result"] = event
        elif kind == "refused":
            fields["problems"] = event["problems"]
        elif kind == "regraded":
            fields["regraded"] = event
        elif kind == "error":
            fields["error"] = event["message"]
    if exit_code is not None and exit_code not in (0, 1, 2) and "error" not in fields:
        fields["error"] = _log_tail(job_dir / LOG_FILE) or f"载入程序异常退出（状态 {exit_code}）"
    return JobState(exit_code, **fields)


def _log_tail(path: Path, lines: int = 20) -> str:
    if not path.exists():
        return ""
    return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
