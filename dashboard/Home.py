"""Entry point of the dashboard: who is looking → which pages they may open → run the chosen one.

Pages live in dashboard/pages/ and only render (state → query/core → draw). Every page is
declared here with the URL path it answers to and the roles that may open it; the gate
(dashboard/components/gate.py) turns the declarations into the viewer's pages, so access control
has a single place and no page checks roles itself. Logged out, every URL shows the login page
and returns to itself after login (query parameters included).

    /           风险地图 (the analyst's map; deep links keep their query parameters)
    /enterprise 一企一档 (one enterprise's file, ?uscc=…)
    /officer    网格工作台 (a grid officer's cells on a phone; ?cell= for other users)
    /wall       大屏 (the wall screen; a kiosk link ?kiosk=<token> opens it, and only it)
    /admin      数据管理 (administrators only: uploads, load history, accounts, kiosk links)
"""

from __future__ import annotations

import streamlit as st

from dashboard.components.gate import ACCOUNT_ROLES, ADMIN_ONLY, PageSpec, navigation_pages
from dashboard.components.login import render_forbidden, render_login, render_nothing
from dashboard.components.session import authenticate, sidebar_account
from dashboard.components.ui import page_setup

PAGES = (
    PageSpec("pages/risk_map.py", "风险地图", url_path="map", roles=ACCOUNT_ROLES, icon=":material/map:", default=True),
    PageSpec(
        "pages/enterprise.py", "一企一档", url_path="enterprise", roles=ACCOUNT_ROLES, icon=":material/folder_open:"
    ),
    PageSpec("pages/officer.py", "网格工作台", url_path="officer", roles=ACCOUNT_ROLES, icon=":material/assignment:"),
    # The wall screen: a kiosk link opens it and nothing else; people may look at it too.
    PageSpec("pages/wall.py", "大屏", url_path="wall", roles=ACCOUNT_ROLES | {"kiosk"}, icon=":material/tv:"),
    # Administrator pages: the gate shows them to administrators only, and the isolation tests
    # (tests/pages/test_isolation.py) cover every page declared here.
    PageSpec("pages/data_admin.py", "数据管理", url_path="admin", roles=ADMIN_ONLY, icon=":material/upload_file:"),
)


def main() -> None:
    page_setup("安全风险四色图")
    viewer = authenticate()
    pages = navigation_pages(viewer, PAGES, login=render_login, forbidden=render_forbidden, nothing=render_nothing)
    if viewer is not None and viewer.role != "kiosk":  # a wall screen has no account to log out of
        sidebar_account(viewer)
    visible = [page for page in pages if page.visibility == "visible"]
    st.navigation(pages, position="sidebar" if len(visible) > 1 else "hidden").run()


if __name__ == "__main__":
    main()
