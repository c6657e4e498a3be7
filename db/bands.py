"""Assessment bands as versioned data (DOMAIN.md §2: bands differ between provinces).

Each LEC/LS version has thresholds and a start date and stays in force until the next version
of its method starts. Rows are only ever added: changing the bands is a new version, so grades
for any day are computed, and explained, with the bands of that day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import pandas as pd
from sqlalchemy import Connection, text

from db.errors import BandsVersionConflictError, NoBandsInForceError
from geo.grading import ASSESSMENT_METHODS, AssessmentBands

__all__ = ["bands_in_force", "record_bands", "band_versions"]


def band_versions(conn: Connection) -> pd.DataFrame:
    """Every recorded version: method, version, thresholds, valid_from, recorded_at."""
    return pd.read_sql(
        text(
            "SELECT method, version, thresholds, valid_from, recorded_at FROM assessment_band "
            "ORDER BY method, valid_from"
        ),
        conn,
    )


def bands_in_force(conn: Connection, on: dt.date) -> dict[str, AssessmentBands]:
    """The version of each method in force on ``on`` (the latest that started by then)."""
    rows = conn.execute(
        text(
            "SELECT DISTINCT ON (method) method, version, thresholds, valid_from FROM assessment_band "
            "WHERE valid_from <= :on ORDER BY method, valid_from DESC"
        ),
        {"on": on},
    ).all()
    bands = {r.method: AssessmentBands(r.method, r.version, tuple(r.thresholds), r.valid_from) for r in rows}
    missing = [method for method in ASSESSMENT_METHODS if method not in bands]
    if missing:
        raise NoBandsInForceError(
            f"no {'/'.join(missing)} assessment bands are in force on {on}: every recorded version starts later; "
            f"add one valid from that day, e.g. `python -m loaders bands set {missing[0]} <重大> <较大> <一般> "
            f"--valid-from {on}`"
        )
    return bands


def record_bands(
    conn: Connection,
    method: str,
    thresholds: Sequence[float],
    *,
    valid_from: dt.date,
    version: str | None = None,
) -> AssessmentBands:
    """Add a version of ``method``'s bands, in force from ``valid_from`` (version name: the
    date, unless given). Refused when the method already has that version name or start date."""
    bands = AssessmentBands(method, version or valid_from.isoformat(), tuple(thresholds), valid_from)
    clash = conn.execute(
        text("SELECT version, valid_from FROM assessment_band WHERE method = :m AND (version = :v OR valid_from = :f)"),
        {"m": bands.method, "v": bands.version, "f": bands.valid_from},
    ).first()
    if clash is not None:
        raise BandsVersionConflictError(
            f"{bands.method} bands version {clash.version!r} (valid from {clash.valid_from}) already exists; "
            f"recorded versions are never changed: give the new bands another version name and start date"
        )
    conn.execute(
        text(
            "INSERT INTO assessment_band (method, version, thresholds, valid_from) "
            "VALUES (:m, :v, CAST(:t AS float8[]), :f)"
        ),
        {"m": bands.method, "v": bands.version, "t": list(bands.thresholds), "f": bands.valid_from},
    )
    return bands
