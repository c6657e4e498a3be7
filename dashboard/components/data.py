"""Data access for pages: cached at the edge, scoped always.

``st.cache_data`` is shared by every session on the server, so each cached function takes the
scope's ``cache_key`` as its first argument: two users with different scopes never share an
entry. The engine connects as the non-owner app role; row-level security filters scoped rows
even where a query forgets to.
"""

from __future__ import annotations

import geopandas as gpd
import streamlit as st
from sqlalchemy import Engine

from db import queries
from db.engine import create_app_engine
from db.scope import Scope, scoped_connection

__all__ = ["app_engine", "grid_and_context", "scope_from_key"]

CACHE_TTL_S = 300  # loads refresh the data; five minutes bounds how stale a view can be


@st.cache_resource(show_spinner=False)
def app_engine() -> Engine:
    return create_app_engine()


def scope_from_key(scope_key: str) -> Scope:
    return Scope.of(scope_key.split(","))


@st.cache_data(ttl=CACHE_TTL_S, show_spinner=False)
def grid_and_context(scope_key: str) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """The scope's grid units of every tier (and their ancestors) and the neighbouring areas."""
    scope = scope_from_key(scope_key)
    with scoped_connection(app_engine(), scope) as conn:
        return queries.scope_units(conn, scope), queries.context_areas(conn, scope)
