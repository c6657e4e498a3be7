"""The risk map page in real Chromium (Playwright, Debian's /usr/bin/chromium), from navigation to
the map drawn, against three references measured in the same run on the same data:

- the product: the demo district's map with every tier-4 cell and every enterprise point,
  ``/?tier=4`` of the real app (``python -m dashboard.serve`` on a free port, the managed
  database), as a first visit (a new session). Drawn = the legend visible in the st_folium
  iframe and the map's canvas present, then two animation frames (the canvas paints on the
  next frame);
- (a) the framework's floor: a bare Streamlit page with one title (bench/map_pages/bare_title.py),
  served by a second Streamlit process with the launcher's flags (dashboard.serve.config_flags);
  drawn = the title visible, then two animation frames;
- (b) the browser's floor: a static HTML page (local http.server) loading the same vendored Leaflet,
  drawing the same cells (the product's display geometry, as plain GeoJSON in one ``L.geoJSON``)
  and the same points (one ``L.circleMarker`` each) on one ``L.canvas()``, in a box of the
  product map's size; drawn = its canvas present, then two animation frames;
- (c) the naive folium way (bench/map_pages/naive_folium.py, a third Streamlit process): a plain
  ``folium.GeoJson`` of the unsimplified cells plus one ``folium.CircleMarker`` per enterprise in
  st_folium; drawn = every cell and point has its SVG path, then two animation frames.

Every page is watched from inside, on every animation frame (``wait_for_function`` with
``polling="raf"``, the same-origin map iframe read from the page): Playwright's locator waits
retry with back-off, up to half a second apart, which would add noise of that size to any page.
Every measurement opens a fresh browser context (empty cache, like a first visit) at 1600×1000,
with every non-local request blocked; each server is warmed once first (the product's first
request reads 200k hazards; that cold load is reported on its own; the naive page's first run
fills its data cache). Medians of REPEAT runs (NAIVE_REPEAT for (c); a run past NAIVE_TIMEOUT_S
counts as NAIVE_TIMEOUT_S and the table says so). Rounds are interleaved (product, (a), (b)) so
drift hits all alike. Before timing, the bench checks that the product draws the same number of
points as its own in-process view, and that the Leaflet floor holds every cell and point.

Filter redraw: ``/?region=340303001`` drawn and idle, then the sidebar's 行业领域 multiselect
gets 商贸 (click, type, Enter, Escape); timed from Enter until the map iframe's layer control
shows a different 企业点位（N）, then two animation frames.

map_bytes: the size of the websocket message that carries the st_folium component's arguments
(the map's own document: script, header, HTML) for the ``/?tier=4`` view, as Chromium received
it; the in-process render of ``build_risk_map`` for the same layers is reported beside it as a
cross-check. Streamlit's and the component's static files and the vendored Leaflet are cached
static files and not counted; the websocket bytes of the whole view (tables, charts) are shown
for information.

Targets (risk map issue): floor_ratio = time to map ÷ ((a) + (b)) ≤ 1.0; filter redraw ≤ 1.5 s;
map_bytes ≤ 1.5 MB (1,500,000 bytes). map_ratio = (c) ÷ time to map is reported, not a target.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import signal
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

import pandas as pd
from _browser import LOAD_TIMEOUT_S, LOCAL_HOSTS, MAP_FRAME, SETTLE_JS, log, session_cookie, streamlit_server, wait_idle
from _common import ROOT, report

from config import get_settings
from dashboard.components.map_builder import RiskMapLayers, build_risk_map, geojson_for_display, simplify_for_display
from dashboard.components.state import ViewState
from dashboard.components.view_model import build_view, map_layers
from dashboard.serve import config_flags
from db import analysis, queries
from db.engine import create_app_engine
from db.scope import Scope, scoped_connection
from tests.support.chromium import CHROMIUM, CHROMIUM_ARGS

PAGES = Path(__file__).resolve().parent / "map_pages"
VIEWPORT = {"width": 1600, "height": 1000}
PRODUCT_PATH = "/?tier=4"
FILTER_PATH = "/?region=340303001"
FILTER_SECTOR = "商贸"
LEAFLET_DIR = "/app/static/vendor/leaflet-1.9.4"
REPEAT = 5
NAIVE_REPEAT = 3
NAIVE_TIMEOUT_S = 180


# ----------------------------------------------------------------------------- servers


@contextmanager
def static_site(root: Path) -> Iterator[str]:
    """``root`` over HTTP on a free port; the vendored assets under /app/static as in the app."""
    (root / "app").mkdir(exist_ok=True)
    (root / "app" / "static").symlink_to(ROOT / "dashboard" / "static")

    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


# ----------------------------------------------------------------------------- browser


class Offline:
    """Fresh browser contexts whose every request to a non-local host is blocked and recorded."""

    def __init__(self, browser) -> None:
        self.browser = browser
        self.blocked: list[str] = []
        self.cookies: list[dict[str, str]] = []  # the product's session cookie, in every context

    def _route(self, route) -> None:
        url = route.request.url
        if url.startswith(("data:", "blob:", "about:")) or (urlparse(url).hostname or "") in LOCAL_HOSTS:
            route.continue_()
        else:
            self.blocked.append(url)
            route.abort("blockedbyclient")

    @contextmanager
    def page(self) -> Iterator[object]:
        context = self.browser.new_context(viewport=VIEWPORT, locale="zh-CN", timezone_id="Asia/Shanghai")
        try:
            if self.cookies:
                context.add_cookies(self.cookies)
            context.route("**/*", self._route)
            yield context.new_page()
        finally:
            context.close()


def map_frame(page):
    return page.locator(MAP_FRAME).last.element_handle().content_frame()


# Each page is watched from inside on every animation frame (Playwright's own locator waits
# retry with back-off, up to 0.5 s between tries, and a frame locator more so); the same-origin
# map iframe is read from the page, and paints with it.
PRODUCT_DRAWN_JS = """([sel]) => {
    for (var f of document.querySelectorAll(sel)) {
        var d = f.contentDocument, legend = d && d.querySelector('[data-testid="risk-legend"]');
        if (legend && legend.getClientRects().length && d.querySelector(".leaflet-overlay-pane canvas")) { return true; }
    }
    return false; }"""
TITLE_DRAWN_JS = """() => Array.from(document.querySelectorAll("h1"))
    .some(function (h) { return h.textContent.includes("风险地图基准") && h.getClientRects().length; })"""
FLOOR_DRAWN_JS = """() => !!document.querySelector(".leaflet-overlay-pane canvas")"""


def _drawn_when(page, js: str, arg: object, timeout_s: float) -> None:
    page.wait_for_function(js, arg=arg, timeout=timeout_s * 1000, polling="raf")
    page.evaluate(SETTLE_JS)


def product_drawn(page, timeout_s: float = LOAD_TIMEOUT_S) -> None:
    _drawn_when(page, PRODUCT_DRAWN_JS, [MAP_FRAME], timeout_s)


def title_drawn(page, timeout_s: float = LOAD_TIMEOUT_S) -> None:
    _drawn_when(page, TITLE_DRAWN_JS, None, timeout_s)


def floor_drawn(page, timeout_s: float = LOAD_TIMEOUT_S) -> None:
    _drawn_when(page, FLOOR_DRAWN_JS, None, timeout_s)


def naive_drawn(expected_paths: int) -> Callable[[object, float], None]:
    def drawn(page, timeout_s: float) -> None:
        page.wait_for_function(
            """([sel, n]) => { var f = document.querySelector(sel), d = f && f.contentDocument;
                               return !!d && d.querySelectorAll('.leaflet-overlay-pane path').length >= n; }""",
            arg=[MAP_FRAME, expected_paths],
            timeout=timeout_s * 1000,
            polling=100,
        )
        map_frame(page).evaluate(SETTLE_JS)

    return drawn


def time_to_drawn(offline: Offline, url: str, drawn: Callable[..., None], timeout_s: float = LOAD_TIMEOUT_S) -> float:
    """Seconds from ``page.goto`` to ``drawn`` in a fresh context; ``inf`` past ``timeout_s``."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    with offline.page() as page:
        start = time.perf_counter()
        try:
            page.goto(url, wait_until="commit", timeout=timeout_s * 1000)
            drawn(page, timeout_s)
        except PlaywrightTimeout:
            return float("inf")
        return time.perf_counter() - start


