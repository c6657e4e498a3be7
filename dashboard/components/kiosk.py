"""The kiosk viewer: a wall screen opened with ``?kiosk=<token>``, no login form.

``kiosk_viewer`` is called by ``session.current_viewer`` first. Without the parameter it returns
None and the usual viewer applies. With it, the token is checked once per session through the
database function made for it (db/kiosk.py: the dashboard's role cannot read the token table)
and the session becomes ``Viewer(role="kiosk", name="kiosk:<id>", scope=<the token's scope>)``.
A wrong or revoked token gets a plain refusal page; a screen that cannot reach the database
yet waits and retries by itself. The wall re-checks the token at every data refresh
(:func:`still_valid`), so revoking it stops a screen that is already showing.
"""

from __future__ import annotations

import logging

import streamlit as st

from config import get_settings
from dashboard.components import data
from dashboard.components.session import Viewer
from db.audit import record_event
from db.kiosk import KIOSK_PARAM, KioskCheck, check_kiosk_token, token_digest

__all__ = ["kiosk_token", "kiosk_viewer", "still_valid"]

_LOG = logging.getLogger(__name__)
_VIEWER = "_gr_kiosk_viewer"  # (token digest, Viewer) of this session
_RETRY_S = 10  # a screen waiting for the database asks again this often


def kiosk_token() -> str | None:
    return st.query_params.get(KIOSK_PARAM)


def _check(token: str) -> KioskCheck:
    with data.app_engine().begin() as conn:
        return check_kiosk_token(conn, token)


def _page(title: str, detail: str) -> None:
    from dashboard.components.wall_panels import message_page, style

    st.html(style(get_settings().palette))
    st.html(message_page(title, detail))


def _refuse(check: KioskCheck) -> None:
    """A plain refusal, recorded once per session (never the token itself)."""
    if not st.session_state.get("_gr_kiosk_refusal_recorded"):
        address = st.context.ip_address
        try:
            record_event(
                data.app_engine(),
                actor="kiosk",
                action="kiosk_refused",
                subject=f"kiosk:{check.token_id}" if check.token_id else None,
                address=address if isinstance(address, str) else None,
                detail={"status": check.status},
            )
            st.session_state["_gr_kiosk_refusal_recorded"] = True
        except Exception:  # an unrecorded refusal still refuses
            _LOG.warning("could not record a refused kiosk token", exc_info=True)
    _page("此大屏链接无效或已停用", "请联系系统管理员重新生成大屏链接。")
    st.stop()


def _wait() -> None:
    @st.fragment(run_every=_RETRY_S)
    def retry() -> None:
        try:
            _check(kiosk_token() or "")
        except Exception:
            return
        st.rerun(scope="app")

    _page("大屏正在连接数据服务", "连接恢复后自动显示，无需任何操作。")
    retry()
    st.stop()


def kiosk_viewer() -> Viewer | None:
    """The kiosk viewer of this session, None without a kiosk token; refuses (and stops the
    script) for a wrong or revoked token."""
    token = kiosk_token()
    if token is None:
        return None
    digest = token_digest(token)
    known = st.session_state.get(_VIEWER)
    if known and known[0] == digest:
        return known[1]
    try:
        check = _check(token)
    except Exception:
        _LOG.warning("kiosk token not checked: database unreachable", exc_info=True)
        _wait()
        raise  # not reached: _wait stops the script
    if check.status != "valid" or check.scope is None:
        _refuse(check)
    viewer = Viewer(name=f"kiosk:{check.token_id}", role="kiosk", scope=check.scope)
    st.session_state[_VIEWER] = (digest, viewer)
    return viewer


def still_valid(viewer: Viewer) -> bool:
    """Re-check a kiosk's token (noting its use); False once it is revoked. A database that
    cannot be reached is not a refusal: the screen keeps its last figures meanwhile."""
    if viewer.role != "kiosk":
        return True
    token = kiosk_token()
    try:
        check = _check(token or "")
    except Exception:
        return True
    if check.status == "valid":
        return True
    st.session_state.pop(_VIEWER, None)
    return False
