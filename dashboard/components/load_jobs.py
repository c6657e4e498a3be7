"""The server's background loads: one registry for every session (st.cache_resource).

An upload is saved under ``.data/uploads/<job>/`` with its original name and handed to the
loader command in its own process (loaders/jobs.py). The registry keeps the process so any
rerun of the page — or another administrator's session — can follow it, and a watcher thread
per job records its outcome in the audit trail even when nobody is looking any more.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import threading
from dataclasses import dataclass, field
from pathlib import Path
from subprocess import Popen

import streamlit as st
from sqlalchemy import Engine

from config import get_settings
from db.audit import record_event
from loaders import jobs
from loaders.jobs import JobState, LoadRequest, read_job_state, start_load_process, upload_path

__all__ = ["LoadJob", "JobRegistry", "job_registry", "UploadedData"]


@dataclass(frozen=True)
class UploadedData:
    """One uploaded file: the name it came with and its bytes."""

    name: str
    data: bytes


@dataclass
class LoadJob:
    id: str
    request: LoadRequest
    file_name: str  # the main file, as uploaded
    path: Path  # where it was saved
    actor: str
    started_at: dt.datetime
    process: Popen = field(repr=False)

    @property
    def directory(self) -> Path:
        return self.path.parent

    def state(self) -> JobState:
        return read_job_state(self.directory, self.process.poll())


class JobRegistry:
    """Jobs by id. Thread-safe: sessions start and read jobs from their own threads."""

    def __init__(self, uploads_dir: Path | None = None) -> None:
        self.uploads_dir = uploads_dir or jobs.UPLOADS_DIR
        self._jobs: dict[str, LoadJob] = {}
        self._lock = threading.Lock()

    def start(
        self, request: LoadRequest, files: list[UploadedData], *, main: str, actor: str, audit_engine: Engine
    ) -> LoadJob:
        """Save ``files`` (``main`` is the one to load; the others are its companions, e.g. a
        shapefile's .dbf/.shx/.prj), audit the upload, start the loader."""
        now = dt.datetime.now(get_settings().tz)
        job_id = f"{now:%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"
        job_dir = self.uploads_dir / job_id
        job_dir.mkdir(parents=True)
        saved = {}
        for upload in files:
            target = upload_path(job_dir, upload.name)
            target.write_bytes(upload.data)
            saved[upload.name] = target
        path = saved[main]
        record_event(
            audit_engine,
            actor=actor,
            action="data_upload",
            subject=path.name,
            detail={
                "job": job_id,
                "kind": request.kind,
                "files": {p.name: len(u.data) for u, p in zip(files, saved.values(), strict=True)},
                "sha256": hashlib.sha256(next(u.data for u in files if u.name == main)).hexdigest(),
                "command": request.argv(path)[2:],
            },
        )
        process = start_load_process(request, path, job_dir)
        job = LoadJob(job_id, request, path.name, path, actor, now, process)
        with self._lock:
            self._jobs[job_id] = job
        threading.Thread(target=_audit_outcome, args=(job, audit_engine), name=f"load-{job_id}", daemon=True).start()
        return job

    def get(self, job_id: str | None) -> LoadJob | None:
        with self._lock:
            return self._jobs.get(job_id) if job_id else None

    def running(self) -> list[LoadJob]:
        with self._lock:
            jobs = list(self._jobs.values())
        return [job for job in jobs if job.process.poll() is None]


def _audit_outcome(job: LoadJob, engine: Engine) -> None:
    """Wait for the loader, then append its outcome to the audit trail (the load's own row
    in load_audit says what changed; this row says who did it and links the two)."""
    job.process.wait()
    state = job.state()
    result = state.result or {}
    record_event(
        engine,
        actor=job.actor,
        action="data_upload_finished",
        subject=job.file_name,
        detail={
            "job": job.id,
            "kind": job.request.kind,
            "outcome": state.outcome,
            "exit_code": state.exit_code,
            "load_audit_id": result.get("audit_id"),
            "counts": {k: result[k] for k in ("inserted", "updated", "unchanged", "rejected") if k in result},
            "problems": len(state.problems or []),
        },
    )


@st.cache_resource(show_spinner=False)
def job_registry() -> JobRegistry:
    return JobRegistry()
