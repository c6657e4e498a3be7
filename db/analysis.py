"""Reads behind the analyst's map: enterprises, hazards and region grades of a scope.

Every function takes the user's :class:`~db.scope.Scope`; rows are filtered by row-level
security as well. The frames are small enough for one district (≈20k enterprises, ≈200k
hazards) to be filtered and aggregated by geo.indicators in the page's process, where the
same pure functions are tested against hand-computed figures.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import pandas as pd
from sqlalchemy import Connection, text

from config import get_settings
from db.bands import bands_in_force
from db.grading import grades_as_of, stored_grades
from db.scope import Scope, apply_scope
from geo.grading import RULES, enterprise_grades

__all__ = ["GradeProvenance", "data_stamp", "scope_enterprises", "scope_hazards", "region_grades"]

_ENTERPRISE_SQL = text(
    """
    SELECT id, uscc, name, address, sector, special_flags, grade, grade_source, lec_l, lec_e, lec_c,
           ls_l, ls_s, supervision_class, scale, employees, status, placement, cell_code, region_path,
           department, leader, ST_X(geom) AS lon, ST_Y(geom) AS lat
    FROM enterprise ORDER BY id
    """
)

_HAZARD_SQL = text(
    """
    SELECT id, hazard_code, enterprise_id, found_date, source, hazard_grade, place_type,
           deadline_date, rectified_date, closed_date, listed_level
    FROM hazard ORDER BY id
    """
)


# Loads that wrote nothing (refused, or every row unchanged or rejected) leave the stamp alone:
# re-uploading a file on the data page must not send every session back to the database.
_STAMP_SQL = text(
    "SELECT (SELECT coalesce(max(id), 0) FROM load_audit WHERE status NOT IN ('refused', 'unchanged') "
    "AND NOT (status = 'loaded_with_rejects' AND inserted + updated = 0)), "
    "(SELECT max(computed_at) FROM region_grade)"
)


def data_stamp(conn: Connection, scope: Scope) -> str:
    """Changes whenever a load or a regrade changed what the scope's pages show: part of
    every cache key, so a load is visible at once instead of after the cache's time-to-live."""
    apply_scope(conn, scope)
    row = conn.execute(_STAMP_SQL).one()
    return f"{row[0]}|{row[1].isoformat() if row[1] else '-'}"


def scope_enterprises(conn: Connection, scope: Scope, *, on: dt.date | None = None) -> pd.DataFrame:
    """The scope's enterprises with their effective grade (input, or LEC/LS banded with the
    assessment bands in force ``on`` that day, default today) and WGS84/CGCS2000 coordinates
    (``lon``/``lat``, NaN when unplaced)."""
    apply_scope(conn, scope)
    frame = pd.read_sql(_ENTERPRISE_SQL, conn)
    graded = enterprise_grades(frame, bands_in_force(conn, on or get_settings().today()))
    frame["grade"] = pd.array(graded["grade"], dtype="Int64")
    frame["special_flags"] = frame["special_flags"].map(lambda flags: list(flags or ()))
    return frame.drop(columns=["lec_l", "lec_e", "lec_c", "ls_l", "ls_s"])


def scope_hazards(conn: Connection, scope: Scope) -> pd.DataFrame:
    """The scope's hazards (dates as datetime64, day precision); descriptions stay in the
    database (they are most of the bytes and only the enterprise file shows them)."""
    apply_scope(conn, scope)
    return pd.read_sql(_HAZARD_SQL, conn, parse_dates=["found_date", "deadline_date", "rectified_date", "closed_date"])


@dataclass(frozen=True)
class GradeProvenance:
    """Where a map's colours come from, shown beside the map."""

    rule_name: str
    rule_version: str
    rule_label: str
    as_of: dt.date
    computed_at: dt.datetime | None  # None: computed for this view, now
    stored: bool
    zone: str = field(default_factory=lambda: get_settings().timezone)  # computed_at is shown in the bureau's zone

    @property
    def note_zh(self) -> str:
        when = (
            f"计算于 {self.computed_at.astimezone(ZoneInfo(self.zone)):%Y-%m-%d %H:%M}"
            if self.computed_at
            else "按需即时计算"
        )
        return f"规则：{self.rule_label}（{self.rule_name} v{self.rule_version}）· 截至 {self.as_of:%Y-%m-%d} · {when}"


def region_grades(
    conn: Connection, scope: Scope, district: str, rule_name: str, as_of: dt.date, *, today: dt.date
) -> tuple[pd.DataFrame, GradeProvenance]:
    """Every unit's grade under ``rule_name`` on ``as_of``, and where it came from.

    The stored grades serve today's view when they are as of today; any other date, or stored
    grades left stale by a missed daily refresh, are computed on demand by the same SQL, so a
    colour is never older than the date it claims.
    """
    rule = RULES[rule_name]
    if as_of == today:
        stored = stored_grades(conn, scope, rule_name)
        if not stored.empty and (stored["as_of"] == today).all() and (stored["rule_version"] == rule.version).all():
            grades = stored.rename(columns={"region_code": "code"})
            grades["grade"] = pd.array(grades["grade"], dtype="Int64")
            provenance = GradeProvenance(
                rule.name,
                rule.version,
                rule.label,
                as_of,
                pd.Timestamp(grades["computed_at"].max()).to_pydatetime(),
                True,
            )
            return grades, provenance
    grades = grades_as_of(conn, scope, district, rule, as_of)
    return grades, GradeProvenance(rule.name, rule.version, rule.label, as_of, None, False)
