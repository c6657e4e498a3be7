"""The wall screen's data: scoped reads cached for every screen, and the last good figures kept
per screen, so a database outage never blanks or breaks a wall.

``refresh`` is the only function that touches the database. It asks for the scope's data stamp
(one cheap query); figures, rotation and maps are cached by that stamp, so screens share them
and a refresh without new data costs that one query. When the database cannot be reached the
screen keeps its last good figures in ``st.session_state``, says so discreetly, and picks up
again by itself on a later refresh (the engine's pre-ping replaces dead connections).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from time import monotonic

import pandas as pd
import psycopg
import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from config import get_settings
from config.settings import Settings
from dashboard.components import data
from dashboard.components.map_builder import MapTheme, build_risk_map
from dashboard.components.offline import walk_elements
from dashboard.components.wall_model import (
    ScopeFrames,
    WallSnapshot,
    WallView,
    build_snapshot,
    map_layers,
    region_view,
    rotation,
    top_unit,
)
from db.errors import DatabaseNotConfiguredError
from db.scope import Scope
from geo.grading import DEFAULT_RULE

__all__ = ["WallData", "refresh", "last_good", "interrupted_since", "advance", "DATABASE_ERRORS", "WALL_BACKGROUND"]

_LOG = logging.getLogger(__name__)
# What an unreachable or restarting database raises on the way here (psycopg errors arrive
# wrapped by SQLAlchemy, but a pool or DNS failure may surface as the driver's or the OS's own).
DATABASE_ERRORS = (SQLAlchemyError, psycopg.Error, OSError, DatabaseNotConfiguredError)
WALL_BACKGROUND = "#061226"  # wall.css --bg

_GOOD, _INTERRUPTED = "wall_last_good", "wall_interrupted_since"
_VIEW, _VIEW_AT, _TICKS = "wall_view_index", "wall_view_started", "wall_view_ticks"

# The map on a wall: dark, vivid fills, a glowing district edge, nothing to click. Lengths in
# the frame are in its own design pixels (--mu; the frame is 624 design pixels wide, wall.css).
_MAP_CSS = """
:root { --mu: calc(100vw / 624); }
html, body, .leaflet-container { background: #061226 !important; }
.folium-map { animation: wall-fade 0.9s ease-out; }
@keyframes wall-fade { from { opacity: 0; } to { opacity: 1; } }
.gr-legend { background: rgba(6, 18, 38, 0.88) !important; color: #f1f7ff !important;
  border: 1px solid rgba(79, 163, 247, 0.4); box-shadow: none !important; border-radius: calc(4 * var(--mu)) !important;
  font-size: calc(20 * var(--mu)) !important; line-height: calc(30 * var(--mu)) !important;
  padding: calc(10 * var(--mu)) calc(14 * var(--mu)) !important; }
.gr-legend .gr-title { font-weight: 700; }
.gr-legend .gr-swatch { width: calc(22 * var(--mu)); height: calc(14 * var(--mu)); border-color: rgba(255, 255, 255, 0.4); }
.gr-legend .gr-count { margin-left: calc(20 * var(--mu)); }
.gr-legend .gr-sub { color: #a9bdd6 !important; font-size: calc(20 * var(--mu)) !important;
  line-height: calc(26 * var(--mu)) !important; max-width: calc(250 * var(--mu)) !important; }
.gr-label { color: #ffffff !important; font-size: calc(22 * var(--mu)) !important; font-weight: 700 !important;
  text-shadow: 0 0 3px #061226, 0 0 6px #061226, 0 0 10px #061226 !important; }
.gr-label-t3, .gr-label-t4 { font-size: calc(20 * var(--mu)) !important; font-weight: 400 !important; }
.gr-label-dim { display: none; }  /* neighbours' names: clipped at the frame's edge, noise on a wall */
"""
WALL_MAP_THEME = MapTheme(
    fill_opacity=0.86,
    no_data_opacity=0.45,
    context_fill="#10223f",
    context_stroke="#2b4a72",
    context_opacity=0.9,
    outline_colour="#7dd3fc",
    region_outline="#7dd3fc",
    interactive=False,
    legend=False,  # drawn beside the map, in the page (wall_panels.centre_panel)
    declutter_labels=True,
    css=_MAP_CSS,
)


@dataclass(frozen=True)
class WallData:
    """The last good figures of one screen."""

    stamp: str
    snapshot: WallSnapshot
    views: list[WallView]
    maps: dict[str, str]  # WallView.key → the map frame's HTML
    legends: dict[str, dict[int, int]]  # WallView.key → units drawn per grade (0: no data)
    structure: dict[int, int]  # units per tier inside the screen's top unit
    fetched_at: dt.datetime  # when the database last answered, bureau time


def _stable_ids(m) -> None:
    """Number folium's elements in document order instead of by random UUIDs: the same map
    renders to the same HTML, so a refresh that changes no colour leaves the frame alone."""
    for i, element in enumerate(walk_elements(m.get_root())):
        element._id = f"w{i:04d}"


def _map_html(
    view: WallView, frames: ScopeFrames, context, *, district: str, today: dt.date, note: str
) -> tuple[str, dict[int, int]]:
    """The map frame of one view, and its units per grade for the legend beside it."""
    settings = get_settings()
    drawn = region_view(view.code, view.tier, frames, district=district, today=today)
    grades = pd.array(drawn.units["grade"], dtype="Int64").fillna(0)
    legend = {g: int((grades == g).sum()) for g in (1, 2, 3, 4, 0)}
    m = build_risk_map(
        map_layers(drawn, context, legend_note=note),
        palette=settings.palette,
        basemap=settings.basemap,
        defaults=settings.map.model_copy(update={"background": WALL_BACKGROUND}),
        base_url_path=st.get_option("server.baseUrlPath") or "",
        theme=WALL_MAP_THEME,
    )
    _stable_ids(m)
    return m.get_root().render(), legend


# Keyed by the data stamp and the day, so an entry is never stale; the hour only bounds memory.
@st.cache_data(ttl=3600, show_spinner=False, max_entries=8)
def _wall_data(
    scope_key: str, stamp: str, today: dt.date, wall_key: str
) -> tuple[WallSnapshot, list[WallView], dict[str, tuple[str, dict[int, int]]], dict[int, int]]:
    """Figures, rotation and maps of a scope, shared by every screen showing it."""
    del wall_key  # the wall settings, part of the cache key only
    settings = get_settings()
    district, wall = settings.district_code, settings.wall
    units, context = data.grid_and_context(scope_key, stamp)
    grades, provenance = data.region_grades(scope_key, stamp, district, DEFAULT_RULE.name, today, today)
    frames = ScopeFrames(units, grades, data.scope_enterprises(scope_key, stamp), data.scope_hazards(scope_key, stamp))
    top = top_unit(units, data.scope_from_key(scope_key).codes, district)
    note = f"{provenance.rule_label} · 截至 {provenance.as_of:%Y-%m-%d}"
    snapshot = build_snapshot(
        frames, top_code=str(top["code"]), district=district, today=today, alert_days=wall.alert_days, rule_note=note
    )
    views = rotation(wall.views, units, top, district_tier=wall.district_tier, township_tier=wall.township_tier)
    maps = {
        view.key: _map_html(view, frames, context, district=district, today=today, note=note)
        for view in views
        if view.kind != "trends"
    }
    inside = units[units["path"].map(lambda path: str(top["code"]) in path) & (units["tier"] > int(top["tier"]))]
    structure = {int(tier): int(n) for tier, n in inside["tier"].value_counts().items()}
    return snapshot, views, maps, structure


def refresh(scope: Scope, settings: Settings) -> WallData | None:
    """Read the scope's figures when the data changed; on a database failure keep the last good
    ones and note since when the updates stopped. Returns the figures to show (None before the
    first success)."""
    try:
        stamp = data.data_stamp(scope.cache_key)
        today = settings.today()
        snapshot, views, maps, structure = _wall_data(scope.cache_key, stamp, today, settings.wall.model_dump_json())
    except DATABASE_ERRORS as exc:
        _LOG.warning("wall screen: database unreachable, keeping the last good figures (%s)", exc)
        st.session_state.setdefault(_INTERRUPTED, dt.datetime.now(settings.tz))
        return last_good()
    good = WallData(
        stamp,
        snapshot,
        views,
        {key: html for key, (html, _) in maps.items()},
        {key: legend for key, (_, legend) in maps.items()},
        structure,
        dt.datetime.now(settings.tz),
    )
    st.session_state[_GOOD] = good
    st.session_state.pop(_INTERRUPTED, None)
    return good


def last_good() -> WallData | None:
    return st.session_state.get(_GOOD)


def interrupted_since() -> dt.datetime | None:
    return st.session_state.get(_INTERRUPTED)


def advance(views: list[WallView], rotate_s: float) -> tuple[int, int]:
    """The view to show now (index into ``views``) and how many times the screen has turned:
    the next view once ``rotate_s`` has (nearly) passed, the same one on an earlier rerun."""
    now = monotonic()
    index, started = st.session_state.get(_VIEW, -1), st.session_state.get(_VIEW_AT)
    # Fragment timers are not exact: three quarters of the interval counts as a turn.
    if index < 0 or started is None or now - started >= rotate_s * 0.75:
        index = (index + 1) % len(views)
        st.session_state[_VIEW], st.session_state[_VIEW_AT] = index, now
        st.session_state[_TICKS] = st.session_state.get(_TICKS, -1) + 1
    return index % len(views), st.session_state.get(_TICKS, 0)
