"""The grid officer's workbench on a 390×844 phone, in Debian's chromium with every non-local
request blocked and the server's clock frozen: only the officer's cell, the due list as the
database has it on that day, no horizontal scroll, 44 px touch targets, 7:1 text contrast."""

import datetime as dt

import pytest
from sqlalchemy import create_engine, text

from db.scope import Scope, apply_scope
from tests.conftest import ARTIFACTS, OfflinePage, log_in, serve_dashboard
from tests.support.accounts import OFFICER_PASSWORD

pytestmark = [pytest.mark.db, pytest.mark.browser]
MAP_FRAME = 'iframe[title="streamlit_folium.st_folium"]'
PHONE = {"width": 390, "height": 844}

# The lowest contrast of any visible text in the page's main area against the background it
# is drawn on (WCAG relative luminance), with the element that has it.
CONTRAST_JS = """() => {
    function rgb(s) { var m = s.match(/[\\d.]+/g); return m ? m.map(Number) : [0, 0, 0, 0]; }
    function lum(c) {
        var v = c.slice(0, 3).map(function (x) { x /= 255; return x <= 0.03928 ? x / 12.92 : Math.pow((x + 0.055) / 1.055, 2.4); });
        return 0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2];
    }
    function background(el) {
        for (; el; el = el.parentElement) {
            var c = rgb(getComputedStyle(el).backgroundColor);
            if (c.length < 4 || c[3] > 0.5) { return c; }
        }
        return [255, 255, 255, 1];
    }
    var worst = [99, ""], main = document.querySelector('[data-testid="stMain"]');
    var walker = document.createTreeWalker(main, NodeFilter.SHOW_TEXT);
    while (walker.nextNode()) {
        var node = walker.currentNode, el = node.parentElement;
        if (!node.textContent.trim() || !el.getClientRects().length) { continue; }
        var style = getComputedStyle(el);
        if (style.visibility === "hidden" || style.display === "none") { continue; }
        var a = lum(rgb(style.color)), b = lum(background(el));
        var ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
        if (ratio < worst[0]) { worst = [ratio, node.textContent.trim().slice(0, 40)]; }
    }
    return worst;
}"""


@pytest.fixture(scope="module")
def day(live_db) -> dt.date:
    """The frozen "today" of the server under test: the day the session's demo was loaded, on
    which its stored grades are current (so the server's daily upkeep has nothing to rewrite)."""
    del live_db  # dated relative to the day this test session loaded it
    from config import get_settings

    return get_settings().today()


@pytest.fixture(scope="module")
def frozen_server(live_db, day):
    with serve_dashboard(live_db, env={"GRIDRISK_CLOCK_DATE": day.isoformat()}, log_name="officer_server.log") as url:
        yield url


def _open_hazards(live_db, cell: str, day: dt.date) -> set[str]:
    engine = create_engine(live_db.admin_url)
    with engine.begin() as conn:
        apply_scope(conn, Scope.of([cell]))
        codes = conn.execute(
            text(
                "SELECT h.hazard_code FROM hazard h JOIN enterprise e ON e.id = h.enterprise_id "
                "WHERE e.cell_code = :c AND h.rectified_date IS NULL AND h.found_date <= :day"
            ),
            {"c": cell, "day": day},
        ).scalars()
        result = set(codes)
    engine.dispose()
    return result


def test_the_workbench_on_a_phone_holds_only_the_officers_cell(frozen_server, day, browser, neighbours, live_db):
    a, b = neighbours.a, neighbours.b
    phone = OfflinePage(browser, viewport=PHONE)
    try:
        log_in(phone.context, frozen_server, a.name, OFFICER_PASSWORD)
        page = phone.page
        page.goto(f"{frozen_server}/officer?cell={b.cell}", wait_until="domcontentloaded")  # asks for B's cell
        page.locator('[data-testid="wb-figure"]').first.wait_for(timeout=90_000)
        page.frame_locator(MAP_FRAME).locator('[data-testid="risk-legend"]').wait_for(timeout=90_000)

        width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
        assert width[0] <= width[1], f"horizontal scroll on a phone: {width}"
        due = set(page.locator('[data-testid="wb-due"]').evaluate_all("els => els.map(e => e.dataset.code)"))
        assert due == _open_hazards(live_db, a.cell, day) and due
        firms = set(page.locator('[data-testid="wb-enterprise"]').evaluate_all("els => els.map(e => e.dataset.uscc)"))
        assert firms == set(a.usccs)
        body = page.locator("body").inner_text()
        assert not any(uscc in body for uscc in b.usccs)
        assert f"数据截至 {day:%Y-%m-%d}" in body

        heights = page.locator('[data-testid="stPageLink"] a').evaluate_all(
            "els => els.map(e => e.getBoundingClientRect().height)"
        )
        assert heights and min(heights) >= 44, f"touch targets under 44 px: {min(heights)}"
        ratio, sample = page.evaluate(CONTRAST_JS)
        assert ratio >= 7, f"text contrast {ratio:.2f}:1 under 7:1 for sunlight: {sample!r}"

        # On a slow link the map component's script must come from the phone's cache next time.
        frame = page.locator(MAP_FRAME).element_handle().content_frame()
        scripts = [s for s in frame.evaluate("() => Array.from(document.scripts, s => s.src)") if "/static/js/" in s]
        assert scripts, "the map component loaded no script of its own"
        for src in scripts:
            assert "immutable" in phone.context.request.get(src).headers["cache-control"], src

        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "officer_phone.png"))
        page.screenshot(path=str(ARTIFACTS / "officer_phone_full.png"), full_page=True)
        assert phone.blocked == []
    finally:
        phone.close()
