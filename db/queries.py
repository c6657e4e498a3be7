"""Read queries. Every function takes the user's :class:`~db.scope.Scope`.

Unit boundaries are not secret, but which of them a user's view covers is decided by the
scope; rows with enterprise/hazard data are filtered by row-level security as well.
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
from sqlalchemy import Connection, text

from db.scope import Scope, apply_scope
from geo.grading import AssessmentBands, enterprise_grades

__all__ = ["scope_units", "context_areas", "table_counts", "recent_loads", "grading_inputs"]


# Units of the current boundary sets at one tier that lie in the scope (their path holds a scope
# code) or that contain it (they are an ancestor of a scope unit, e.g. a township user's district).
_SCOPE_UNITS_SQL = text(
    """
    WITH current_units AS (
        SELECT u.* FROM region_unit u JOIN boundary_set s ON s.id = u.boundary_set_id AND s.is_current
    ),
    scope_ancestors AS (
        SELECT DISTINCT unnest(path) AS code FROM current_units WHERE code = ANY(:scope)
    )
    SELECT code, name, tier, parent_code, path, code_year, area_m2, geom
    FROM current_units
    WHERE tier = ANY(:tiers) AND (path && CAST(:scope AS text[]) OR code IN (SELECT code FROM scope_ancestors))
    ORDER BY tier, code
    """
)


def scope_units(conn: Connection, scope: Scope, *, tiers: tuple[int, ...] = (1, 2, 3, 4)) -> gpd.GeoDataFrame:
    """Current units of ``tiers`` inside the scope or containing it (its ancestors), as a GeoDataFrame."""
    params = {"scope": scope.codes, "tiers": list(tiers)}
    return gpd.read_postgis(_SCOPE_UNITS_SQL, conn, geom_col="geom", params=params)


def context_areas(conn: Connection, scope: Scope) -> gpd.GeoDataFrame:
    """Neighbouring areas for dim context around the scope's district (not secret)."""
    del scope  # context is public; the parameter keeps every query's signature uniform
    return gpd.read_postgis(text("SELECT code, name, geom FROM context_area ORDER BY code"), conn, geom_col="geom")


def table_counts(conn: Connection, scope: Scope) -> dict[str, object]:
    """Row counts per table (scoped tables under the scope) and the scope's current units per tier."""
    apply_scope(conn, scope)
    tiers = conn.execute(
        text(
            "SELECT u.tier, count(*) FROM region_unit u JOIN boundary_set s "
            "ON s.id = u.boundary_set_id AND s.is_current WHERE u.path && CAST(:scope AS text[]) "
            "GROUP BY u.tier ORDER BY u.tier"
        ),
        {"scope": scope.codes},
    ).all()
    placement = conn.execute(
        text("SELECT placement, count(*) FROM enterprise GROUP BY placement ORDER BY placement")
    ).all()
    counts = {
        table: conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()  # table names are constants
        for table in ("boundary_set", "region_unit", "context_area", "enterprise", "hazard", "load_audit")
    }
    return {
        "tables": counts,
        "units_per_tier": {str(tier): n for tier, n in tiers},
        "enterprises_by_placement": {p: n for p, n in placement},
    }


def recent_loads(conn: Connection, scope: Scope, *, limit: int = 10) -> pd.DataFrame:
    """The last loads from the audit table, newest first."""
    del scope  # load history is whole-district information; gated by role in the pages
    return pd.read_sql(
        text(
            "SELECT id, kind, file_name, status, inserted, updated, unchanged, rejected, actor, "
            "started_at, finished_at FROM load_audit ORDER BY id DESC LIMIT :limit"
        ),
        conn,
        params={"limit": limit},
    )


def grading_inputs(
    conn: Connection, scope: Scope, *, bands: dict[str, AssessmentBands] | None = None
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """What geo.grading needs, within ``scope``: the current units in it (code, tier, path), its
    enterprises (id, region_path, cell_code, status, assessment inputs, and ``grade``: the
    effective grade, geo.grading.enterprise_grades with ``bands`` — the default bands unless
    given, e.g. db.bands.bands_in_force on the as-of date — with the ``grade_source`` and
    ``bands_version`` that explain it) and their hazards (enterprise_id, dates, hazard_grade,
    listed_level). Rows are filtered by row-level security."""
    apply_scope(conn, scope)
    units = pd.read_sql(
        text(
            "SELECT u.code, u.tier, u.path FROM region_unit u "
            "JOIN boundary_set s ON s.id = u.boundary_set_id AND s.is_current "
            "WHERE u.path && CAST(:scope AS text[]) ORDER BY u.tier, u.code"
        ),
        conn,
        params={"scope": scope.codes},
    )
    enterprises = pd.read_sql(
        text(
            "SELECT id, region_path, cell_code, status, grade, lec_l, lec_e, lec_c, ls_l, ls_s "
            "FROM enterprise ORDER BY id"
        ),
        conn,
    )
    hazards = pd.read_sql(
        text(
            "SELECT enterprise_id, found_date, deadline_date, rectified_date, hazard_grade, listed_level "
            "FROM hazard ORDER BY id"
        ),
        conn,
        parse_dates=["found_date", "deadline_date", "rectified_date"],
    )
    enterprises[["grade", "grade_source", "bands_version"]] = enterprise_grades(enterprises, bands)
    return units, enterprises, hazards
