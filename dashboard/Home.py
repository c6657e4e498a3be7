"""Entry point of the dashboard: who is looking → which pages they may open → run the chosen one.

Pages live in dashboard/pages/ and only render (state → query/core → draw). Every page is
declared here with the URL path it answers to and the roles that may open it; the gate
(dashboard/components/gate.py) turns the declarations into the viewer's pages, so access control
has a single place and no page checks roles itself. Logged out, every URL shows the login page
and returns to itself after login (query parameters included).

    /           风险地图 (the analyst's map; deep links keep their query parameters)
"""

from __future__ import annotations

import streamlit as st

from dashboard.components.gate import ACCOUNT_ROLES, PageSpec, navigation_pages
from dashboard.components.login import render_forbidden, render_login, render_nothing
from dashboard.components.session import authenticate, sidebar_account
from dashboard.components.ui import page_setup

PAGES = (
    PageSpec("pages/risk_map.py", "风险地图", url_path="map", roles=ACCOUNT_ROLES, icon=":material/map:", default=True),
    # ---- Administrator pages (数据载入, 账号管理, 大屏链接, 审计记录) come with their own issues:
    # declare each here with roles=ADMIN_ONLY (dashboard.components.gate); the gate shows it to
    # administrators only and the isolation tests (tests/pages/test_isolation.py) cover it.
    # ---- The kiosk's wall screen: roles=frozenset({"kiosk", ...}).
)


def main() -> None:
    page_setup("安全风险四色图")
    viewer = authenticate()
    pages = navigation_pages(viewer, PAGES, login=render_login, forbidden=render_forbidden, nothing=render_nothing)
    if viewer is not None:
        sidebar_account(viewer)
    visible = [page for page in pages if page.visibility == "visible"]
    st.navigation(pages, position="sidebar" if len(visible) > 1 else "hidden").run()


if __name__ == "__main__":
    main()
