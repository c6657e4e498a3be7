"""Data access for pages: cached at the edge, scoped always.

``st.cache_data`` is shared by every session on the server, so each cached function takes the
scope's ``cache_key`` as its first argument: two users with different scopes never share an
entry. Each also takes the scope's data stamp (db.analysis.data_stamp), which changes with
every load and regrade, so new data shows at once; the time-to-live only bounds memory. The
engine connects as the non-owner app role; row-level security filters scoped rows even where a
query forgets to.
"""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import pandas as pd
import streamlit as st
from sqlalchemy import Engine

from db import analysis, queries
from db import enterprise_file as enterprise_file_db
from db import workbench as workbench_reads
from db.engine import create_app_engine
from db.scope import Scope, scoped_connection

__all__ = [
    "app_engine",
    "data_stamp",
    "grid_and_context",
    "scope_enterprises",
    "scope_hazards",
    "region_grades",
    "scope_from_key",
    "enterprise_file",
    "search_enterprises",
    "workbench",
]

CACHE_TTL_S = 600


@st.cache_resource(show_spinner=False)
def app_engine() -> Engine:
    return create_app_engine()


def scope_from_key(scope_key: str) -> Scope:
    return Scope.of(scope_key.split(","))


def data_stamp(scope_key: str) -> str:
    """Not cached: one cheap query per rerun keeps every cached entry honest."""
    scope = scope_from_key(scope_key)
    with scoped_connection(app_engine(), scope) as conn:
        return analysis.data_stamp(conn, scope)


@st.cache_data(ttl=CACHE_TTL_S, show_spinner=False)
def grid_and_context(scope_key: str, stamp: str = "") -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """The scope's grid units of every tier (and their ancestors) and the neighbouring areas."""
    del stamp  # part of the cache key only
    scope = scope_from_key(scope_key)
    with scoped_connection(app_engine(), scope) as conn:
        return queries.scope_units(conn, scope), queries.context_areas(conn, scope)


@st.cache_data(ttl=CACHE_TTL_S, show_spinner=False, max_entries=16)
def scope_enterprises(scope_key: str, stamp: str) -> pd.DataFrame:
    del stamp
    scope = scope_from_key(scope_key)
    with scoped_connection(app_engine(), scope) as conn:
        return analysis.scope_enterprises(conn, scope)


@st.cache_data(ttl=CACHE_TTL_S, show_spinner=False, max_entries=16)
def scope_hazards(scope_key: str, stamp: str) -> pd.DataFrame:
    del stamp
    scope = scope_from_key(scope_key)
    with scoped_connection(app_engine(), scope) as conn:
        return analysis.scope_hazards(conn, scope)


@st.cache_data(ttl=CACHE_TTL_S, show_spinner=False, max_entries=64)
def region_grades(
    scope_key: str, stamp: str, district: str, rule_name: str, as_of: dt.date, today: dt.date
) -> tuple[pd.DataFrame, analysis.GradeProvenance]:
    del stamp
    scope = scope_from_key(scope_key)
    with scoped_connection(app_engine(), scope) as conn:
        return analysis.region_grades(conn, scope, district, rule_name, as_of, today=today)


@st.cache_data(ttl=CACHE_TTL_S, show_spinner=False, max_entries=256)
def enterprise_file(scope_key: str, stamp: str, uscc: str, as_of: dt.date) -> enterprise_file_db.EnterpriseFile | None:
    """One enterprise's file, or None when unknown or outside the scope (the same answer)."""
    del stamp
    scope = scope_from_key(scope_key)
    with scoped_connection(app_engine(), scope) as conn:
        return enterprise_file_db.enterprise_file(conn, scope, uscc, as_of=as_of)


@st.cache_data(ttl=CACHE_TTL_S, show_spinner=False, max_entries=256)
def search_enterprises(scope_key: str, stamp: str, query: str) -> pd.DataFrame:
    del stamp
    scope = scope_from_key(scope_key)
    with scoped_connection(app_engine(), scope) as conn:
        return enterprise_file_db.search_enterprises(conn, scope, query)


@st.cache_data(ttl=CACHE_TTL_S, show_spinner=False, max_entries=256)
def workbench(scope_key: str, stamp: str, cells: tuple[str, ...], today: dt.date) -> dict[str, pd.DataFrame]:
    """The grid officer's cells: units, enterprises, open hazards, staff (db.workbench)."""
    del stamp
    scope = scope_from_key(scope_key)
    chosen = list(cells)
    with scoped_connection(app_engine(), scope) as conn:
        return {
            "units": workbench_reads.cell_units(conn, scope, chosen),
            "enterprises": workbench_reads.cell_enterprises(conn, scope, chosen, today=today),
            "hazards": workbench_reads.cell_open_hazards(conn, scope, chosen, today=today),
            "staff": workbench_reads.cell_staff(conn, scope, chosen),
        }
