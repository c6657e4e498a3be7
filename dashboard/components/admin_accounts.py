"""账号管理 on the data administration page: users (add, disable, reset password, roles, scope).

The same functions as ``python -m manage users`` (db/accounts.py), run with the owner's
connection: the dashboard's own role can neither read password hashes nor write accounts.
Every action is an audit row with the acting administrator's name (db.accounts records it).
"""

from __future__ import annotations

import pandas as pd
import streamlit as st
from sqlalchemy import Engine

from config import get_settings
from dashboard.components.session import Viewer
from db import accounts
from db.engine import create_admin_engine
from db.errors import AccountError, DatabaseNotConfiguredError

__all__ = ["accounts_section", "owner_engine"]

_DONE = "_gr_adm_account_done"  # the last action's message, shown after the list is read again
_ACTIONS = {"password": "重置密码", "disable": "停用账号", "enable": "启用账号", "role": "修改角色与范围"}


@st.cache_resource(show_spinner=False)
def owner_engine() -> Engine:
    """The owner's engine, for the administrators' account and kiosk-link actions."""
    return create_admin_engine()


def _codes(text: str) -> list[str]:
    return [code.strip() for code in text.replace("，", ",").split(",") if code.strip()]


def _scope_inputs(key: str) -> tuple[list[str], str | None]:
    codes = st.text_input(
        "可见范围（区划代码，逗号分隔）",
        key=f"{key}_codes",
        help="乡镇/街道负责人填乡镇代码；网格员填网格代码或下面的网格员手机号；领导、分析人员、管理员留空（全区）。",
    )
    phone = st.text_input("关联网格员手机号（网格员账号）", key=f"{key}_phone")
    return _codes(codes), phone.strip() or None


def accounts_section(viewer: Viewer) -> None:
    try:
        engine = owner_engine()
    except DatabaseNotConfiguredError:
        st.warning("未配置 DATABASE_ADMIN_URL（数据库所有者连接），无法管理账号。")
        return
    district = get_settings().district_code
    if done := st.session_state.pop(_DONE, None):
        st.success(done)
    with engine.connect() as conn:
        table = accounts.list_accounts(conn, district)
    st.dataframe(
        pd.DataFrame(
            {
                "账号": table["name"],
                "姓名": table["display_name"],
                "角色": table["role"].map(accounts.ROLE_NAMES_ZH),
                "可见范围": table["scope_codes"].map(lambda codes: "、".join(codes or []) or "全区"),
                "状态": table["disabled"].map({True: "已停用", False: "正常"}),
                "最近登录": table["last_login"],
                "在线会话": table["open_sessions"],
            }
        ),
        hide_index=True,
        width="stretch",
    )
    roles = list(accounts.ROLE_NAMES_ZH)
    add, change = st.columns(2, gap="large")
    with add, st.form("adm_user_add", clear_on_submit=True):
        st.markdown("**添加账号**")
        name = st.text_input("账号", key="adm_user_name")
        display = st.text_input("姓名", key="adm_user_display")
        role = st.selectbox("角色", roles, format_func=accounts.ROLE_NAMES_ZH.get, key="adm_user_role")
        codes, phone = _scope_inputs("adm_user")
        password = st.text_input("初始密码（至少 10 位）", type="password", key="adm_user_password")
        if st.form_submit_button("添加"):
            _apply(
                lambda conn: accounts.create_account(
                    conn,
                    name=name,
                    password=password,
                    role=role,
                    district=district,
                    actor=viewer.name,
                    display_name=display or None,
                    scope_codes=codes,
                    staff_phone=phone,
                ),
                engine,
                f"已添加账号 {name}。",
            )
    with change, st.form("adm_user_change"):
        st.markdown("**修改账号**")
        target = st.selectbox("账号", table["name"].tolist(), key="adm_change_name")
        action = st.radio("操作", list(_ACTIONS), format_func=_ACTIONS.get, horizontal=True, key="adm_change_action")
        new_password = st.text_input("新密码（重置密码时）", type="password", key="adm_change_password")
        new_role = st.selectbox(
            "新角色（修改角色时）", roles, format_func=accounts.ROLE_NAMES_ZH.get, key="adm_change_role"
        )
        new_codes, new_phone = _scope_inputs("adm_change")
        if st.form_submit_button("执行") and target:
            if target == viewer.name and action in ("disable", "role"):
                st.error("不能停用或降级自己正在使用的账号。")
                return
            steps = {
                "password": lambda conn: accounts.set_password(conn, target, new_password, actor=viewer.name),
                "disable": lambda conn: accounts.set_disabled(conn, target, True, actor=viewer.name),
                "enable": lambda conn: accounts.set_disabled(conn, target, False, actor=viewer.name),
                "role": lambda conn: accounts.set_role(
                    conn,
                    target,
                    role=new_role,
                    district=district,
                    actor=viewer.name,
                    scope_codes=new_codes,
                    staff_phone=new_phone,
                ),
            }
            _apply(steps[action], engine, f"已对账号 {target} 执行：{_ACTIONS[action]}。")


def _apply(step, engine: Engine, done: str) -> None:
    """Run one account change in its own transaction; a refusal changes nothing and says why.
    After a change the section runs again, so the list shows it."""
    try:
        with engine.begin() as conn:
            step(conn)
    except AccountError as exc:
        st.error(str(exc))
        return
    st.session_state[_DONE] = done
    st.rerun()
