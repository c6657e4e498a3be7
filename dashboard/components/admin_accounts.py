"""账号管理 on the data administration page: users (add, disable, reset password, roles, scope).

A placeholder until the accounts issue lands: the page already calls :func:`accounts_section`,
so that work replaces this function's body and touches nothing else (every action it adds is
recorded with db.audit.record_event, like the uploads are).
"""

from __future__ import annotations

import streamlit as st

from dashboard.components.session import Viewer

__all__ = ["accounts_section"]


def accounts_section(viewer: Viewer) -> None:
    del viewer  # the acting administrator, for the audit rows of the actions to come
    st.info("即将提供：添加账号、停用账号、重置密码、设置角色与可见范围。")
