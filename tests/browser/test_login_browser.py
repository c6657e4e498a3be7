"""Logging in, in Debian's chromium against the real server: a grid officer's map holds only
their cell; a reload keeps the session; logout ends it everywhere; a deep link opened logged out
lands on its view after login; five failures lock the address out."""

import secrets

import pytest
from sqlalchemy import create_engine, text

from config import get_settings
from tests.conftest import ARTIFACTS, OfflinePage
from tests.support.accounts import DEMO, OFFICER_PASSWORD

pytestmark = [pytest.mark.db, pytest.mark.browser]
MAP_FRAME = 'iframe[title="streamlit_folium.st_folium"]'
LOGIN_FORM = '[data-testid="gr-login-form"]'


@pytest.fixture()
def browser_page(browser):
    page = OfflinePage(browser, viewport={"width": 1600, "height": 1200})
    yield page
    page.close()


def _log_in_with_the_form(page, name: str, password: str) -> None:
    page.locator(LOGIN_FORM).wait_for(timeout=60_000)
    page.fill("#gr-name", name)
    page.fill("#gr-password", password)
    page.click('[data-testid="gr-login-submit"]')


def _map_frame(page):
    page.frame_locator(MAP_FRAME).locator('[data-testid="risk-legend"]').wait_for(state="visible", timeout=90_000)
    return page.locator(MAP_FRAME).element_handle().content_frame()


def _drawn_regions(frame) -> list[str]:
    return frame.evaluate(
        """() => { var codes = [];
                   window.map.eachLayer(function (l) {
                       if (l.feature && l.feature.properties.kind === "region") { codes.push(l.feature.properties.code); }
                   });
                   return codes; }"""
    )


def _points_label(frame) -> str:
    return frame.locator(".leaflet-control-layers-overlays label", has_text="企业点位").inner_text()


def test_a_grid_officer_sees_only_their_cell_and_a_reload_keeps_the_session(app_server, browser_page, neighbours):
    a, b = neighbours.a, neighbours.b
    page = browser_page.page
    page.goto(f"{app_server}/?region={b.cell}", wait_until="domcontentloaded")  # asking for the neighbour's cell
    ARTIFACTS.mkdir(exist_ok=True)
    page.locator(LOGIN_FORM).wait_for(timeout=60_000)
    page.screenshot(path=str(ARTIFACTS / "login_page.png"))
    _log_in_with_the_form(page, a.name, OFFICER_PASSWORD)
    frame = _map_frame(page)
    assert set(_drawn_regions(frame)) == {a.cell}
    assert f"（{len(a.usccs)}）" in _points_label(frame)
    body = page.locator("body").inner_text()
    assert not any(uscc in body for uscc in b.usccs)
    page.screenshot(path=str(ARTIFACTS / "grid_officer_map.png"))

    page.reload(wait_until="domcontentloaded")
    frame = _map_frame(page)  # no login form in between: the cookie carried the session
    assert page.locator(LOGIN_FORM).count() == 0
    assert set(_drawn_regions(frame)) == {a.cell}
    cookie = next(c for c in browser_page.context.cookies() if c["name"] == get_settings().auth.cookie_name)
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    assert page.evaluate("() => document.cookie").find(get_settings().auth.cookie_name) == -1  # not readable by scripts
    assert browser_page.blocked == []


def test_logout_ends_the_session_everywhere_it_is_used(app_server, browser, browser_page):
    page = browser_page.page
    page.goto(app_server, wait_until="domcontentloaded")
    _log_in_with_the_form(page, DEMO["analyst"].name, DEMO["analyst"].password)
    _map_frame(page)
    cookie = next(c for c in browser_page.context.cookies() if c["name"] == get_settings().auth.cookie_name)
    other = OfflinePage(browser, viewport={"width": 1400, "height": 1000})  # the same session in another browser
    try:
        other.context.add_cookies([cookie])
        other.page.goto(app_server, wait_until="domcontentloaded")
        _map_frame(other.page)

        page.locator('[data-testid="gr-logout"]').click()
        page.locator(LOGIN_FORM).wait_for(timeout=60_000)
        page.get_by_text("已退出登录。").wait_for()
        assert not any(c["name"] == cookie["name"] for c in browser_page.context.cookies())

        other.page.reload(wait_until="domcontentloaded")  # the other browser still holds the cookie
        other.page.locator(LOGIN_FORM).wait_for(timeout=60_000)
        assert other.page.locator(MAP_FRAME).count() == 0
    finally:
        other.close()


def test_a_deep_link_opened_logged_out_returns_to_its_view(app_server, browser_page, neighbours, live_db):
    a = neighbours.a
    village = a.cell[:12]
    engine = create_engine(live_db.admin_url)
    with engine.connect() as conn:
        village_name = conn.execute(text("SELECT name FROM region_unit WHERE code = :c"), {"c": village}).scalar_one()
    engine.dispose()
    page = browser_page.page
    page.goto(f"{app_server}/?region={village}&hstate=open", wait_until="domcontentloaded")
    _log_in_with_the_form(page, a.name, OFFICER_PASSWORD)
    _map_frame(page)
    assert f"region={village}" in page.url and "hstate=open" in page.url
    assert page.get_by_role("button", name=village_name, exact=True).is_disabled()  # the breadcrumb is there
    assert page.get_by_role("radio", name="未整改", exact=True).is_checked()


def test_five_failures_lock_the_address_out(app_server, browser, live_db):
    address = f"203.0.113.{secrets.randbelow(200) + 20}"
    locked = OfflinePage(browser, viewport={"width": 1400, "height": 1000})
    locked.context.set_extra_http_headers({"X-Forwarded-For": address})  # its own address (the server trusts it)
    page = locked.page
    try:
        page.goto(app_server, wait_until="domcontentloaded")
        for attempt in range(5):
            _log_in_with_the_form(page, f"guess-{attempt}-{secrets.token_hex(2)}", "wrong-password-1")
            expected = "已暂时锁定" if attempt == 4 else "账号或密码不正确"
            page.locator('[data-testid="stAlert"]', has_text=expected).wait_for(timeout=60_000)
        _log_in_with_the_form(page, DEMO["leader"].name, DEMO["leader"].password)  # right, but from that address
        page.locator('[data-testid="stAlert"]', has_text="已暂时锁定").wait_for(timeout=60_000)
        assert page.locator(MAP_FRAME).count() == 0
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "login_locked.png"))
    finally:
        locked.close()
        engine = create_engine(live_db.admin_url)  # the other tests share the server
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM login_lock WHERE key = :a"), {"a": address})
        engine.dispose()


def test_a_fresh_servers_first_request_to_any_page_meets_the_login(live_db, browser):
    """Before any session has run Home.py, Streamlit would route by the pages/ folder and skip
    the gate; the app switches that off when the server starts."""
    from tests.conftest import OfflinePage, serve_dashboard

    with serve_dashboard(live_db, log_name="fresh_server.log") as base_url:
        for path in ("enterprise?uscc=91340300MA2N0XY00X", "officer", "admin", "risk_map"):
            page = OfflinePage(browser, viewport={"width": 1280, "height": 900})
            try:
                page.page.goto(f"{base_url}/{path}", wait_until="domcontentloaded")
                page.page.get_by_test_id("gr-login-form").wait_for(state="visible", timeout=60_000)
                body = page.page.locator('[data-testid="stMain"]').inner_text()
                assert "一企一档" not in body and "整改期限" not in body and "数据载入" not in body, path
            finally:
                page.close()
