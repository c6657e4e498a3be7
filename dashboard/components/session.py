"""Who is looking: the viewer of this session (name, role, scope), from the login cookie.

Home.py calls :func:`authenticate` once per run, before any page: the session cookie (set by the
login endpoint, dashboard/auth_routes.py) is checked for its signature and expiry here and
against the database's session record (revoked, idle, absolute lifetime, disabled account) on
every rerun, so a logout or an expiry takes effect on the next click in every tab. Pages call
:func:`current_viewer` (or :func:`current_scope`) and nothing else; a kiosk link is a viewer too
(role ``kiosk``, the wall screen only).
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import streamlit as st

from config import get_settings
from dashboard.components.data import app_engine
from db import accounts
from db.audit import record_event
from db.scope import Scope

__all__ = [
    "Viewer",
    "ROLES_ZH",
    "authenticate",
    "current_viewer",
    "current_scope",
    "audited_export",
    "client_address",
    "ended_session_notice",
    "sidebar_account",
    "url_root",
]

# Roles (DOMAIN.md §6 users): leaders and analysts see the whole district; a township head one
# township; a grid officer their cells; administrators everything; a kiosk the wall screen only.
ROLES_ZH = {**accounts.ROLE_NAMES_ZH, "kiosk": "大屏"}

_VIEWER = "_gr_viewer"
_ENDED = "_gr_session_ended"


@dataclass(frozen=True)
class Viewer:
    """The person (or kiosk) behind a session; ``scope`` limits every data read."""

    name: str
    role: str
    scope: Scope
    display_name: str = ""

    @property
    def can_export(self) -> bool:
        # Leaders read on the wall screen and in meetings; exports are for the working roles.
        return self.role in ("analyst", "township_head", "grid_officer", "admin")

    @property
    def label(self) -> str:
        return f"{self.display_name or self.name} · {ROLES_ZH.get(self.role, self.role)}"


@st.cache_resource(show_spinner=False)
def _cookie_key() -> bytes:
    with app_engine().connect() as conn:
        return accounts.cookie_key(conn)


def _request_cookies() -> Mapping[str, str]:
    """The cookies the browser sent when it opened this session's connection."""
    return st.context.cookies


def client_address() -> str | None:
    """The browser's address as Streamlit saw it (None on localhost), for the audit trail."""
    address = st.context.ip_address
    return address if isinstance(address, str) else None


def authenticate() -> Viewer | None:
    """The logged-in viewer of this run, or ``None``; called once per run by Home.py.

    A wall screen's link (``?kiosk=<token>``) comes first and needs no login
    (dashboard/components/kiosk.py: a wrong or revoked token gets a refusal page there)."""
    st.session_state.pop(_VIEWER, None)
    from dashboard.components.kiosk import kiosk_viewer  # it imports Viewer from here

    kiosk = kiosk_viewer()
    if kiosk is not None:
        st.session_state[_VIEWER] = kiosk
        return kiosk
    cookie = _request_cookies().get(get_settings().auth.cookie_name)
    if not cookie:
        return None
    token = accounts.read_cookie(cookie, _cookie_key(), dt.datetime.now(dt.UTC))
    if token is None:
        return None
    with app_engine().begin() as conn:
        info = accounts.touch_session(conn, token)
    if not info.ok:
        st.session_state[_ENDED] = info.status
        return None
    viewer = Viewer(name=info.name, role=info.role, scope=info.scope, display_name=info.display_name or "")
    st.session_state[_VIEWER] = viewer
    return viewer


def ended_session_notice() -> str | None:
    """Why this browser's last session ended, when it ended while the page was open."""
    status = st.session_state.pop(_ENDED, None)
    return {
        "idle": f"超过 {get_settings().auth.idle_minutes} 分钟未操作，已自动退出，请重新登录。",
        "expired": "登录已到期，请重新登录。",
        # Logged out elsewhere, or the administrator changed the password, role or status.
        "revoked": "登录已结束，请重新登录。",
        "disabled": "登录已结束，请重新登录。",
        "password_changed": "登录已结束，请重新登录。",
    }.get(status or "")


def current_viewer() -> Viewer:
    """The logged-in viewer. A page is only registered for a logged-in viewer (Home.py), so
    reaching this without one is a bug: stop rather than show anything."""
    viewer = st.session_state.get(_VIEWER)
    if viewer is None:
        st.error("请先登录。")
        st.stop()
    return viewer


def current_scope() -> Scope:
    return current_viewer().scope


def audited_export(
    viewer: Viewer, file_name: str, rows: int, make: Callable[[], bytes], *, detail: dict | None = None
) -> Callable[[], bytes]:
    """``make``, recording an ``export`` audit row when the file is made (on the click), with
    ``detail`` (table, filters, columns …) beside the viewer's role and scope. What it needs is
    bound now: the callable runs outside the script's run."""
    engine, address = app_engine(), client_address()

    def export() -> bytes:
        data = make()
        record_event(
            engine,
            actor=viewer.name,
            action="export",
            subject=file_name,
            address=address,
            detail={**(detail or {}), "rows": rows, "role": viewer.role, "scope": viewer.scope.cache_key},
        )
        return data

    return export


def url_root() -> str:
    """The app's URL path prefix with a trailing slash (``/`` or ``/base/``)."""
    base = (st.get_option("server.baseUrlPath") or "").strip("/")
    return f"/{base}/" if base else "/"


def sidebar_account(viewer: Viewer) -> None:
    """The viewer's name and role, and the logout button (a form posted to the logout endpoint,
    which ends the session in the database and clears the cookie)."""
    st.sidebar.html(
        f"""
        <form method="post" action="{html.escape(url_root())}auth/logout" class="gr-account" data-testid="gr-logout-form">
          <span class="gr-who">{html.escape(viewer.label)}</span>
          <button type="submit" data-testid="gr-logout">退出登录</button>
        </form>
        <style>
          .gr-account {{ display: flex; align-items: center; justify-content: space-between; gap: .5rem;
                        margin: 0 0 .5rem 0; font-size: .9rem; }}
          .gr-account button {{ border: 1px solid rgba(49, 51, 63, .3); border-radius: .5rem; background: #fff;
                               padding: .25rem .75rem; cursor: pointer; font-size: .85rem; }}
          .gr-account button:hover {{ border-color: #C8102E; color: #C8102E; }}
        </style>
        """
    )
