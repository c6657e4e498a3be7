"""Entry point of the dashboard: who is looking → which pages they may open → run the chosen one.

Pages live in dashboard/pages/ and only render (state → query/core → draw). Every page is
registered here with the URL path it answers to, so access control has a single place: the
login gate (accounts, their own issue) decides the page list from the user's role.

    /           风险地图 (the analyst's map; deep links keep their query parameters)
    /enterprise 一企一档 (one enterprise's file, ?uscc=…)
    /officer    网格工作台 (a grid officer's cells on a phone; ?cell= for other users)
    /wall       大屏 (the wall screen; a kiosk link ?kiosk=<token> opens it, and only it)
    /admin      数据管理 (administrators only: uploads, load history; accounts and kiosk links to come)
"""

from __future__ import annotations

import streamlit as st

from dashboard.components.session import current_viewer
from dashboard.components.ui import page_setup

PAGES_DIR = "pages"

page_setup("安全风险四色图")
viewer = current_viewer()
wall = st.Page(f"{PAGES_DIR}/wall.py", title="大屏", icon=":material/tv:", url_path="wall")
if viewer.role == "kiosk":
    # A kiosk link opens the wall screen and nothing else.
    pages = [wall]
else:
    pages = [
        st.Page(f"{PAGES_DIR}/risk_map.py", title="风险地图", icon=":material/map:", url_path="map", default=True),
        st.Page(f"{PAGES_DIR}/enterprise.py", title="一企一档", icon=":material/folder_open:", url_path="enterprise"),
        st.Page(f"{PAGES_DIR}/officer.py", title="网格工作台", icon=":material/assignment:", url_path="officer"),
        wall,
    ]
    if viewer.role == "admin":
        pages.append(
            st.Page(f"{PAGES_DIR}/data_admin.py", title="数据管理", icon=":material/upload_file:", url_path="admin")
        )
st.navigation(pages, position="sidebar" if len(pages) > 1 else "hidden").run()
