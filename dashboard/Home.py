"""Home: the district's four-colour risk map: the grid of every tier from PostGIS (grades come with grading)."""

from __future__ import annotations

import streamlit as st
from streamlit_folium import st_folium

from config import get_settings
from dashboard.components.data import grid_and_context
from dashboard.components.map_builder import build_grid_map
from dashboard.components.session import current_scope
from dashboard.components.ui import demo_notice, page_setup

page_setup("安全风险四色图")
settings = get_settings()
scope = current_scope()

st.title(f"{settings.bureau_name} · 安全风险四色图")
demo_notice()

units, context = grid_and_context(scope.cache_key)
if not (units["tier"] == 1).any():
    st.warning("尚未载入区县边界。请运行 `python -m loaders outline 文件路径 --code-year 年份`。")
    st.stop()

m = build_grid_map(
    units,
    context,
    palette=settings.palette,
    basemap=settings.basemap,
    defaults=settings.map,
    base_url_path=st.get_option("server.baseUrlPath") or "",
)
st_folium(m, key="home_map", height=settings.map.height_px, use_container_width=True, returned_objects=[])
