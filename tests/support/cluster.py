"""The managed cluster's superuser, reachable over its private Unix socket (tests run as the
socket's owner or as root)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STATE = ROOT / ".data" / "cluster.env"


def cluster_state() -> dict[str, str]:
    if not STATE.is_file():
        return {}
    pairs = (line.split("=", 1) for line in STATE.read_text().splitlines() if "=" in line)
    return {k.strip(): v.strip() for k, v in pairs}


def superuser_url(database: str) -> str | None:
    state = cluster_state()
    if not state.get("PGSOCKDIR") or not Path(state["PGSOCKDIR"]).exists():
        return None
    return f"postgresql+psycopg://postgres@/{database}?host={state['PGSOCKDIR']}&port={state['PGPORT']}"