def warm_naive(offline: Offline, url: str) -> float:
    """The naive page's first run (cold data cache), until its server-side run ended; not drawn."""
    with offline.page() as page:
        start = time.perf_counter()
        page.goto(url, wait_until="commit")
        title_drawn(page)
        wait_idle(page, NAIVE_TIMEOUT_S)
        return time.perf_counter() - start


def points_label(page) -> str:
    return map_frame(page).locator(".leaflet-control-layers-overlays label", has_text="企业点位").inner_text().strip()


def filter_redraw(offline: Offline, base: str) -> tuple[float, str, str]:
    """Seconds from choosing a sector to the map redrawn with other points; the labels before/after."""
    with offline.page() as page:
        page.goto(base + FILTER_PATH, wait_until="commit")
        product_drawn(page)
        wait_idle(page)
        before = points_label(page)
        sector = page.locator('[data-testid="stMultiSelect"]', has_text="行业领域")
        sector.click()
        page.keyboard.type(FILTER_SECTOR)
        start = time.perf_counter()
        page.keyboard.press("Enter")
        page.keyboard.press("Escape")
        # Streamlit mounts a new map iframe beside the old one (stale until the rerun ends): look in every one.
        after = page.wait_for_function(
            """([sel, before]) => {
                for (var f of document.querySelectorAll(sel)) {
                    var d = f.contentDocument;
                    var l = d && Array.from(d.querySelectorAll('.leaflet-control-layers-overlays label'))
                                   .find(function (e) { return e.textContent.includes('企业点位'); });
                    if (l && l.textContent.trim() !== before) { return l.textContent.trim(); }
                }
                return false; }""",
            arg=[MAP_FRAME, before],
            timeout=LOAD_TIMEOUT_S * 1000,
            polling="raf",
        ).json_value()
        page.evaluate(SETTLE_JS)  # same-origin iframes paint with the page
        return time.perf_counter() - start, before, after


