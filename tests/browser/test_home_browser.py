"""What a person sees, in Debian's chromium with every non-local request blocked: the risk map's
colours against the database, drill-down, breadcrumb, filters, deep links, escaping, tiles."""

import functools
import http.server
import io
import threading
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from PIL import Image
from shapely.geometry import box
from sqlalchemy import create_engine, text

from config.settings import Basemap, MapDefaults, Palette
from dashboard.components.map_builder import RiskMapLayers, build_risk_map
from db.scope import Scope, apply_scope
from tests.conftest import ARTIFACTS
from tests.support.district import district_rows

pytestmark = [pytest.mark.db, pytest.mark.browser]
MAP_FRAME = 'iframe[title="streamlit_folium.st_folium"]'
DISTRICT = "340303"
ROOT = Path(__file__).resolve().parents[2]
XSS = '<img src=x onerror="window.__pwned=1">'


def _open(page, url: str) -> None:
    page.set_viewport_size({"width": 1600, "height": 1400})  # the whole map on screen
    page.goto(url, wait_until="domcontentloaded")


def _map_frame(page):
    """The map's iframe once its legend is drawn (the map is then complete)."""
    page.frame_locator(MAP_FRAME).locator('[data-testid="risk-legend"]').wait_for(state="visible", timeout=90_000)
    return page.locator(MAP_FRAME).element_handle().content_frame()


def _legend_title(frame) -> str:
    return frame.locator('[data-testid="risk-legend"] .gr-title').inner_text()


def _clickable_region(frame) -> tuple[str, dict]:
    """A drawn region whose centre is on the map's canvas (not under a control), in page pixels."""
    return frame.evaluate(
        """() => {
            var m = window.map, out = null;
            m.eachLayer(function (l) {
                if (out || !l.feature || l.feature.properties.kind !== "region") { return; }
                var p = m.latLngToContainerPoint(l.getCenter()), r = m.getContainer().getBoundingClientRect();
                var e = document.elementFromPoint(r.left + p.x, r.top + p.y);
                if (e && e.tagName === "CANVAS") { out = [l.feature.properties.code, {x: r.left + p.x, y: r.top + p.y}]; }
            });
            return out;
        }"""
    )


def _grades(live_db, tier: int) -> pd.DataFrame:
    engine = create_engine(live_db.admin_url)
    with engine.begin() as conn:
        apply_scope(conn, Scope.whole_district(DISTRICT))
        frame = pd.read_sql(
            text(
                "SELECT g.region_code AS code, g.grade, ST_Y(ST_PointOnSurface(u.geom)) AS lat, "
                "ST_X(ST_PointOnSurface(u.geom)) AS lon, ST_Area(u.geom::geography) AS area "
                "FROM region_grade g JOIN region_unit u ON u.code = g.region_code "
                "JOIN boundary_set s ON s.id = u.boundary_set_id AND s.is_current "
                "WHERE g.rule_name = 'weighted' AND g.tier = :t AND g.district_code = :d"
            ),
            conn,
            params={"t": tier, "d": DISTRICT},
        )
    engine.dispose()
    return frame


def _blend(colour: str, opacity: float, background: str) -> np.ndarray:
    rgb = np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)], dtype=float)
    bg = np.array([int(background[i : i + 2], 16) for i in (1, 3, 5)], dtype=float)
    return rgb * opacity + bg * (1 - opacity)


