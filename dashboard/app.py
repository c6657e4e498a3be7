"""The served application: Streamlit's pages (Home.py) and, beside them, the login and logout
endpoints (dashboard/auth_routes.py), as one ``st.App``.

``python -m dashboard.serve`` runs ``streamlit run dashboard/app.py``; Streamlit finds ``app``
here and serves it with every option of streamlit_config.toml. The routes follow
``server.baseUrlPath``, read when Streamlit imports this module (its options are loaded by then).
"""

from __future__ import annotations

import streamlit as st

from dashboard.auth_routes import auth_routes

app = st.App("Home.py", routes=auth_routes(st.get_option("server.baseUrlPath") or ""))
