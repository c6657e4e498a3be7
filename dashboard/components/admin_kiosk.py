"""大屏链接 on the data administration page: kiosk tokens (create, revoke, copy the link).

A placeholder until the kiosk issue lands: the page already calls :func:`kiosk_links_section`,
so that work replaces this function's body and touches nothing else (every action it adds is
recorded with db.audit.record_event, like the uploads are).
"""

from __future__ import annotations

import streamlit as st

from dashboard.components.session import Viewer

__all__ = ["kiosk_links_section"]


def kiosk_links_section(viewer: Viewer) -> None:
    del viewer  # the acting administrator, for the audit rows of the actions to come
    st.info("即将提供：创建大屏链接、吊销链接、复制链接。")
