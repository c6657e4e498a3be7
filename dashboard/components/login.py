"""The login page (登录), and the two pages a logged-in viewer may meet instead of a page: "无权访问"
(the URL of a page their role may not open) and "无可用页面".

The login form is a plain HTML form posted to the login endpoint (dashboard/auth_routes.py), which
checks the password, sets the HttpOnly session cookie and redirects back to the page the browser
asked for, query parameters included: a deep link opened while logged out lands on its view.
"""

from __future__ import annotations

import html
from urllib.parse import urlencode, urlsplit

import pandas as pd
import streamlit as st

from config import get_settings
from dashboard.components.data import app_engine
from dashboard.components.gate import PageSpec
from dashboard.components.session import ROLES_ZH, Viewer, client_address, ended_session_notice, url_root
from db.audit import record_event

__all__ = [
    "NOTICE_PARAMS",
    "login_form_html",
    "login_messages",
    "next_target",
    "render_login",
    "render_forbidden",
    "render_nothing",
]

# Query parameters the login endpoint adds for the page's notice; never part of the view.
NOTICE_PARAMS = ("login_error", "logged_out")


def login_messages() -> dict[str, str]:
    """The same words whether or not the account exists (the issue: never reveal it)."""
    return {
        "failed": "账号或密码不正确，或该账号当前不可用。",
        "locked": f"登录失败次数过多，已暂时锁定，请 {get_settings().auth.lockout_minutes} 分钟后再试。",
    }


def login_form_html(action: str, next_url: str) -> str:
    """The form, every value escaped. (Field names avoid DOM property names such as ``name``:
    st.html's sanitiser, DOMPurify, drops those against DOM clobbering.)"""
    return f"""
    <form method="post" action="{html.escape(action)}" class="gr-login" data-testid="gr-login-form">
      <label for="gr-name">账号</label>
      <input id="gr-name" name="account" type="text" autocomplete="username" maxlength="64" required autofocus>
      <label for="gr-password">密码</label>
      <input id="gr-password" name="password" type="password" autocomplete="current-password" maxlength="256" required>
      <input type="hidden" name="next" value="{html.escape(next_url)}">
      <button type="submit" data-testid="gr-login-submit">登录</button>
    </form>
    <style>
      .gr-login {{ display: flex; flex-direction: column; gap: .35rem; max-width: 26rem; }}
      .gr-login label {{ font-size: .9rem; color: rgb(49, 51, 63); margin-top: .4rem; }}
      .gr-login input {{ font-size: 1rem; padding: .55rem .7rem; border: 1px solid rgba(49, 51, 63, .25);
                         border-radius: .5rem; background: #F0F2F6; }}
      .gr-login input:focus {{ outline: 2px solid #C8102E; outline-offset: 0; background: #fff; }}
      .gr-login button {{ margin-top: 1rem; font-size: 1rem; padding: .55rem; border: 0; border-radius: .5rem;
                          background: #C8102E; color: #fff; cursor: pointer; }}
      .gr-login button:hover {{ background: #A50D26; }}
    </style>
    """


def next_target() -> str:
    """Where the login returns to: this URL's path and its query parameters (minus notices)."""
    url = st.context.url
    path = (urlsplit(url).path if url else "") or url_root()
    params = {key: value for key, value in st.query_params.to_dict().items() if key not in NOTICE_PARAMS}
    return path + (f"?{urlencode(params)}" if params else "")


def _notice() -> None:
    error = st.query_params.get("login_error")
    if error in login_messages():
        st.error(login_messages()[error])
    elif st.query_params.get("logged_out"):
        st.success("已退出登录。")
    else:
        ended = ended_session_notice()
        if ended:
            st.warning(ended)


def _demo_accounts() -> None:
    from loaders.demo_accounts import DEMO_ACCOUNTS

    st.info(
        "演示环境：以下演示账号的密码是公开的，仅供体验；正式使用前请停用它们（python -m manage users disable 账号）。"
    )
    st.dataframe(
        pd.DataFrame(
            {
                "账号": [a.name for a in DEMO_ACCOUNTS],
                "密码": [a.password for a in DEMO_ACCOUNTS],
                "角色": [ROLES_ZH[a.role] for a in DEMO_ACCOUNTS],
                "可见范围": [a.sees_zh for a in DEMO_ACCOUNTS],
            }
        ),
        hide_index=True,
        width="stretch",
    )


def render_login() -> None:
    settings = get_settings()
    st.title(f"{settings.bureau_name} · 安全风险四色图")
    left, _ = st.columns([2, 3])
    with left:
        st.subheader("登录", anchor=False)
        _notice()
        st.html(login_form_html(f"{url_root()}auth/login", next_target()))
        st.caption(
            f"连续 {settings.auth.max_failures} 次登录失败将锁定 {settings.auth.lockout_minutes} 分钟；"
            f"{settings.auth.idle_minutes} 分钟未操作自动退出。忘记密码请联系管理员。"
        )
    if settings.demo:
        _demo_accounts()


def render_forbidden(viewer: Viewer, spec: PageSpec) -> None:
    """A logged-in viewer at the URL of a page their role may not open."""
    record_event(
        app_engine(),
        actor=viewer.name,
        action="page_forbidden",
        subject=spec.url_path,
        address=client_address(),
        detail={"role": viewer.role},
    )
    st.error(f"无权访问「{spec.title}」：该页面不对{ROLES_ZH.get(viewer.role, viewer.role)}开放。")
    st.markdown(f"[返回首页]({url_root()})")


def render_nothing() -> None:
    st.info("此账号暂无可打开的页面，请联系管理员。")
