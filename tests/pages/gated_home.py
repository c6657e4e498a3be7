"""A two-page app behind the real gate, for the test of a page gated to administrators: the
test sets ``st.session_state["open"]`` to a URL path and the app goes there, as a typed URL would."""

import streamlit as st

from dashboard.components.gate import ACCOUNT_ROLES, ADMIN_ONLY, PageSpec, navigation_pages
from dashboard.components.login import render_forbidden, render_login, render_nothing
from dashboard.components.session import authenticate


def everyone() -> None:
    st.write("EVERYONE-CONTENT")


def admin_secret() -> None:
    st.write("ADMIN-ONLY-CONTENT")


PAGES = (
    PageSpec(everyone, "首页", url_path="home", roles=ACCOUNT_ROLES, default=True),
    PageSpec(admin_secret, "账号管理", url_path="admin-secret", roles=ADMIN_ONLY),
)

pages = navigation_pages(authenticate(), PAGES, login=render_login, forbidden=render_forbidden, nothing=render_nothing)
target = st.session_state.get("open")
if target and st.session_state.get("opened") != target:
    st.session_state["opened"] = target
    st.switch_page(next(page for page in pages if page.url_path == target))
st.navigation(pages, position="hidden").run()
