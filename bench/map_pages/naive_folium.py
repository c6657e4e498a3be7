"""Bench reference (c) of bench/bench_map.py: the demo district's tier-4 map the naive folium way.

The same cells and enterprise points the risk map draws at ``/?tier=4``, read the same way
(db.queries / db.analysis with a whole-district Scope, cached like dashboard/components/data.py),
drawn as folium would be used out of the box: a plain ``folium.GeoJson`` of the unsimplified
cells (filled by grade through a ``style_function``) and one ``folium.CircleMarker`` per
enterprise, shown with ``st_folium``. Only Leaflet's own URLs are changed (to the vendored copy
at ``BENCH_LEAFLET_BASE``): folium's CDN defaults cannot load offline, and then nothing would draw.
"""

import os

import folium
import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from config import get_settings
from db import analysis, queries
from db.engine import create_app_engine
from db.scope import Scope, scoped_connection
from geo.grading import DEFAULT_RULE

LEAFLET = os.environ["BENCH_LEAFLET_BASE"].rstrip("/")


@st.cache_resource(show_spinner=False)
def engine():
    return create_app_engine()


@st.cache_data(show_spinner=False)
def read(district: str, today):
    scope = Scope.whole_district(district)
    with scoped_connection(engine(), scope) as conn:
        cells = queries.scope_units(conn, scope, tiers=(4,))
        enterprises = analysis.scope_enterprises(conn, scope)
        grades, _ = analysis.region_grades(conn, scope, district, DEFAULT_RULE.name, today, today=today)
    return cells, enterprises, grades


st.set_page_config(page_title="naive folium", layout="wide")
settings = get_settings()
cells, enterprises, grades = read(settings.district_code, settings.today())
st.title("风险地图基准：folium 直接绘制")

palette = settings.palette
cells = cells.merge(grades[["code", "grade"]], on="code", how="left")
cells["colour"] = [palette.colour_for(None if pd.isna(g) else int(g)) for g in cells["grade"]]
points = enterprises[enterprises["cell_code"].notna() & enterprises["lon"].notna()]

m = folium.Map(tiles=None)
m.default_js = [("leaflet", f"{LEAFLET}/leaflet.js")]
m.default_css = [("leaflet_css", f"{LEAFLET}/leaflet.css")]
folium.GeoJson(
    cells[["code", "name", "colour", "geom"]].to_json(),
    style_function=lambda f: {
        "fillColor": f["properties"]["colour"],
        "fillOpacity": 0.72,
        "color": "#475569",
        "weight": 0.5,
    },
).add_to(m)
for lat, lon, grade in zip(points["lat"], points["lon"], points["grade"], strict=True):
    folium.CircleMarker(
        [lat, lon],
        radius=3,
        fill=True,
        fill_color=palette.colour_for(None if pd.isna(grade) else int(grade)),
        fill_opacity=0.9,
        color="#FFFFFF",
        weight=0.8,
    ).add_to(m)
minx, miny, maxx, maxy = cells.total_bounds
m.fit_bounds([[miny, minx], [maxy, maxx]])
st_folium(m, key="naive_map", height=settings.map.height_px, use_container_width=True, returned_objects=[])