def product_websocket_bytes(offline: Offline, url: str) -> tuple[float, int, int]:
    """The cold first load of the product (timed), with the websocket bytes it received: the
    largest message carrying the map component's arguments, and all messages of the view."""
    frames: list[bytes] = []

    def on_socket(ws) -> None:
        ws.on(
            "framereceived", lambda payload: frames.append(payload if isinstance(payload, bytes) else payload.encode())
        )

    with offline.page() as page:
        page.on("websocket", on_socket)
        start = time.perf_counter()
        page.goto(url, wait_until="commit")
        product_drawn(page)
        elapsed = time.perf_counter() - start
        wait_idle(page)
    carrying = [len(f) for f in frames if b"risk-legend" in f]
    return elapsed, max(carrying, default=0), sum(len(f) for f in frames)


# ----------------------------------------------------------------------------- the view, in-process


def product_layers() -> RiskMapLayers:
    """The layers the page draws at ``/?tier=4`` (the page's reads, view model and layers)."""
    settings = get_settings()
    today = settings.today()
    scope = Scope.whole_district(settings.district_code)
    state = ViewState.from_params({"tier": "4"}, today=today)
    engine = create_app_engine()
    try:
        with scoped_connection(engine, scope) as conn:
            units, context = queries.scope_units(conn, scope), queries.context_areas(conn, scope)
            enterprises = analysis.scope_enterprises(conn, scope)
            hazards = analysis.scope_hazards(conn, scope)
            grades, provenance = analysis.region_grades(
                conn, scope, settings.district_code, state.rule, state.effective_as_of(today), today=today
            )
    finally:
        engine.dispose()
    view = build_view(
        state,
        units=units,
        grades=grades,
        enterprises=enterprises,
        hazards=hazards,
        district=settings.district_code,
        today=today,
    )
    return map_layers(view, context, rule_label=provenance.rule_label, as_of=provenance.as_of)


FLOOR_HTML = """<!doctype html>
<html><head><meta charset="utf-8"><title>Leaflet floor</title>
<link rel="stylesheet" href="{leaflet}/leaflet.css">
<script src="{leaflet}/leaflet.js"></script>
<style>html, body {{ margin: 0; }} #map {{ width: {width}px; height: {height}px; background: #E8EDF2; }}</style>
</head><body><div id="map"></div>
<script>
var cells = {cells};
var points = {points};
var colours = {colours};
var map = L.map("map", {{zoomSnap: 0.25}});
map.fitBounds({bounds}, {{padding: [8, 8]}});
var renderer = L.canvas({{padding: 0.3}});
L.geoJSON(cells, {{renderer: renderer, style: function (f) {{
    return {{fillColor: colours[f.properties.g], fillOpacity: 0.72, color: "#475569", weight: 0.5}};
}}}}).addTo(map);
for (var i = 0; i < points.length; i++) {{
    var p = points[i];
    L.circleMarker([p[0], p[1]], {{renderer: renderer, radius: 3, fillColor: colours[p[2]], fillOpacity: 0.9,
                                  color: "#FFFFFF", weight: 0.8}}).addTo(map);
}}
</script></body></html>
"""


