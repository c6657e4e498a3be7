"""The enterprise search box (name, USCC or address; partial input is enough), shared by the
enterprise file page and the risk map's sidebar. Results are the viewer's scope only."""

from __future__ import annotations

import streamlit as st
from streamlit.errors import StreamlitAPIException

from dashboard.components import data
from db.enterprise_file import SEARCH_LIMIT
from db.scope import Scope
from geo.safe_text import escape_markdown

__all__ = ["ENTERPRISE_PAGE", "enterprise_page_link", "enterprise_search", "page_link_if_open"]

ENTERPRISE_PAGE = "pages/enterprise.py"  # relative to Home.py, where it is registered
_SIDEBAR_RESULTS = 8


def page_link_if_open(page: str, label: str, *, icon: str | None, query_params: dict[str, str]) -> None:
    """``st.page_link`` to one of the app's pages, or nothing when the router (Home.py) did not
    open that page to the viewer's role. ``label`` is text from data and is escaped here."""
    try:
        st.page_link(page, label=escape_markdown(label), icon=icon, query_params=query_params)
    except StreamlitAPIException:
        return


def enterprise_page_link(uscc: str, label: str, *, icon: str | None = ":material/folder_open:") -> None:
    """A link to the enterprise's file (nothing for roles without the file page)."""
    page_link_if_open(ENTERPRISE_PAGE, label, icon=icon, query_params={"uscc": uscc})


def enterprise_search(scope: Scope, stamp: str, *, key: str, compact: bool = False) -> str:
    """The search box and its matches as links to their files; returns what was typed.
    ``compact`` (the sidebar): the first names only; otherwise each with its USCC, sector and
    address."""
    query = st.text_input(
        "查找企业",
        key=key,
        placeholder="企业名称、统一社会信用代码或地址（可输入部分）",
        max_chars=60,
        icon=":material/search:",
    )
    if not query.strip():
        return query
    matches = data.search_enterprises(scope.cache_key, stamp, query)
    if matches.empty:
        st.caption("未找到匹配的企业。")
        return query
    shown = matches.head(_SIDEBAR_RESULTS if compact else len(matches))
    for row in shown.itertuples():
        enterprise_page_link(row.uscc, row.name)
        if not compact:
            details = " · ".join(str(v) for v in (row.uscc, row.sector, row.address) if isinstance(v, str) and v)
            st.caption(escape_markdown(details))
    if len(matches) > len(shown) or len(matches) >= SEARCH_LIMIT:
        st.caption(f"仅列出前 {len(shown)} 个，请输入更多字词缩小范围。")
    return query