def test_cell_colours_match_the_database_grades_offline(app_server, analyst_page, live_db):
    page = analyst_page.page
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    _open(page, f"{app_server}/?tier=4")
    frame = _map_frame(page)
    assert _legend_title(frame) == "网格风险等级"
    # The frame's page preloads Leaflet (dashboard/asset_cache.py): asked for with the page, before
    # the component's own script, and once (the map's script tag uses the preloaded copy).
    files = [url.split("?")[0].rsplit("/", 1)[-1] for url in requested]
    component_script = next(i for i, name in enumerate(files) if name.startswith("main.") and name.endswith(".js"))
    assert files.index("leaflet.js") < component_script and files.count("leaflet.js") == 1
    grades = _grades(live_db, 4)
    legend = frame.locator('[data-testid="risk-legend"]')
    for grade in (1, 2, 3, 4):
        shown = legend.locator(f'[data-grade="{grade}"] .gr-count').inner_text()
        assert int(shown) == int((grades["grade"] == grade).sum()), f"legend count of grade {grade}"
    # Hide the points (as a user would, with the layer control) and sample what is painted.
    for label in ("企业点位", "重大隐患未整改"):
        frame.locator(".leaflet-control-layers-overlays label", has_text=label).locator("input").uncheck()
    sample = grades.sort_values("area", ascending=False).head(40)
    spots = frame.evaluate(
        """(pts) => {
            var m = window.map, r = m.getContainer().getBoundingClientRect();
            return pts.map(function (p) {
                var c = m.latLngToContainerPoint([p[0], p[1]]);
                var e = document.elementFromPoint(r.left + c.x, r.top + c.y);
                return [r.left + c.x, r.top + c.y, e && e.tagName === "CANVAS"];
            });
        }""",
        sample[["lat", "lon"]].to_numpy().tolist(),
    )
    iframe_box = page.locator(MAP_FRAME).bounding_box()
    shot = Image.open(io.BytesIO(page.screenshot())).convert("RGB")
    palette, background = Palette(), MapDefaults().background
    expected = {g: _blend(palette.colour_for(g), 0.72, background) for g in (1, 2, 3, 4)}
    expected[0] = _blend(palette.no_data, 0.55, background)
    checked = 0
    for (x, y, on_canvas), grade in zip(spots, sample["grade"], strict=True):
        px, py = int(iframe_box["x"] + x), int(iframe_box["y"] + y)
        if not on_canvas or not (1 <= px < shot.width - 1 and 1 <= py < shot.height - 1):
            continue
        pixel = np.median(
            np.array([shot.getpixel((px + dx, py + dy)) for dx in (-1, 0, 1) for dy in (-1, 0, 1)]), axis=0
        )
        nearest = min(expected, key=lambda g: np.abs(expected[g] - pixel).sum())
        assert nearest == (0 if pd.isna(grade) else int(grade)), f"cell at {(px, py)}: painted {pixel}"
        checked += 1
    assert checked >= 20, "too few cells sampled"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "risk_map_cells.png"))
    assert analyst_page.blocked == [], f"the page tried to reach the internet: {analyst_page.blocked}"


def test_click_drills_down_and_the_breadcrumb_returns(app_server, analyst_page):
    page = analyst_page.page
    _open(page, app_server)
    frame = _map_frame(page)
    assert _legend_title(frame) == "乡镇/街道风险等级"
    code, spot = _clickable_region(frame)
    iframe_box = page.locator(MAP_FRAME).bounding_box()
    page.mouse.click(iframe_box["x"] + spot["x"], iframe_box["y"] + spot["y"])
    page.wait_for_function(f"() => location.search.includes('region={code}')", timeout=60_000)
    page.wait_for_function(
        """() => { var f = document.querySelector('iframe[title="streamlit_folium.st_folium"]');
                   var t = f && f.contentDocument && f.contentDocument.querySelector('[data-testid="risk-legend"] .gr-title');
                   return t && t.textContent === "社区/村风险等级"; }""",
        timeout=60_000,
    )
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "risk_map_township.png"))
    page.get_by_role("button", name="蚌山区 ›").click()
    page.wait_for_function("() => !location.search.includes('region=')", timeout=60_000)
    page.wait_for_function(
        """() => { var f = document.querySelector('iframe[title="streamlit_folium.st_folium"]');
                   var t = f && f.contentDocument && f.contentDocument.querySelector('[data-testid="risk-legend"] .gr-title');
                   return t && t.textContent === "乡镇/街道风险等级"; }""",
        timeout=60_000,
    )
    assert analyst_page.blocked == []


def _metric(page, label: str) -> str:
    metric = page.locator('[data-testid="stMetric"]', has_text=label)
    return metric.locator('[data-testid="stMetricValue"]').inner_text()


