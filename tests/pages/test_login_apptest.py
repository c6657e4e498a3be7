"""The login gate under AppTest: logged out only the login page; a deep link kept for after the
login; a tampered cookie, an idle session and a disabled account back at the login page; the
sidebar's logout; leaders without exports, analysts with audited ones; a page gated to
administrators refused to a grid officer."""

import datetime as dt
import io
from pathlib import Path
from unittest import mock

import pandas as pd
import pytest
from sqlalchemy import create_engine, text
from streamlit.testing.v1 import AppTest

from dashboard.components.login import login_messages
from db import accounts
from tests.support.accounts import DEMO, OFFICER_PASSWORD
from tests.support.maps import choose_map_tab, fake_maps

pytestmark = pytest.mark.db
HOME = str(Path(__file__).resolve().parents[2] / "dashboard" / "Home.py")
GATED = str(Path(__file__).resolve().parent / "gated_home.py")


@pytest.fixture()
def fake_map():
    maps = []

    def answer(text, kwargs):
        maps.append(text)
        return {"last_active_drawing": None}

    with fake_maps(answer):
        yield maps


@pytest.fixture()
def owner(app_env):
    engine = create_engine(app_env.admin_url)
    yield engine
    engine.dispose()


def _login_forms(at) -> list[str]:
    return [h.value for h in at.html if 'data-testid="gr-login-form"' in h.value]


def _is_login_page(at) -> bool:
    return bool(_login_forms(at)) and not at.metric


def _run(path=HOME, params=None, timeout=120, tab=None) -> AppTest:
    at = AppTest.from_file(path, default_timeout=timeout)
    at.query_params.update(params or {})
    if tab:
        choose_map_tab(at, tab)
    return at.run()


def test_logged_out_only_the_login_page_is_shown(cookies, fake_map):
    at = _run()
    assert not at.exception
    assert _is_login_page(at) and fake_map == []
    form = _login_forms(at)[0]
    assert 'action="/auth/login"' in form and 'type="password"' in form and 'name="account"' in form
    assert not at.sidebar.html, "no account box, no logout, without a login"
    shown = at.dataframe[0].value  # the demo notice names the demo accounts
    assert set(shown["账号"]) == {account.name for account in DEMO.values()}


def test_without_the_demo_the_login_page_names_no_account(cookies, fake_map, monkeypatch):
    from config import get_settings

    monkeypatch.setenv("GRIDRISK_DEMO", "false")
    get_settings.cache_clear()
    at = _run()
    assert _is_login_page(at) and not at.dataframe
    assert not any("bengshan" in h.value for h in at.html)


def test_a_deep_link_opened_logged_out_returns_to_its_view(cookies, fake_map):
    at = _run(params={"region": "340303001", "tier": "4", "hstate": "open"})
    assert _is_login_page(at)
    assert 'name="next" value="/?region=340303001&amp;tier=4&amp;hstate=open"' in _login_forms(at)[0]


@pytest.mark.parametrize("error", ["failed", "locked"])
def test_a_refused_login_says_the_same_whatever_the_account(cookies, fake_map, error):
    at = _run(params={"login_error": error, "region": "340303001"})
    assert [e.value for e in at.error] == [login_messages()[error]]
    assert "login_error" not in _login_forms(at)[0]  # the notice is not carried into the next view
    assert "账号不存在" not in login_messages()[error]


def test_a_logged_in_analyst_sees_the_map_and_can_log_out(cookies, fake_map):
    cookies.login(DEMO["analyst"].name, DEMO["analyst"].password)
    at = _run()
    assert not at.exception and not _is_login_page(at)
    assert next(m.value for m in at.metric if m.label == "企业数") == "20,004"
    account_box = at.sidebar.html[0].value
    assert "演示分析员 · 分析人员" in account_box and 'action="/auth/logout"' in account_box


def test_a_reload_keeps_the_session(cookies, fake_map):
    cookies.login(DEMO["leader"].name, DEMO["leader"].password)
    assert not _is_login_page(_run())
    assert not _is_login_page(_run())  # a new session with the same cookie: a reload


def test_a_tampered_cookie_shows_the_login_page(cookies, fake_map):
    cookie = cookies.login(DEMO["analyst"].name, DEMO["analyst"].password)
    token, expiry, signature = cookie.split(".")[1:]
    for forged in (
        f"v1.{token}.{int(expiry) + 3600}.{signature}",  # a longer life
        f"v1.{accounts.new_token()}.{expiry}.{signature}",  # another token
        f"v1.{token}.{expiry}.{signature[:-2]}xx",
        token,
    ):
        cookies.send(forged)
        assert _is_login_page(_run()), forged
    cookies.send(cookie)
    assert not _is_login_page(_run())


