"""The wall screen as a command centre sees it, in Debian's chromium with every non-local request
blocked: 1920×1080 and 3840×2160 without scrollbars or Streamlit chrome, type sizes and text
contrast measured from computed styles, the map's colours painted, the views rotating, the map
frame kept while only the figures change, and a plain refusal for a revoked link."""

import io
from contextlib import contextmanager

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import create_engine, text

from config import get_settings
from config.settings import Palette
from db.kiosk import create_kiosk_token, kiosk_url, revoke_kiosk_token
from db.scope import Scope, apply_scope
from tests.conftest import ARTIFACTS, OfflinePage, serve_dashboard

pytestmark = [pytest.mark.db, pytest.mark.browser]
DISTRICT = "340303"
MAP_FRAME = 'iframe[title="大屏风险地图"]'
PANELS = ("header", "kpis", "grades", "trend", "places", "centre", "communities", "sectors", "alerts")
CHROME = (
    '[data-testid="stHeader"]',
    '[data-testid="stToolbar"]',
    '[data-testid="stSidebar"]',
    '[data-testid="stDecoration"]',
    '[data-testid="stStatusWidget"]',
    '[data-testid="stSidebarCollapsedControl"]',
    "#MainMenu",
)
ROTATE_S = 5


@pytest.fixture(scope="module")
def tokens(live_db):
    engine = create_engine(live_db.admin_url)
    with engine.begin() as conn:
        _, valid = create_kiosk_token(conn, label="浏览器测试", scope=Scope.whole_district(DISTRICT), actor="test")
        revoked_id, revoked = create_kiosk_token(conn, label="已停用", scope=Scope.whole_district(DISTRICT), actor="t")
        revoke_kiosk_token(conn, revoked_id, actor="test")
    engine.dispose()
    return {"valid": valid, "revoked": revoked}


@pytest.fixture(scope="module")
def wall_server(live_db):
    """Short intervals, and a 60-day alert window so the demo's overdue 重大隐患 fill the strip."""
    env = {"GRIDRISK_WALL__ROTATE_S": str(ROTATE_S), "GRIDRISK_WALL__REFRESH_S": "4", "GRIDRISK_WALL__ALERT_DAYS": "60"}
    with serve_dashboard(live_db, env=env, log_name="wall_server.log") as base_url:
        yield base_url


@contextmanager
def _screen(browser, width: int, height: int):
    screen = OfflinePage(browser, viewport={"width": width, "height": height})
    try:
        yield screen
    finally:
        screen.close()


def _open_wall(page, base_url: str, token: str) -> None:
    page.goto(kiosk_url(base_url, token), wait_until="domcontentloaded")
    page.locator('[data-testid="wall-kpis"]').wait_for(state="visible", timeout=120_000)
    page.frame_locator(MAP_FRAME).locator("canvas").first.wait_for(state="attached", timeout=60_000)


# Every visible text element: its computed font size, and its contrast against each background
# it may sit on (the stack of ancestor backgrounds, every colour stop of a gradient composited
# over the layers below it), the worst case kept.
_TEXT_METRICS_JS = """
() => {
  function parse(c) {
    var m = c && c.match(/rgba?\\(([^)]+)\\)/);
    if (!m) { return null; }
    var p = m[1].split(/[\\s,\\/]+/).filter(Boolean).map(Number);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
  }
  function channel(v) { v /= 255; return v <= 0.04045 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); }
  function lum(c) { return 0.2126 * channel(c[0]) + 0.7152 * channel(c[1]) + 0.0722 * channel(c[2]); }
  function over(top, under) {
    var a = top[3];
    return [top[0] * a + under[0] * (1 - a), top[1] * a + under[1] * (1 - a), top[2] * a + under[2] * (1 - a), 1];
  }
  function backgrounds(el) {
    var layers = [];
    for (var e = el; e; e = e.parentElement) {
      var cs = getComputedStyle(e), alts = [];
      var bg = parse(cs.backgroundColor);
      if (bg && bg[3] > 0) { alts.push(bg); }
      (cs.backgroundImage.match(/rgba?\\([^)]+\\)/g) || []).forEach(function (c) {
        var p = parse(c);
        alts.push(bg && bg[3] > 0 ? over(p, bg) : p);
      });
      if (alts.length) { layers.unshift(alts); }
    }
    var out = [[0, 0, 0, 1]];  // under everything: the canvas (the page paints over it)
    layers.forEach(function (alts) {
      var next = [];
      out.forEach(function (b) { alts.forEach(function (a) { next.push(over(a, b)); }); });
      out = next.slice(0, 400);
    });
    return out;
  }
  var results = [];
  document.querySelectorAll("body *").forEach(function (el) {
    var own = Array.from(el.childNodes).some(function (n) { return n.nodeType === 3 && n.textContent.trim(); });
    if (!own) { return; }
    var cs = getComputedStyle(el), r = el.getBoundingClientRect();
    // Hidden, or visually hidden for screen readers (Streamlit's 1-px, clipped "Skip to main content").
    if (cs.visibility === "hidden" || cs.display === "none" || r.width <= 1 || r.height <= 1) { return; }
    if (r.bottom < 0 || r.right < 0 || r.top > innerHeight || r.left > innerWidth) { return; }
    var fg = parse(cs.color), worst = 99;
    backgrounds(el).forEach(function (b) {
      var f = over(fg, b), l1 = lum(f), l2 = lum(b);
      worst = Math.min(worst, (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05));
    });
    results.push({text: el.textContent.trim().slice(0, 30), size: parseFloat(cs.fontSize), contrast: worst,
                  figure: el.classList.contains("wall-figure"), label: el.classList.contains("wall-label")});
  });
  return results;
}
"""