def floor_page(layers: RiskMapLayers, size: dict[str, float]) -> str:
    """Plain Leaflet drawing the product's cells (its display geometry) and points."""
    palette = get_settings().palette
    colours = [palette.no_data, *(palette.colour_for(g) for g in (1, 2, 3, 4))]
    cells = simplify_for_display(layers.units.reset_index(drop=True))
    cells["g"] = cells["grade"].fillna(0).astype(int)
    points = [
        [round(float(lat), 5), round(float(lon), 5), 0 if pd.isna(grade) else int(grade)]
        for lat, lon, grade in zip(layers.points["lat"], layers.points["lon"], layers.points["grade"], strict=True)
    ]
    minx, miny, maxx, maxy = layers.units.total_bounds
    return FLOOR_HTML.format(
        leaflet=LEAFLET_DIR,
        width=round(size["width"]),
        height=round(size["height"]),
        cells=json.dumps(geojson_for_display(cells, ["g"]), separators=(",", ":")),
        points=json.dumps(points, separators=(",", ":")),
        colours=json.dumps(colours),
        bounds=json.dumps([[miny, minx], [maxy, maxx]]),
    )


# ----------------------------------------------------------------------------- the run


def median(values: list[float]) -> float:
    return statistics.median(values)


def fmt(values: list[float]) -> str:
    return ", ".join("timeout" if v == float("inf") else f"{v:.2f}" for v in values)