def test_an_idle_session_returns_to_the_login_page_with_the_reason(cookies, fake_map, owner):
    cookies.login(DEMO["township_head"].name, DEMO["township_head"].password)
    at = _run()
    assert not _is_login_page(at)
    with owner.begin() as conn:  # 31 minutes without a click
        conn.execute(
            text(
                "UPDATE app_session SET last_seen_at = last_seen_at - interval '31 minutes' WHERE revoked_at IS NULL "
                "AND account_id = (SELECT id FROM account WHERE name = :n)"
            ),
            {"n": DEMO["township_head"].name},
        )
    at.run()
    assert _is_login_page(at)
    assert "超过 30 分钟未操作" in at.warning[0].value


def test_a_disabled_account_is_logged_out_on_its_next_click(cookies, fake_map, owner):
    with owner.begin() as conn:
        if not accounts.account_exists(conn, "to-be-disabled"):
            accounts.create_account(
                conn, name="to-be-disabled", password="soon-disabled-42", role="leader", district="340303", actor="t"
            )
        accounts.set_disabled(conn, "to-be-disabled", False, actor="t")
    cookies.login("to-be-disabled", "soon-disabled-42")
    at = _run()
    assert not _is_login_page(at)
    with owner.begin() as conn:
        accounts.set_disabled(conn, "to-be-disabled", True, actor="t")
    at.run()
    assert _is_login_page(at)


def _exports():
    """Capture every export the tables offer: (file name, the callable that makes it)."""
    made = []
    from dashboard.components import tables

    real = tables.audited_export

    def capture(viewer, file_name, rows, make, **kwargs):
        export = real(viewer, file_name, rows, make, **kwargs)
        made.append((file_name, export))
        return export

    return made, mock.patch.object(tables, "audited_export", capture)


def test_a_leader_has_no_export_and_an_analyst_an_audited_one(cookies, fake_map, owner):
    made, patch = _exports()
    with patch:
        cookies.login(DEMO["leader"].name, DEMO["leader"].password)
        leader = _run(tab="企业列表")
        assert not leader.download_button and made == []
        assert leader.dataframe, "the leader still reads the tables"
        cookies.login(DEMO["analyst"].name, DEMO["analyst"].password)
        analyst = _run(tab="企业列表")
    assert {b.label for b in analyst.download_button} == {"下载 Excel", "下载 CSV"}
    csv_name, make_csv = next((name, make) for name, make in made if name.endswith(".csv") and "企业列表" in name)
    before = dt.datetime.now(dt.UTC)
    table = pd.read_csv(io.BytesIO(make_csv()), encoding="utf-8-sig")
    assert len(table) == 20_004
    with owner.connect() as conn:
        event = conn.execute(
            text("SELECT actor, detail FROM audit_event WHERE action = 'export' AND target = :f AND at >= :t"),
            {"f": csv_name, "t": before},
        ).one()
    assert event.actor == DEMO["analyst"].name and event.detail["rows"] == 20_004


def test_a_page_gated_to_administrators_is_refused_to_a_grid_officer(cookies, owner, neighbours):
    officer = neighbours.a.name
    cookies.login(officer, OFFICER_PASSWORD)
    at = _run(GATED)
    assert [m.value for m in at.markdown] == ["EVERYONE-CONTENT"]
    at.session_state["open"] = "admin-secret"  # the officer types the administrators' URL
    at.run()
    assert not at.exception
    assert "ADMIN-ONLY-CONTENT" not in [m.value for m in at.markdown]
    assert "无权访问「账号管理」" in at.error[0].value
    with owner.connect() as conn:
        assert (
            conn.execute(
                text(
                    "SELECT count(*) FROM audit_event WHERE action = 'page_forbidden' AND actor = :a AND target = 'admin-secret'"
                ),
                {"a": officer},
            ).scalar_one()
            >= 1
        )
    cookies.login(DEMO["admin"].name, DEMO["admin"].password)
    admin = _run(GATED)
    admin.session_state["open"] = "admin-secret"
    admin.run()
    assert "ADMIN-ONLY-CONTENT" in [m.value for m in admin.markdown]