def _check_layout(page, width: int, height: int) -> None:
    scroll = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.scrollHeight,"
        " document.body.scrollWidth, document.body.scrollHeight]"
    )
    assert max(scroll[0], scroll[2]) <= width and max(scroll[1], scroll[3]) <= height, scroll
    for selector in CHROME:
        assert not page.locator(selector).first.is_visible(), f"Streamlit chrome visible: {selector}"
    for panel in PANELS:
        box = page.locator(f'[data-testid="wall-{panel}"]').bounding_box()
        assert box and box["x"] >= 0 and box["y"] >= 0, panel
        assert box["x"] + box["width"] <= width + 0.5 and box["y"] + box["height"] <= height + 0.5, panel
    frame = page.locator(MAP_FRAME).bounding_box()
    assert frame["width"] > width * 0.3 and frame["y"] + frame["height"] <= height


def _check_type(page, scale: float) -> list[dict]:
    texts = page.evaluate(_TEXT_METRICS_JS)
    assert len(texts) > 80
    figures = [t for t in texts if t["figure"]]
    labels = [t for t in texts if t["label"]]
    assert len(figures) >= 11 and len(labels) >= 20  # 7 headline figures, 4 grades; panel titles, names
    small_figures = [t for t in figures if t["size"] < 48 * scale - 0.5]
    assert not small_figures, small_figures
    small_text = [t for t in texts if t["size"] < 20 * scale - 0.5]
    assert not small_text, f"text under {20 * scale} px: {small_text[:5]}"
    low = [t for t in texts if t["contrast"] < 4.5]
    assert not low, f"text contrast under 4.5:1: {low[:5]}"
    return texts


def _blend(colour: str, opacity: float, background: str = "#061226") -> np.ndarray:
    rgb = np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)], dtype=float)
    bg = np.array([int(background[i : i + 2], 16) for i in (1, 3, 5)], dtype=float)
    return rgb * opacity + bg * (1 - opacity)


def _check_map_colours(page) -> None:
    """Each grade the legend counts is painted on the map (fills at the wall's opacity)."""
    legend = page.locator('[data-testid="wall-legend"]')
    counts = {grade: int(legend.locator(f'.wc-key[style*="--g{grade})"] b').inner_text()) for grade in (1, 2, 3, 4, 0)}
    assert sum(counts.values()) > 0
    box = page.locator(MAP_FRAME).bounding_box()
    shot = Image.open(io.BytesIO(page.screenshot(clip=box))).convert("RGB")
    pixels = np.asarray(shot, dtype=float).reshape(-1, 3)
    palette = Palette()
    for grade, count in counts.items():
        if not count:
            continue
        expected = _blend(palette.colour_for(grade or None), 0.86 if grade else 0.45)
        near = int((np.abs(pixels - expected).sum(axis=1) < 30).sum())
        assert near > 100, f"grade {grade}: {count} units counted but {near} pixels painted {expected}"


def _wait_for_next_view(page) -> str:
    before = page.locator('[data-testid="wall-centre"]').get_attribute("data-view")
    page.wait_for_function(
        "(before) => { var c = document.querySelector('[data-testid=wall-centre]');"
        " return c && c.getAttribute('data-view') !== before; }",
        arg=before,
        timeout=ROTATE_S * 4 * 1000,
    )
    return page.locator('[data-testid="wall-centre"]').get_attribute("data-view")


def test_the_wall_at_1920x1080(wall_server, tokens, browser):
    with _screen(browser, 1920, 1080) as screen:
        page = screen.page
        _open_wall(page, wall_server, tokens["valid"])
        page.wait_for_function("() => document.fonts.status === 'loaded'")
        _check_layout(page, 1920, 1080)
        _check_type(page, 1.0)
        if page.locator('[data-testid="wall-centre"]').get_attribute("data-view").startswith("trends"):
            _wait_for_next_view(page)
        page.frame_locator(MAP_FRAME).locator("canvas").first.wait_for(state="attached", timeout=60_000)
        page.wait_for_timeout(1200)  # the map fades in over 0.9 s (wall_data._MAP_CSS); a screenshot is a look
        _check_map_colours(page)
        assert page.locator('[data-testid="wall-alert"]').count() >= 1  # the demo's overdue 重大隐患
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "wall_1920x1080.png"))
        first = page.locator('[data-testid="wall-centre"]').get_attribute("data-view")
        second = _wait_for_next_view(page)
        assert second != first
        clock = page.locator("#wall-clock").inner_text()
        page.wait_for_function("(t) => document.getElementById('wall-clock').textContent !== t", arg=clock)
        assert screen.blocked == [], f"the wall tried to reach the internet: {screen.blocked}"