def test_a_deep_link_restores_the_view_and_a_filter_changes_map_and_numbers(app_server, analyst_page):
    page = analyst_page.page
    _open(page, f"{app_server}/?region=340303001&hstate=open")
    frame = _map_frame(page)
    assert _legend_title(frame) == "社区/村风险等级"
    assert page.get_by_role("button", name="天桥街道").is_disabled()  # the breadcrumb's current level
    assert page.locator('[data-testid="stRadio"]', has_text="隐患状态").locator("input[checked]").count() <= 1
    points_before = frame.locator(".leaflet-control-layers-overlays label", has_text="企业点位").inner_text()
    firms_before = _metric(page, "企业数")
    sector = page.locator('[data-testid="stMultiSelect"]', has_text="行业领域")
    sector.click()
    page.keyboard.type("商贸")
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")
    page.wait_for_function("() => decodeURIComponent(location.search).includes('sector=商贸')", timeout=60_000)
    page.wait_for_function(
        """(before) => { var f = document.querySelector('iframe[title="streamlit_folium.st_folium"]');
                         var d = f && f.contentDocument;
                         var l = d && Array.from(d.querySelectorAll('.leaflet-control-layers-overlays label'))
                                        .find(function (e) { return e.textContent.includes('企业点位'); });
                         return l && l.textContent.trim() !== before.trim(); }""",
        arg=points_before,
        timeout=60_000,
    )
    page.wait_for_function(
        """(before) => Array.from(document.querySelectorAll('[data-testid="stMetric"]'))
              .some(function (m) { return m.textContent.includes('企业数') && !m.textContent.includes(before); })""",
        arg=firms_before,
        timeout=60_000,
    )
    assert "region=340303001" in page.url and "hstate=open" in page.url
    assert analyst_page.blocked == []


def _lonely_enterprises(live_db) -> list[dict]:
    """The enterprises of one cell that have no other enterprise within ≈ 60 m (one point under
    the mouse), from the cell with the most of them; nearest neighbours through the GiST index."""
    rows = district_rows(
        live_db,
        "WITH lonely AS (SELECT e.uscc, e.name, e.cell_code, ST_X(e.geom) AS lon, ST_Y(e.geom) AS lat "
        "FROM enterprise e CROSS JOIN LATERAL (SELECT o.geom <-> e.geom AS d FROM enterprise o "
        "WHERE o.id <> e.id ORDER BY o.geom <-> e.geom LIMIT 1) nearest "
        "WHERE e.cell_code IS NOT NULL AND e.name NOT LIKE '%<%' AND nearest.d > 0.0006) "
        "SELECT * FROM lonely WHERE cell_code = (SELECT cell_code FROM lonely GROUP BY cell_code "
        "ORDER BY count(*) DESC, cell_code LIMIT 1) ORDER BY uscc",
    )
    return [dict(row) for row in rows]


def test_the_map_comes_first_then_the_filters_and_an_enterprise_point_answers_hover_and_click(
    app_server, analyst_page, live_db
):
    firms = _lonely_enterprises(live_db)
    page = analyst_page.page
    _open(page, f"{app_server}/?region={firms[0]['cell_code']}")
    frame = _map_frame(page)
    # The session's first run sends the map alone; the filters follow once it is drawn.
    page.locator('[data-testid="stMultiSelect"]', has_text="行业领域").wait_for(state="visible", timeout=60_000)
    # The first of them whose point is on the open canvas (not under the legend or a control).
    spot = frame.evaluate(
        """(firms) => { var m = window.map, r = m.getContainer().getBoundingClientRect();
                        for (var i = 0; i < firms.length; i++) {
                            var c = m.latLngToContainerPoint([firms[i][0], firms[i][1]]);
                            var e = document.elementFromPoint(r.left + c.x, r.top + c.y);
                            if (e && e.tagName === "CANVAS") { return {i: i, x: r.left + c.x, y: r.top + c.y, zoom: m.getZoom()}; }
                        }
                        return null; }""",
        [[f["lat"], f["lon"]] for f in firms],
    )
    assert spot, "no point of the cell is clear of the map's controls"
    firm = firms[spot["i"]]
    assert spot["zoom"] >= 15, "a single cell is drawn at street level, where points are clickable"
    box = page.locator(MAP_FRAME).bounding_box()
    x, y = box["x"] + spot["x"], box["y"] + spot["y"]
    page.mouse.move(x - 30, y - 30)
    tip = frame.locator(".gr-tip", has_text=firm["name"])
    # Leaflet's canvas handles at most one mouse move per 32 ms and drops the rest: nudge the
    # mouse on the point until the tooltip shows.
    for step in range(200):
        page.mouse.move(x + step % 2, y)
        if tip.is_visible():
            break
    assert tip.is_visible(), "hovering the point shows its name"
    page.mouse.click(x, y)
    page.wait_for_function(f"() => location.search.includes('ent={firm['uscc']}')", timeout=60_000)
    page.get_by_role("link", name="打开一企一档").wait_for(state="visible", timeout=60_000)
    assert page.get_by_role("heading", name=firm["name"]).is_visible()
    assert analyst_page.blocked == []