def main() -> None:
    from playwright.sync_api import sync_playwright

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the finally blocks: stop the servers
    settings = get_settings()
    layers = product_layers()
    rendered = build_risk_map(layers, palette=settings.palette, basemap=settings.basemap, defaults=settings.map)
    rendered_bytes = len(rendered.get_root().render().encode())
    n_cells, n_points = len(layers.units), len(layers.points)

    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    flags = config_flags()
    streamlit = [sys.executable, "-m", "streamlit", "run"]
    with tempfile.TemporaryDirectory(prefix="bench_map_") as tmp:
        tmp_dir = Path(tmp)
        site_dir = tmp_dir / "site"
        site_dir.mkdir()
        with (
            static_site(site_dir) as site,
            streamlit_server([sys.executable, "-m", "dashboard.serve"], env, tmp_dir / "product.log") as product,
            streamlit_server([*streamlit, str(PAGES / "bare_title.py"), *flags], env, tmp_dir / "bare.log") as bare,
            streamlit_server(
                [*streamlit, str(PAGES / "naive_folium.py"), *flags],
                {**env, "BENCH_LEAFLET_BASE": site + LEAFLET_DIR},
                tmp_dir / "naive.log",
            ) as naive,
            sync_playwright() as playwright,
        ):
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            offline = Offline(browser)
            offline.cookies = [session_cookie(product, "analyst")]
            # Warm-ups: the product's first load is cold (reads every hazard); measure it and its bytes.
            cold_s, ws_map_bytes, ws_view_bytes = product_websocket_bytes(offline, product + PRODUCT_PATH)
            log(f"cold first load of the product: {cold_s:.2f} s")
            with offline.page() as page:
                page.goto(product + PRODUCT_PATH, wait_until="commit")
                product_drawn(page)
                size = page.locator(MAP_FRAME).bounding_box()
                label = points_label(page)
            if label != f"企业点位（{n_points}）":
                raise RuntimeError(f"the product draws {label!r}, the bench's view has {n_points} points")
            (site_dir / "floor.html").write_text(floor_page(layers, size), encoding="utf-8")
            time_to_drawn(offline, bare + "/", title_drawn)
            with offline.page() as page:
                page.goto(site + "/floor.html")
                floor_drawn(page)
                drawn_layers = page.evaluate("() => Object.keys(map._layers).length")
            if drawn_layers != n_cells + n_points + 2:  # + the L.geoJSON group and the canvas renderer
                raise RuntimeError(f"the Leaflet floor has {drawn_layers} layers, not {n_cells} + {n_points} + 2")
            naive_warm_s = warm_naive(offline, naive + "/")
            log(f"naive page's first run (server side, cold cache): {naive_warm_s:.2f} s")

            product_times, bare_times, floor_times = [], [], []
            log(f"{REPEAT} rounds of product, (a), (b); then {REPEAT} filter redraws; then {NAIVE_REPEAT} × (c)")
            for _ in range(REPEAT):
                product_times.append(time_to_drawn(offline, product + PRODUCT_PATH, product_drawn))
                bare_times.append(time_to_drawn(offline, bare + "/", title_drawn))
                floor_times.append(time_to_drawn(offline, site + "/floor.html", floor_drawn))
            redraws = [filter_redraw(offline, product) for _ in range(REPEAT)]
            naive_times = [
                time_to_drawn(offline, naive + "/", naive_drawn(n_cells + n_points), NAIVE_TIMEOUT_S)
                for _ in range(NAIVE_REPEAT)
            ]
            browser.close()

    time_to_map = median(product_times)
    streamlit_floor, leaflet_floor = median(bare_times), median(floor_times)
    if float("inf") in (*product_times, *bare_times, *floor_times):
        raise RuntimeError(f"a page was not drawn within {LOAD_TIMEOUT_S} s")
    naive_timed_out = any(t == float("inf") for t in naive_times)
    naive_s = median([NAIVE_TIMEOUT_S if t == float("inf") else t for t in naive_times])
    filter_s = median([r[0] for r in redraws])
    floor_ratio = time_to_map / (streamlit_floor + leaflet_floor)
    map_bytes = ws_map_bytes or rendered_bytes  # 0: the message was not recognised (see the table's note)
    blocked = sorted(set(offline.blocked))
    print(f"runs (s): product {fmt(product_times)} | (a) {fmt(bare_times)} | (b) {fmt(floor_times)}")
    print(f"          filter redraw {fmt([r[0] for r in redraws])} ({redraws[0][1]} → {redraws[0][2]})")
    print(f"          (c) naive {fmt(naive_times)}")
    print(f"view: {n_cells} cells, {n_points} points; floor map box {size['width']:.0f}×{size['height']:.0f} px")
    if blocked:
        print(f"blocked non-local requests: {blocked}")
    report(
        "map",
        [
            (f"time to map: /?tier=4, {n_cells} cells + {n_points} points", time_to_map, "median, warm server"),
            ("  cold first load (first request after start)", cold_s, "once"),
            ("(a) bare Streamlit page, one title", streamlit_floor, "framework floor"),
            ("(b) static Leaflet page, same cells and points", leaflet_floor, "browser floor"),
            (
                "(c) naive folium: GeoJson + one CircleMarker each",
                naive_s,
                f"{len(naive_times)} runs" + (f"; hit the {NAIVE_TIMEOUT_S} s timeout" if naive_timed_out else ""),
            ),
            ("floor_ratio = time to map / ((a) + (b))", floor_ratio, "target ≤ 1.0"),
            ("map_ratio = (c) / time to map", naive_s / time_to_map, "reported"),
            ("filter change → map redrawn (/?region=340303001, 商贸)", filter_s, "target ≤ 1.5"),
            (
                "map_bytes: websocket message with the map component",
                map_bytes,
                "target ≤ 1,500,000" if ws_map_bytes else "NOT FOUND: in-process render instead",
            ),
            ("  in-process render of build_risk_map (cross-check)", rendered_bytes, "bytes"),
            ("  all websocket bytes of the view (information)", ws_view_bytes, "bytes"),
            ("non-local requests blocked", len(blocked), "should be 0"),
        ],
        {
            "time_to_map_s": time_to_map,
            "cold_time_to_map_s": cold_s,
            "streamlit_floor_s": streamlit_floor,
            "leaflet_floor_s": leaflet_floor,
            "naive_time_to_map_s": naive_s,
            "floor_ratio": floor_ratio,
            "map_ratio": naive_s / time_to_map,
            "filter_redraw_s": filter_s,
            "map_bytes": map_bytes,
        },
    )


if __name__ == "__main__":
    main()