def test_the_wall_at_3840x2160_scales_everything(wall_server, tokens, browser):
    with _screen(browser, 3840, 2160) as screen:
        page = screen.page
        _open_wall(page, wall_server, tokens["valid"])
        page.wait_for_function("() => document.fonts.status === 'loaded'")
        _check_layout(page, 3840, 2160)
        _check_type(page, 2.0)
        page.wait_for_timeout(1200)
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "wall_3840x2160.png"))
        assert screen.blocked == []


def test_a_revoked_link_gets_a_plain_refusal(wall_server, tokens, browser):
    with _screen(browser, 1920, 1080) as screen:
        page = screen.page
        page.goto(kiosk_url(wall_server, tokens["revoked"]))
        message = page.locator('[data-testid="wall-message"]')
        message.wait_for(state="visible", timeout=60_000)
        assert "此大屏链接无效或已停用" in message.inner_text()
        assert page.locator('[data-testid="wall-kpis"]').count() == 0
        assert page.locator("input").count() == 0  # no login form
        for selector in CHROME:
            assert not page.locator(selector).first.is_visible()
        page.screenshot(path=str(ARTIFACTS / "wall_refused.png"))
        assert screen.blocked == []


# ---------------------------------------------------------------- only the figures change


@pytest.fixture(scope="module")
def still_server(live_db):
    """One view only: every rotation redraws the same map, while the figures refresh."""
    env = {"GRIDRISK_WALL__VIEWS": "district", "GRIDRISK_WALL__ROTATE_S": "2", "GRIDRISK_WALL__REFRESH_S": "2"}
    with serve_dashboard(live_db, env=env, log_name="wall_still_server.log") as base_url:
        yield base_url


@pytest.fixture()
def one_more_hazard(live_db):
    """Adds a 一般隐患 found today and a load row (as a hazard load would), removed afterwards:
    today's figures change, the stored grades (the map's colours) do not."""
    engine = create_engine(live_db.admin_url)
    scope = Scope.whole_district(DISTRICT)
    today = get_settings().today()

    def add():
        with engine.begin() as conn:
            apply_scope(conn, scope)
            firm = conn.execute(
                text("SELECT id, region_path FROM enterprise WHERE cell_code IS NOT NULL LIMIT 1")
            ).one()
            conn.execute(
                text(
                    "INSERT INTO hazard (hazard_code, enterprise_id, region_path, found_date, source, hazard_grade, "
                    "place_type, deadline_date) VALUES ('WALL-TEST-1', :e, :p, :d, '检查', 2, '仓库', :d + 10)"
                ),
                {"e": firm.id, "p": firm.region_path, "d": today},
            )
            conn.execute(
                text("INSERT INTO load_audit (kind, file_name, status) VALUES ('hazards', 'wall-test', 'loaded')")
            )

    yield add
    with engine.begin() as conn:
        apply_scope(conn, scope)
        conn.execute(text("DELETE FROM hazard WHERE hazard_code = 'WALL-TEST-1'"))
        conn.execute(text("DELETE FROM load_audit WHERE file_name = 'wall-test'"))
    engine.dispose()


def test_the_map_frame_is_kept_when_only_the_figures_change(still_server, tokens, browser, one_more_hazard):
    with _screen(browser, 1920, 1080) as screen:
        page = screen.page
        _open_wall(page, still_server, tokens["valid"])
        frame = page.locator(MAP_FRAME).element_handle().content_frame()
        frame.evaluate("() => { window.__sameFrame = true; }")
        found = page.locator('[data-kpi="found_month"]').inner_text()
        views = page.locator('[data-testid="wall-centre"] .wc-progress').count()
        one_more_hazard()
        page.wait_for_function(
            "(before) => { var k = document.querySelector('[data-kpi=found_month]'); return k && k.textContent !== before; }",
            arg=found,
            timeout=30_000,
        )
        assert (
            int(page.locator('[data-kpi="found_month"]').inner_text().replace(",", ""))
            == int(found.replace(",", "")) + 1
        )
        page.wait_for_timeout(2500)  # at least one more rotation redraws the centre with the same map
        assert views == 1
        frame = page.locator(MAP_FRAME).element_handle().content_frame()
        assert frame.evaluate("() => window.__sameFrame === true"), "the map frame was reloaded"
        assert screen.blocked == []
