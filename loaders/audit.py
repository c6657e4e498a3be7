"""Audit rows for loads (one per attempt, refused ones included)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from sqlalchemy import Connection, Engine, text

__all__ = ["file_sha256", "write_audit"]


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_audit(
    target: Connection | Engine,
    *,
    kind: str,
    path: Path | None,
    status: str,
    counts: dict[str, int] | None = None,
    detail: dict[str, object] | None = None,
) -> int:
    """Insert an audit row; with an Engine it commits on its own (for refused loads)."""
    counts = counts or {}
    params = {
        "kind": kind,
        "file_name": path.name if path else None,
        "sha": file_sha256(path) if path and path.is_file() else None,
        "status": status,
        "inserted": counts.get("inserted", 0),
        "updated": counts.get("updated", 0),
        "unchanged": counts.get("unchanged", 0),
        "rejected": counts.get("rejected", 0),
        "detail": json.dumps(detail or {}, ensure_ascii=False, default=str),
    }
    sql = text(
        "INSERT INTO load_audit (kind, file_name, file_sha256, status, inserted, updated, unchanged, "
        "rejected, detail, finished_at) VALUES (:kind, :file_name, :sha, :status, :inserted, :updated, "
        ":unchanged, :rejected, CAST(:detail AS jsonb), clock_timestamp()) RETURNING id"
    )
    if isinstance(target, Engine):
        with target.begin() as conn:
            return conn.execute(sql, params).scalar_one()
    return target.execute(sql, params).scalar_one()