@pytest.fixture()
def local_site(tmp_path):
    """A local web server for a map page outside Streamlit (its assets under /app/static) and a
    stub tile server that refuses every tile, like 天地图 with a wrong key."""
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "static").symlink_to(ROOT / "dashboard" / "static")

    class Handler(http.server.SimpleHTTPRequestHandler):
        def do_GET(self):
            if self.path.startswith("/tiles/"):
                self.send_error(403, "invalid key")
                return
            super().do_GET()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(tmp_path)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield tmp_path, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def _hostile_layers():
    units = gpd.GeoDataFrame(
        {
            "code": ["1", "2"],
            "name": [XSS, "燕山乡"],
            "tier": 2,
            "grade": pd.array([1, 4], dtype="Int64"),
            "enterprises": [1, 1],
            "hazards_open": [1, 0],
            "hazards_overdue": [0, 0],
            "hazards_major_open": [1, 0],
            "escalated_by": [XSS, None],
        },
        geometry=[box(117.30, 32.80, 117.35, 32.90), box(117.35, 32.80, 117.40, 32.90)],
        crs=4490,
    )
    points = pd.DataFrame(
        {
            "id": [7],
            "name": [XSS],
            "lon": [117.325],
            "lat": [32.85],
            "grade": pd.array([1], dtype="Int64"),
            "supervision_class": ["A"],
            "special_flags": [[]],
            "major_open": [1],
            "major_overdue": [0],
        }
    )
    return RiskMapLayers(units, units.iloc[0:0], units.iloc[0:0][["code", "name", "geometry"]], points, "t", XSS)


def test_names_with_html_never_execute(local_site, offline_page):
    root, base = local_site
    m = build_risk_map(_hostile_layers(), palette=Palette(), basemap=Basemap(), defaults=MapDefaults())
    (root / "map.html").write_text(m.get_root().render(), encoding="utf-8")
    page = offline_page.page
    page.goto(f"{base}/map.html")
    page.locator('[data-testid="risk-legend"]').wait_for(state="visible")
    canvas = page.locator(".folium-map").bounding_box()
    # Into the first unit (the left half of the fitted view), then along it: its tooltip opens.
    page.mouse.move(canvas["x"] + canvas["width"] * 0.30, canvas["y"] + canvas["height"] * 0.3)
    page.mouse.move(canvas["x"] + canvas["width"] * 0.31, canvas["y"] + canvas["height"] * 0.3, steps=3)
    page.locator(".gr-tip").first.wait_for(state="visible")
    assert "<img src=x" in page.locator(".gr-tip").first.inner_text()  # shown as text
    page.mouse.move(canvas["x"] + canvas["width"] * 0.37, canvas["y"] + canvas["height"] * 0.5, steps=3)  # the point
    assert page.evaluate("() => window.__pwned") is None
    assert page.locator("img[src='x']").count() == 0
    assert offline_page.blocked == []


def test_failing_basemap_tiles_give_a_clear_message(local_site, offline_page):
    root, base = local_site
    basemap = Basemap(kind="custom", custom_url=f"{base}/tiles/{{z}}/{{x}}/{{y}}.png", custom_attribution="测试底图")
    m = build_risk_map(_hostile_layers(), palette=Palette(), basemap=basemap, defaults=MapDefaults())
    (root / "tiles.html").write_text(m.get_root().render(), encoding="utf-8")
    page = offline_page.page
    page.goto(f"{base}/tiles.html")
    notice = page.locator('[data-testid="tile-error"]')
    notice.wait_for(state="visible")
    assert "底图瓦片加载失败" in notice.inner_text()
    assert "测试底图" in page.locator(".leaflet-control-attribution").inner_text()
    assert page.locator('[data-testid="risk-legend"]').is_visible()  # the risk layers still draw
