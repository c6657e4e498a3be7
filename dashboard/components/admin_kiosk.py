"""大屏链接 on the data administration page: kiosk links (create, revoke, copy the link).

The same functions as ``python -m manage kiosk`` (db/kiosk.py), with the owner's connection
(the dashboard's role cannot read the token table). A new link is shown once, to copy; only its
digest is stored. Creating and revoking are audit rows with the administrator's name.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from config import get_settings
from dashboard.components.admin_accounts import owner_engine
from dashboard.components.session import Viewer
from db.errors import DatabaseNotConfiguredError, KioskTokenError
from db.kiosk import create_kiosk_token, kiosk_url, list_kiosk_tokens, revoke_kiosk_token
from db.scope import Scope

__all__ = ["kiosk_links_section"]

_NEW_LINK = "_gr_adm_new_kiosk_link"
_REVOKED = "_gr_adm_kiosk_revoked"


def kiosk_links_section(viewer: Viewer) -> None:
    try:
        engine = owner_engine()
    except DatabaseNotConfiguredError:
        st.warning("未配置 DATABASE_ADMIN_URL（数据库所有者连接），无法管理大屏链接。")
        return
    settings = get_settings()
    if link := st.session_state.pop(_NEW_LINK, None):
        st.success("已生成大屏链接。此链接只显示这一次，请复制后在大屏浏览器中以全屏方式打开：")
        st.code(link, language=None, wrap_lines=True)
    if revoked := st.session_state.pop(_REVOKED, None):
        st.success(revoked)
    with engine.connect() as conn:
        tokens = list_kiosk_tokens(conn)
    st.dataframe(
        pd.DataFrame(
            {
                "编号": tokens["id"],
                "名称": tokens["label"],
                "范围": tokens["scope_codes"].map(lambda codes: "、".join(codes or [])),
                "创建": tokens["created_at"],
                "最近使用": tokens["last_used_at"],
                "状态": tokens["revoked_at"].map(lambda at: "已停用" if pd.notna(at) else "有效"),
            }
        ),
        hide_index=True,
        width="stretch",
    )
    create, revoke = st.columns(2, gap="large")
    with create, st.form("adm_kiosk_create", clear_on_submit=True):
        st.markdown("**创建大屏链接**")
        label = st.text_input("名称", placeholder="如：指挥中心大屏", key="adm_kiosk_label")
        scope = st.text_input("范围（区划代码，留空为全区）", key="adm_kiosk_scope")
        if st.form_submit_button("创建") and label.strip():
            codes = [c.strip() for c in scope.replace("，", ",").split(",") if c.strip()] or [settings.district_code]
            try:
                with engine.begin() as conn:
                    _, token = create_kiosk_token(conn, label=label.strip(), scope=Scope.of(codes), actor=viewer.name)
            except (KioskTokenError, ValueError) as exc:
                st.error(str(exc))
            else:
                st.session_state[_NEW_LINK] = kiosk_url(settings.public_url, token)
                st.rerun()
    active = tokens[tokens["revoked_at"].isna()]
    with revoke, st.form("adm_kiosk_revoke"):
        st.markdown("**停用大屏链接**")
        chosen = st.selectbox(
            "链接",
            active["id"].tolist(),
            format_func=lambda i: f"#{i} {active.set_index('id').at[i, 'label']}",
            key="adm_kiosk_revoke_id",
        )
        if st.form_submit_button("停用") and chosen is not None:
            try:
                with engine.begin() as conn:
                    revoke_kiosk_token(conn, int(chosen), actor=viewer.name)
            except KioskTokenError as exc:
                st.error(str(exc))
            else:
                st.session_state[_REVOKED] = f"已停用链接 #{chosen}：正在显示它的大屏将在下次刷新时停止。"
                st.rerun()
