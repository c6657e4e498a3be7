"""Reads behind the grid officer's workbench (网格工作台): a few cells, everything about them.

Small by design (a cell holds tens of enterprises), so the page's own data stays within what a
phone on a slow connection can fetch. Every function takes the user's scope; row-level security
filters the rows as well, so a cell code outside the scope yields nothing.
"""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import pandas as pd
from sqlalchemy import Connection, text

from db.analysis import scope_enterprises
from db.scope import Scope, apply_scope

__all__ = ["cell_enterprises", "cell_open_hazards", "cell_staff", "cell_units"]


def cell_units(conn: Connection, scope: Scope, cells: list[str]) -> gpd.GeoDataFrame:
    """The cells (current boundary set) with their community and township names."""
    apply_scope(conn, scope)
    return gpd.read_postgis(
        text(
            "SELECT u.code, u.name, u.tier, p.name AS community, t.name AS township, u.geom "
            "FROM region_unit u JOIN boundary_set s ON s.id = u.boundary_set_id AND s.is_current "
            "LEFT JOIN region_unit p ON p.boundary_set_id = u.boundary_set_id AND p.code = u.parent_code "
            "LEFT JOIN region_unit t ON t.boundary_set_id = u.boundary_set_id AND t.code = p.parent_code "
            "WHERE u.code = ANY(:cells) AND u.tier = 4 ORDER BY u.code"
        ),
        conn,
        params={"cells": cells},
        geom_col="geom",
    )


def cell_enterprises(conn: Connection, scope: Scope, cells: list[str], *, today: dt.date) -> pd.DataFrame:
    """Enterprises placed in the cells: grade (as on the map), class, flags, coordinates, the
    last inspection and their open/overdue hazard counts."""
    enterprises = scope_enterprises(conn, scope, on=today)
    enterprises = enterprises[enterprises["cell_code"].isin(cells)]
    ids = enterprises["id"].tolist()
    facts = pd.read_sql(
        text(
            "SELECT e.id, (SELECT max(i.inspection_date) FROM inspection i WHERE i.enterprise_id = e.id) "
            "AS last_inspection, "
            "(SELECT count(*) FROM hazard h WHERE h.enterprise_id = e.id AND h.rectified_date IS NULL "
            "AND h.found_date <= :today) AS hazards_open, "
            "(SELECT count(*) FROM hazard h WHERE h.enterprise_id = e.id AND h.rectified_date IS NULL "
            "AND h.deadline_date < :today) AS hazards_overdue "
            "FROM enterprise e WHERE e.id = ANY(:ids)"
        ),
        conn,
        params={"ids": ids, "today": today},
        parse_dates=["last_inspection"],
    )
    return enterprises.merge(facts, on="id", how="left").sort_values(
        ["hazards_overdue", "hazards_open", "name"], ascending=[False, False, True]
    )


def cell_open_hazards(conn: Connection, scope: Scope, cells: list[str], *, today: dt.date) -> pd.DataFrame:
    """Hazards of the cells' enterprises not rectified by ``today`` (found on or before it)."""
    apply_scope(conn, scope)
    return pd.read_sql(
        text(
            "SELECT h.hazard_code, h.hazard_grade, h.description, h.place_type, h.found_date, h.deadline_date, "
            "h.rectified_date, h.listed_level, e.name AS enterprise, e.uscc, e.cell_code "
            "FROM hazard h JOIN enterprise e ON e.id = h.enterprise_id "
            "WHERE e.cell_code = ANY(:cells) AND h.rectified_date IS NULL AND h.found_date <= :today "
            "ORDER BY h.deadline_date NULLS LAST, h.hazard_code"
        ),
        conn,
        params={"cells": cells, "today": today},
        parse_dates=["found_date", "deadline_date", "rectified_date"],
    )


def cell_staff(conn: Connection, scope: Scope, cells: list[str]) -> pd.DataFrame:
    """Grid officers and heads of the cells (phones: the scope covers these cells)."""
    apply_scope(conn, scope)
    return pd.read_sql(
        text(
            "SELECT name, role, phone, cell_codes FROM grid_staff WHERE cell_codes && CAST(:cells AS text[]) "
            "ORDER BY role, name"
        ),
        conn,
        params={"cells": cells},
    )
