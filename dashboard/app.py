"""The served application: Streamlit's pages (Home.py) and, beside them, the login and logout
endpoints (dashboard/auth_routes.py), as one ``st.App``; the map component's hashed files are
served cacheable and its page preloads Leaflet (dashboard/asset_cache.py).

``python -m dashboard.serve`` runs ``streamlit run dashboard/app.py``; Streamlit finds ``app``
here and serves it with every option of streamlit_config.toml. The routes follow
``server.baseUrlPath``, read when Streamlit imports this module (its options are loaded by then).
This module is imported once, when the server starts, before any session runs.
"""

from __future__ import annotations

import streamlit as st
from starlette.middleware import Middleware
from streamlit.runtime.pages_manager import PagesManager

from dashboard.asset_cache import HashedComponentAssets, MapFramePreload
from dashboard.auth_routes import auth_routes

# Home.py declares every page with st.navigation. Streamlit would otherwise route by the legacy
# pages/ folder next to it until some session has run Home.py once, so on a fresh server a
# direct link to /enterprise would run that page without the login gate.
PagesManager.uses_pages_directory = False

_base_url_path = st.get_option("server.baseUrlPath") or ""
app = st.App(
    "Home.py",
    routes=auth_routes(_base_url_path),
    middleware=[
        Middleware(HashedComponentAssets, base_url_path=_base_url_path),
        Middleware(MapFramePreload, base_url_path=_base_url_path),
    ],
)
