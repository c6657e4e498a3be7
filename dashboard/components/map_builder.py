"""Pure map builders: frames and settings in, ``folium.Map`` out (no Streamlit, no database).

Tested by rendering to HTML. Every string that comes from data is HTML-escaped here: folium
puts tooltip and popup text into the page as HTML without escaping it.
"""

from __future__ import annotations

import base64
import html
import json
import zlib
from dataclasses import dataclass

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import Element, MacroElement
from jinja2 import Template

from config.settings import Basemap, MapDefaults, Palette
from dashboard.components.offline import localise_assets
from geo.palette import GRADE_NAMES_ZH, GRADES

__all__ = [
    "MapTheme",
    "LIGHT_THEME",
    "RiskMapLayers",
    "build_risk_map",
    "encode_polygons",
    "encode_points",
    "escape_text_columns",
    "geojson_for_display",
    "simplify_for_display",
    "LEGEND_CLASS",
    "CLASS_STYLES",
    "FLAG_COLOURS",
]

LEGEND_CLASS = "gr-legend"
DISPLAY_DECIMALS = 5  # 1e-5 degrees ≈ 1.1 m at 33°N: enough for a county view, keeps pages small


def escape_text_columns(frame: gpd.GeoDataFrame, columns: list[str]) -> gpd.GeoDataFrame:
    """Copy of ``frame`` with the given text columns HTML-escaped for tooltips and labels."""
    out = frame.copy()
    for column in columns:
        out[column] = out[column].astype("string").fillna("").map(html.escape)
    return out


def geojson_for_display(frame: gpd.GeoDataFrame, properties: list[str], *, to_gcj02: bool = False) -> dict:
    """GeoJSON of ``frame`` with rounded coordinates; shifted to GCJ-02 for AMap tiles."""
    geoms = frame.geometry.values
    if to_gcj02:
        from geo.chinese_crs import wgs84_to_gcj02

        def _shift(coords: np.ndarray) -> np.ndarray:
            lon, lat = wgs84_to_gcj02(coords[:, 0], coords[:, 1])
            return np.column_stack([lon, lat])

        geoms = shapely.transform(geoms, _shift)
    geoms = shapely.transform(geoms, lambda coords: np.round(coords, DISPLAY_DECIMALS))
    features = [
        {"type": "Feature", "properties": props, "geometry": shapely.geometry.mapping(geom)}
        for props, geom in zip(frame[properties].to_dict("records"), geoms, strict=True)
    ]
    return {"type": "FeatureCollection", "features": features}


_MAP_CSS = """
<style>
.leaflet-container {{ background: {background}; font-family: "Noto Sans CJK SC", "Microsoft YaHei", sans-serif; }}
.{legend} {{ background: rgba(255,255,255,0.94); padding: 8px 10px; border-radius: 6px;
  box-shadow: 0 1px 4px rgba(0,0,0,0.3); font-size: 13px; line-height: 20px; color: #111827; }}
.{legend} .gr-title {{ font-weight: 600; margin-bottom: 4px; }}
.{legend} summary.gr-title {{ cursor: pointer; min-height: 28px; line-height: 28px; margin: 0; }}
.{legend} .gr-swatch {{ display: inline-block; width: 18px; height: 12px; margin-right: 6px;
  vertical-align: middle; border: 1px solid rgba(0,0,0,0.35); }}
.{legend} .gr-nodata {{ border: 1px dashed #4B5563; }}
.gr-label, .gr-label-dim {{ font-size: 14px; font-weight: 600; color: #111827; white-space: nowrap;
  text-shadow: 0 0 3px #fff, 0 0 3px #fff; transform: translate(-50%, -50%); }}
.gr-label-dim {{ font-size: 13px; font-weight: 400; color: #64748B; }}
.gr-label-t1 {{ display: none; }}
.gr-label-t3 {{ font-size: 12px; font-weight: 400; color: #334155; }}
.gr-label-t4 {{ font-size: 11px; font-weight: 400; color: #475569; }}
</style>
"""


def _add_basemap(m: folium.Map, basemap: Basemap) -> None:
    if basemap.kind == "none":
        return
    if basemap.kind == "tianditu":
        key = basemap.tianditu_key.get_secret_value() if basemap.tianditu_key else ""
        layer, note = ("vec", "cva") if basemap.tianditu_layer == "vec" else ("img", "cia")
        for name in (layer, note):
            folium.TileLayer(
                tiles=f"https://t{{s}}.tianditu.gov.cn/{name}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
                f"&LAYER={name}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={{z}}&TILEROW={{y}}&TILECOL={{x}}&tk={key}",
                attr="天地图 © 国家地理信息公共服务平台",
                subdomains="01234567",
                name=f"天地图 {name}",
                overlay=name == note,
                max_zoom=18,
            ).add_to(m)
    elif basemap.kind == "amap":
        folium.TileLayer(
            tiles="https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}",
            attr="© 高德地图 AutoNavi",
            subdomains="1234",
            name="高德地图",
            max_zoom=18,
        ).add_to(m)
    else:
        folium.TileLayer(tiles=basemap.custom_url, attr=basemap.custom_attribution or "自定义底图", name="底图").add_to(
            m
        )


# Display simplification per tier, degrees (1e-5 ≈ 1 m): shared edges stay shared within a tier.
SIMPLIFY_DEG = {1: 2e-5, 2: 2e-5, 3: 1.5e-5, 4: 1e-5}


def simplify_for_display(units: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Per-tier coverage simplification (keeps neighbours' shared edges identical)."""
    out = units.copy()
    for tier, tolerance in SIMPLIFY_DEG.items():
        mask = (out["tier"] == tier).to_numpy()
        if mask.any():
            simplified = shapely.coverage_simplify(out.geometry.values[mask], tolerance)
            out.loc[mask, out.geometry.name] = simplified
    return out


def geojson_bounds(frame: gpd.GeoDataFrame, *, to_gcj02: bool) -> list[list[float]]:
    minx, miny, maxx, maxy = frame.total_bounds
    if to_gcj02:
        from geo.chinese_crs import wgs84_to_gcj02

        (minx, maxx), (miny, maxy) = wgs84_to_gcj02(np.array([minx, maxx]), np.array([miny, maxy]))
    return [[float(miny), float(minx)], [float(maxy), float(maxx)]]


class _Labels(MacroElement):
    """Unit names as non-interactive text markers, all in one element (one script, not one
    folium object per label; no default marker icon, whose images would be requested)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function (map) {
            var group = L.layerGroup(), d = {{ this.payload }}, names = grTexts(d.names);
            d.at.forEach(function (at, i) {
                L.marker(at, {
                    interactive: false, keyboard: false,
                    icon: L.divIcon({className: "", iconSize: null, html: '<div class="' + {{ this.css_class|tojson }} + '">' + names[i] + "</div>"})
                }).addTo(group);
            });
            // Names of fine tiers only from a zoom where they do not pile up.
            function toggle() {
                if (map.getZoom() >= {{ this.min_zoom }}) { group.addTo(map); declutter(); } else { group.remove(); }
            }
            // Optionally hide a name that would overlap one placed before it (larger units first).
            function declutter() {
                if (!{{ this.declutter|tojson }}) { return; }
                var placed = [];
                group.eachLayer(function (marker) {
                    var el = marker.getElement() && marker.getElement().firstChild;
                    if (!el) { return; }
                    el.style.visibility = "";
                    var r = el.getBoundingClientRect();
                    var hit = placed.some(function (p) {
                        return r.left < p.right && r.right > p.left && r.top < p.bottom && r.bottom > p.top;
                    });
                    if (hit) { el.style.visibility = "hidden"; } else { placed.push(r); }
                });
            }
            map.on("zoomend", toggle);
            toggle();
        })({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(
        self, labels: list[tuple[float, float, str]], css_class: str, min_zoom: int = 0, *, declutter: bool = False
    ):
        super().__init__()
        self._name = "Labels"
        self.payload = script_json(
            {"at": [[lat, lon] for lat, lon, _ in labels], "names": pack_texts([name for _, _, name in labels])}
        )
        self.css_class = css_class
        self.min_zoom = int(min_zoom)
        self.declutter = declutter


def _add_labels(
    m: folium.Map,
    frame: gpd.GeoDataFrame,
    *,
    to_gcj02: bool,
    css_class: str = "gr-label",
    min_zoom: int = 0,
    declutter: bool = False,
) -> None:
    """Unit names (already HTML-escaped) at a point inside each polygon; with ``declutter`` a
    name that would overlap a larger unit's is hidden."""
    if declutter:  # larger units are placed first and keep their names
        frame = frame.iloc[np.argsort(-shapely.area(frame.geometry.values), kind="stable")]
    points = shapely.point_on_surface(frame.geometry.values)
    lon, lat = shapely.get_x(points), shapely.get_y(points)
    if to_gcj02:
        from geo.chinese_crs import wgs84_to_gcj02

        lon, lat = wgs84_to_gcj02(lon, lat)
    labels = [
        (round(float(y), DISPLAY_DECIMALS), round(float(x), DISPLAY_DECIMALS), name)
        for name, x, y in zip(frame["name"], lon, lat, strict=True)
    ]
    _Labels(labels, css_class, min_zoom, declutter=declutter).add_to(m)


# ----------------------------------------------------------------------------- the risk map

SCALE = 10**DISPLAY_DECIMALS  # coordinates travel as integers of 1e-5 degrees
# Supervision class (监管分类) shown by a point's outline, never by its fill (DOMAIN.md §2):
# A/红/黄 classes get a heavy dark ring, B/蓝 a medium one, C/绿 and unknown a thin white one.
CLASS_STYLES = {
    "A": {"color": "#111827", "weight": 2.4, "label": "A类（重点）粗黑边"},
    "B": {"color": "#475569", "weight": 1.4, "label": "B类 灰边"},
    "C": {"color": "#FFFFFF", "weight": 0.8, "label": "C类 白边"},
}
_CLASS_ALIASES = {"A": "A", "红": "A", "黄": "A", "B": "B", "蓝": "B", "C": "C", "绿": "C"}
# Toggleable rings around enterprises with a special flag, and around those with open 重大隐患.
FLAG_COLOURS = {"重大危险源": "#7C3AED", "粉尘涉爆": "#92400E", "涉氨制冷": "#0E7490", "有限空间": "#BE185D"}
MAJOR_OPEN_COLOUR = "#7F1D1D"
# Common affixes of enterprise names, sent once instead of 20,000 times (names are escaped first).
NAME_PREFIXES = ("", "蚌埠市", "蚌埠", "安徽省", "安徽", "蚌山区")
NAME_SUFFIXES = ("", "有限责任公司", "有限公司", "经营部", "分公司", "商行", "超市", "店")
# Stroke of the drawn tier's fills and of the boundaries drawn above them.
FILL_STROKE = {2: ("#1F2937", 1.6), 3: ("#334155", 1.1), 4: ("#475569", 0.5)}
LABEL_ZOOM = {2: 0, 3: 13, 4: 15}


def script_json(value: object) -> str:
    """JSON for inline <script>: compact, UTF-8 (a third of ``\\uXXXX`` escapes' bytes), and with
    ``<``, ``>``, ``&`` and ``'`` escaped as jinja's ``tojson`` does, so no data can close the
    script element."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026").replace("'", "\\u0027")


TEXT_SEPARATOR = "\x1f"  # ASCII unit separator between packed texts (removed from the texts)


class _TextCodec(MacroElement):
    """Defines ``grTexts(packed)`` → array of strings in the map's own script, before the layers
    that use it (streamlit-folium moves the page header into the iframe without running its
    inline scripts, so the function cannot live there)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        window.grBytes = function (s) {
            var b = atob(s), u = new Uint8Array(b.length);
            for (var i = 0; i < b.length; i++) { u[i] = b.charCodeAt(i); }
            return u;
        };
        window.grTexts = function (s) { return new TextDecoder("utf-8").decode(grBytes(s)).split("\\x1f"); };
        // Compressed texts (pack_texts(..., compress=True)), decoded after the map's first frame
        // and handed to done(texts); a browser without DecompressionStream never calls done.
        window.grTextsLater = function (s, done) {
            if (typeof DecompressionStream !== "function") { return; }
            requestAnimationFrame(function () {
                setTimeout(function () {
                    var inflated = new Blob([grBytes(s)]).stream().pipeThrough(new DecompressionStream("deflate"));
                    new Response(inflated).text().then(function (t) { done(t.split("\\x1f")); });
                }, 0);
            });
        };
        {% endmacro %}
        """
    )


class _ReportWhenPainted(MacroElement):
    """Inside streamlit-folium's frame, hook the component up (and let it report to the page)
    only once the map has been painted: a page that waits for that report to send the rest of
    itself (dashboard/pages/risk_map.py) then never competes with the map's first paint. A no-op
    anywhere else (no ``initComponent``)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
            var init = window.initComponent;
            if (typeof init !== "function" || init.grAfterPaint) { return; }
            window.initComponent = function (map, onHover) {
                requestAnimationFrame(function () { requestAnimationFrame(function () { init(map, onHover); }); });
            };
            window.initComponent.grAfterPaint = true;
        })();
        {% endmacro %}
        """
    )


def pack_texts(texts: list[str], *, compress: bool = False) -> str:
    """Texts (names, already HTML-escaped) as one base64 string of their UTF-8 bytes, with
    ``compress`` deflated first (zlib format).

    The map travels to the browser inside Streamlit's component arguments, which are JSON with
    ``\\uXXXX`` escapes: six bytes per Chinese character. Base64 of UTF-8 costs four, which
    on a district's 20,000 enterprise names is a quarter of the map's bytes; deflated, the same
    names take 157 KB instead of 531 KB. The browser's ``grTexts`` decodes plain texts at once,
    ``grTextsLater`` compressed ones after the first frame (the enterprise names, needed only
    by tooltips); :func:`unpack_texts` is the same in Python.
    """
    joined = TEXT_SEPARATOR.join(str(t).replace(TEXT_SEPARATOR, " ") for t in texts).encode("utf-8")
    return base64.b64encode(zlib.compress(joined, 9) if compress else joined).decode("ascii")


def unpack_texts(packed: str, *, compressed: bool = False) -> list[str]:
    """The inverse of :func:`pack_texts` (an empty list comes back as ``[""]``)."""
    raw = base64.b64decode(packed)
    return (zlib.decompress(raw) if compressed else raw).decode("utf-8").split(TEXT_SEPARATOR)


def _quantise(coords: np.ndarray, to_gcj02: bool) -> np.ndarray:
    if to_gcj02:
        from geo.chinese_crs import wgs84_to_gcj02

        lon, lat = wgs84_to_gcj02(coords[:, 0], coords[:, 1])
        coords = np.column_stack([lon, lat])
    return np.round(coords * SCALE).astype(np.int64)


def _base(frame_bounds: np.ndarray) -> tuple[int, int]:
    return int(np.floor(frame_bounds[0] * SCALE)), int(np.floor(frame_bounds[1] * SCALE))


def encode_polygons(geoms: np.ndarray, base: tuple[int, int], *, to_gcj02: bool = False) -> list[list[list[int]]]:
    """Polygons as integer deltas: per geometry, per polygon, per ring ``[dx0, dy0, dx1, dy1, …]``
    in 1e-5 degrees, the first pair relative to ``base``, the closing point dropped. About a
    quarter of the bytes of the same rings as GeoJSON text."""
    encoded = []
    for geom in geoms:
        polygons = list(geom.geoms) if geom.geom_type == "MultiPolygon" else [geom]
        parts = []
        for polygon in polygons:
            rings = []
            for ring in (polygon.exterior, *polygon.interiors):
                q = _quantise(np.asarray(ring.coords)[:-1, :2], to_gcj02) - np.array(base)
                rings.append(np.diff(q, axis=0, prepend=np.zeros((1, 2), dtype=np.int64)).ravel().tolist())
            parts.append(rings)
        encoded.append(parts)
    return encoded


def _name_code(name: str) -> str:
    """``<prefix index><suffix index><core>`` of an already escaped name."""
    prefix = next((i for i, p in enumerate(NAME_PREFIXES) if p and name.startswith(p) and len(name) > len(p)), 0)
    core = name[len(NAME_PREFIXES[prefix]) :]
    suffix = next((i for i, s in enumerate(NAME_SUFFIXES) if s and core.endswith(s) and len(core) > len(s)), 0)
    core = core[: len(core) - len(NAME_SUFFIXES[suffix])] if suffix else core
    return f"{prefix}{suffix}{core}"


POINT_FIELDS = 4  # per point: dx (delta from the previous point, sorted by x), dy, packed, id


def encode_points(points: pd.DataFrame, base: tuple[int, int], *, to_gcj02: bool = False) -> dict[str, list]:
    """Enterprise points sorted west to east as flat integer rows ``[dx, dy, packed, id]``: ``dx``
    from the previous point, ``dy`` from ``base`` (1e-5 degrees), and ``packed`` = grade (0
    ungraded, 1–4) + 5 × class (0/1/2 = A/B/C) + 15 × flag bits (FLAG_COLOURS order) + 240 ×
    hazard bits (1 重大隐患未整改, 2 of them overdue); with their escaped, affix-coded names."""
    if points.empty:
        return {"rows": [], "names": []}
    q = _quantise(points[["lon", "lat"]].to_numpy(dtype=float), to_gcj02) - np.array(base)
    order = np.lexsort((points["id"].to_numpy(), q[:, 1], q[:, 0]))
    q = q[order]
    grade = pd.array(points["grade"], dtype="Int64").fillna(0).to_numpy(dtype=np.int64)
    klass = points["supervision_class"].map(lambda c: "ABC".index(_CLASS_ALIASES.get(str(c).strip(), "C")))
    flag_bits = points["special_flags"].map(
        lambda flags: sum(1 << i for i, flag in enumerate(FLAG_COLOURS) if flag in (flags or ()))
    )
    hazard_bits = (points["major_open"].to_numpy() > 0).astype(int) + 2 * (points["major_overdue"].to_numpy() > 0)
    packed = grade + 5 * klass.to_numpy(dtype=np.int64) + 15 * flag_bits.to_numpy(dtype=np.int64) + 240 * hazard_bits
    dx = np.diff(q[:, 0], prepend=0)
    rows = np.column_stack([dx, q[:, 1], packed[order], points["id"].to_numpy(dtype=np.int64)[order]])
    names = [_name_code(html.escape(str(name))) for name in points["name"].to_numpy()[order]]
    return {"rows": rows.ravel().tolist(), "names": names}


class _RegionFills(MacroElement):
    """The drawn tier's units filled by grade, from compact rings decoded into one L.geoJSON
    layer (click → st_folium's ``last_active_drawing`` carries the unit's code)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function (map) {
            var d = {{ this.payload }}, names = d.names === null ? null : grTexts(d.names);
            // Fills, boundaries and points share one canvas, which hit-tests them in drawing
            // order: a point above a fill gets the click, the fill gets it everywhere else.
            function sharedCanvas(map) { return map._grCanvas || (map._grCanvas = L.canvas({padding: 0.3})); }
            function ring(r) {
                var out = [], x = d.base[0], y = d.base[1];
                for (var i = 0; i < r.length; i += 2) { x += r[i]; y += r[i + 1]; out.push([x / d.scale, y / d.scale]); }
                if (out.length) { out.push(out[0]); }
                return out;
            }
            // Tooltip of unit i: [grade, enterprises, open, overdue, major open, escalation index].
            function tip(i) {
                var t = d.stats[i], lines = ["<b>" + names[i] + "</b> " + d.features[i][0], d.gradeNames[t[0]]];
                if (t[1]) { lines.push("企业 " + t[1] + " 家 · 未整改隐患 " + t[2] + "（逾期 " + t[3] + "）"); }
                if (t[4]) { lines.push("重大隐患未整改 " + t[4]); }
                if (t[5]) { lines.push("升级：" + d.escalations[t[5]]); }
                return lines.join("<br>");
            }
            var features = d.features.map(function (f, i) {
                var props = f[0] === null ? {kind: "outline"} : {kind: "region", code: f[0], tier: d.tier};
                props.s = f[2];
                props.i = i;
                return {type: "Feature", properties: props,
                        geometry: {type: "MultiPolygon", coordinates: f[1].map(function (p) { return p.map(ring); })}};
            });
            var layer = L.geoJSON({type: "FeatureCollection", features: features}, {
                renderer: sharedCanvas(map),
                interactive: d.interactive,
                style: function (feature) { return d.styles[feature.properties.s]; },
                onEachFeature: function (feature, lyr) {
                    if (names) {
                        lyr.bindTooltip(function () { return tip(feature.properties.i); }, {sticky: true, className: "gr-tip"});
                    }
                    if (d.interactive) {
                        lyr.on("mouseover", function () {
                            lyr.setStyle({weight: d.hoverWeight});
                            lyr.bringToFront();
                            (map._grOnTop || []).forEach(function (top) { if (top._map) { top.bringToFront(); } });
                        });
                        lyr.on("mouseout", function () { layer.resetStyle(lyr); });
                    }
                }
            });
            layer.addTo(map);
            {{ this.get_name() }} = layer;
        })({{ this._parent.get_name() }});
        var {{ this.get_name() }};
        {% endmacro %}
        """
    )

    def __init__(self, data: dict, name: str):
        super().__init__()
        self._name = name
        self.payload = script_json(data)


class _EnterprisePoints(MacroElement):
    """Every enterprise on the shared canvas as one layer (not one Leaflet object per point):
    circles drawn in one canvas path per style, highest risk on top; rings for special flags and
    open 重大隐患 as toggleable layers of the same kind; a layer control. Hover and click are
    found through a pixel grid; the tooltip is built for the hovered point, and a click hands
    its id to the page through st_folium's ``last_active_drawing`` (``toGeoJSON``)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function (map) {
            var d = {{ this.payload }}, names = [];
            grTextsLater(d.namesZ, function (texts) { names = texts; });
            var renderer = map._grCanvas || (map._grCanvas = L.canvas({padding: 0.3}));
            var n = d.rows.length / 4, x = d.base[0];
            var lat = new Float64Array(n), lng = new Float64Array(n), grade = new Uint8Array(n);
            var klass = new Uint8Array(n), flags = new Uint8Array(n), hazard = new Uint8Array(n), ids = new Array(n);
            for (var i = 0; i < n; i++) {
                x += d.rows[i * 4];
                lat[i] = (d.base[1] + d.rows[i * 4 + 1]) / d.scale;
                lng[i] = x / d.scale;
                var packed = d.rows[i * 4 + 2];
                ids[i] = d.rows[i * 4 + 3];
                grade[i] = packed % 5; klass[i] = Math.floor(packed / 5) % 3;
                flags[i] = Math.floor(packed / 15) % 16; hazard[i] = Math.floor(packed / 240);
            }
            function name(i) {
                var code = names[i] || "00";
                return d.prefixes[+code[0]] + code.slice(2) + d.suffixes[+code[1]];
            }
            function tip(i) {
                var label = name(i), what = d.gradeNames[grade[i]] + " · " + d.classNames[klass[i]];
                return label ? "<b>" + label + "</b><br>" + what : what;
            }
            // Points grow as the map zooms in, so a county view is not a carpet of dots; the class
            // outline shows from street level, where a point is big enough to carry it. Below
            // that nothing here is clickable: a click anywhere on a region drills into it.
            function scaleAt(z) { return z < 13 ? 0.22 : z < 14 ? 0.4 : z < 15 ? 0.7 : z < 16 ? 1 : 1.3; }
            function clickable() { return scaleAt(map.getZoom()) >= 0.7; }
            // Layer pixels of every point, once per zoom level (shared by all the layers below).
            var px = null;
            function projected() {
                var o = map.getPixelOrigin(), z = map.getZoom();
                if (!px || px.z !== z || px.ox !== o.x || px.oy !== o.y) {
                    px = {z: z, ox: o.x, oy: o.y, x: new Float64Array(n), y: new Float64Array(n)};
                    for (var i = 0; i < n; i++) {
                        var p = map.project([lat[i], lng[i]], z);
                        px.x[i] = p.x - o.x; px.y[i] = p.y - o.y;
                    }
                }
                return px;
            }
            function indices(test) {
                var out = [];
                for (var i = 0; i < n; i++) { if (test(i)) { out.push(i); } }
                return Int32Array.from(out);
            }
            var GRID = 24;  // px per cell of the hit-test grid
            var Cloud = L.Path.extend({
                // groups: [{idx, fill, color, weight, thin, dash}], drawn in order (the last on top);
                // radius: function (scale) → px.
                initialize: function (groups, radius, options) {
                    L.setOptions(this, options);
                    this._groups = groups.filter(function (g) { return g.idx.length; });
                    this._radiusAt = radius;
                    this._hit = -1;
                },
                _project: function () {
                    var p = projected(), minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
                    this._r = Math.max(Math.round(this._radiusAt(scaleAt(map.getZoom()))), 1);
                    this._groups.forEach(function (g) {
                        for (var j = 0; j < g.idx.length; j++) {
                            var i = g.idx[j];
                            if (p.x[i] < minX) { minX = p.x[i]; } if (p.x[i] > maxX) { maxX = p.x[i]; }
                            if (p.y[i] < minY) { minY = p.y[i]; } if (p.y[i] > maxY) { maxY = p.y[i]; }
                        }
                    });
                    var pad = this._r + 4;
                    this._pxBounds = minX <= maxX ? L.bounds([minX - pad, minY - pad], [maxX + pad, maxY + pad]) : null;
                    this._grid = null;
                },
                _update: function () { if (this._map) { this._updatePath(); } },
                _empty: function () { return !this._pxBounds; },
                _updatePath: function () {
                    if (!this._renderer._drawing || this._empty()) { return; }
                    var ctx = this._renderer._ctx, p = projected(), r = this._r, full = clickable();
                    this._groups.forEach(function (g) {
                        ctx.beginPath();
                        for (var j = 0; j < g.idx.length; j++) {
                            var i = g.idx[j];
                            ctx.moveTo(p.x[i] + r, p.y[i]);
                            ctx.arc(p.x[i], p.y[i], r, 0, Math.PI * 2, false);
                        }
                        if (g.fill) { ctx.globalAlpha = 0.9; ctx.fillStyle = g.fill; ctx.fill("nonzero"); }
                        var w = full ? g.weight : g.thin;
                        if (w > 0) {
                            ctx.setLineDash(g.dash || []);
                            ctx.globalAlpha = 1; ctx.lineWidth = w; ctx.strokeStyle = g.color;
                            ctx.lineCap = "round"; ctx.lineJoin = "round";
                            ctx.stroke();
                        }
                    });
                    ctx.setLineDash([]);
                },
                _buildGrid: function () {
                    var p = projected(), cells = {};
                    this._groups.forEach(function (g, rank) {
                        for (var j = 0; j < g.idx.length; j++) {
                            var i = g.idx[j], key = Math.floor(p.x[i] / GRID) + ":" + Math.floor(p.y[i] / GRID);
                            (cells[key] || (cells[key] = [])).push(i, rank);
                        }
                    });
                    this._grid = cells;
                },
                // The point under p (nearest, then the one drawn on top), kept for the tooltip and toGeoJSON.
                _containsPoint: function (pt) {
                    this._hit = -1;
                    if (!clickable() || this._empty()) { return false; }
                    if (!this._grid) { this._buildGrid(); }
                    var p = projected(), reach = this._r + 2 + (this._renderer.options.tolerance || 0);
                    var best = Infinity, bestRank = -1, cx = Math.floor(pt.x / GRID), cy = Math.floor(pt.y / GRID);
                    for (var gx = cx - 1; gx <= cx + 1; gx++) {
                        for (var gy = cy - 1; gy <= cy + 1; gy++) {
                            var cell = this._grid[gx + ":" + gy];
                            if (!cell) { continue; }
                            for (var k = 0; k < cell.length; k += 2) {
                                var i = cell[k], dx = p.x[i] - pt.x, dy = p.y[i] - pt.y, d2 = dx * dx + dy * dy;
                                if (d2 <= reach * reach && (d2 < best || (d2 === best && cell[k + 1] > bestRank))) {
                                    best = d2; bestRank = cell[k + 1]; this._hit = i;
                                }
                            }
                        }
                    }
                    return this._hit >= 0;
                },
                toGeoJSON: function () {
                    var i = this._hit;
                    return {type: "Feature", properties: i < 0 ? {} : {kind: "enterprise", id: ids[i]},
                            geometry: i < 0 ? null : {type: "Point", coordinates: [lng[i], lat[i]]}};
                }
            });
            function cloud(groups, radius) {
                var layer = new Cloud(groups, radius, {renderer: renderer});
                layer.bindTooltip(function () { return layer._hit < 0 ? "" : tip(layer._hit); }, {className: "gr-tip", sticky: true});
                layer.on("mouseover mousemove", function () {
                    if (layer._hit >= 0 && layer._hit !== layer._shown) { layer._shown = layer._hit; layer.setTooltipContent(tip(layer._hit)); }
                });
                layer.on("mouseout", function () { layer._shown = -1; });
                return layer;
            }
            // Circles: one group per (grade, class), lower risk first so 重大 is drawn on top.
            var pointGroups = [];
            [0, 4, 3, 2, 1].forEach(function (g) {
                d.classes.forEach(function (cls, c) {
                    pointGroups.push({idx: indices(function (i) { return grade[i] === g && klass[i] === c; }),
                                      fill: d.colours[g], color: cls.color, weight: cls.weight, thin: 0.3});
                });
            });
            var points = cloud(pointGroups, function (k) { return d.radius * k; });
            var flagLayers = d.flags.map(function (flag, f) {
                return cloud([{idx: indices(function (i) { return flags[i] & (1 << f); }), fill: null,
                               color: flag.colour, weight: 2.5, thin: 2.5}],
                             function () { return d.radius + 4; });
            });
            var major = cloud([
                {idx: indices(function (i) { return (hazard[i] & 1) && !(hazard[i] & 2); }), fill: null,
                 color: d.majorColour, weight: 2.5, thin: 2.5, dash: [4, 3]},
                {idx: indices(function (i) { return hazard[i] & 2; }), fill: null,
                 color: d.majorColour, weight: 4, thin: 4}
            ], function () { return d.radius + 7; });
            // Groups give st_folium's click handler the clicked layer as e.layer.
            var overlays = {};
            overlays[d.pointsLabel] = L.featureGroup([points]).addTo(map);
            d.flags.forEach(function (flag, f) { overlays[flag.label] = L.featureGroup([flagLayers[f]]); });
            overlays[d.majorLabel] = L.featureGroup([major]).addTo(map);
            // Kept above a hovered region (which is brought to the front to show its outline).
            map._grOnTop = [points, major].concat(flagLayers);
            L.control.layers(null, overlays, {collapsed: d.collapsed, position: "topright"}).addTo(map);
        })({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self, data: dict):
        super().__init__()
        self._name = "EnterprisePoints"
        self.payload = script_json(data)


class _RiskLegend(MacroElement):
    """Counts per colour, the rule and date behind them, and the point symbols."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function (map) {
            var legend = L.control({position: "bottomright"});
            legend.onAdd = function () {
                var div = L.DomUtil.create("div", "{{ this.css_class }}");
                div.setAttribute("data-testid", "risk-legend");
                div.innerHTML = {{ this.inner_html|tojson }};
                L.DomEvent.disableClickPropagation(div);
                return div;
            };
            legend.addTo(map);
        })({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self, inner_html: str):
        super().__init__()
        self._name = "RiskLegend"
        self.css_class = LEGEND_CLASS
        self.inner_html = inner_html


class _TileErrorNotice(MacroElement):
    """A clear message on the map when basemap tiles fail (no network, missing or wrong key)
    instead of a silently blank background."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function (map) {
            var failed = 0, loaded = 0, shown = false;
            map.eachLayer(function (layer) {
                if (!(layer instanceof L.TileLayer)) { return; }
                layer.on("tileload", function () { loaded++; });
                layer.on("tileerror", function () {
                    failed++;
                    if (shown || failed < 3 || loaded > failed) { return; }
                    shown = true;
                    var box = L.control({position: "topleft"});
                    box.onAdd = function () {
                        var div = L.DomUtil.create("div", "gr-tile-error");
                        div.setAttribute("data-testid", "tile-error");
                        div.textContent = {{ this.message|tojson }};
                        return div;
                    };
                    box.addTo(map);
                });
            });
        })({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self, message: str):
        super().__init__()
        self._name = "TileErrorNotice"
        self.message = message


_RISK_CSS = """
<style>
.gr-legend .gr-count {{ float: right; margin-left: 14px; font-variant-numeric: tabular-nums; }}
.gr-legend .gr-sub {{ color: #475569; font-size: 12px; margin-top: 4px; max-width: 240px; line-height: 16px; }}
.gr-legend .gr-sym {{ display: inline-block; width: 10px; height: 10px; border-radius: 50%; margin-right: 6px;
  vertical-align: middle; background: #CBD5E1; }}
.gr-tip {{ font-size: 13px; line-height: 18px; }}
.gr-tile-error {{ background: #FEF2F2; color: #991B1B; border: 1px solid #FCA5A5; padding: 6px 10px;
  border-radius: 6px; font-size: 13px; max-width: 320px; }}
.leaflet-control-layers {{ font-size: 13px; }}
</style>
"""


@dataclass(frozen=True)
class MapTheme:
    """How the risk map looks around its fills: the analyst's light, interactive map (the
    default) or a wall screen's dark, untouched one. The grade colours are the palette's."""

    fill_opacity: float = 0.72
    no_data_opacity: float = 0.55
    context_fill: str = "#CBD5E1"  # neighbouring districts, drawn dimly
    context_stroke: str = "#94A3B8"
    context_opacity: float = 0.5
    outline_colour: str = "#111827"  # the district's boundary
    region_outline: str | None = None  # the viewed region's boundary at any tier (None: its tier's stroke)
    interactive: bool = True  # tooltips, hover, zoom, pan, scale bar; off on a screen nobody touches
    legend: bool = True  # the legend box on the map (a wall shows it beside the map instead)
    declutter_labels: bool = False  # hide names that would overlap (large type on a small map)
    css: str = ""  # added after the map's own styles (legend, labels, background)


LIGHT_THEME = MapTheme()
# A map nobody touches: no controls, no attribution box, no keyboard or mouse handlers.
_STATIC_MAP_OPTIONS = {
    "dragging": False,
    "scroll_wheel_zoom": False,
    "double_click_zoom": False,
    "box_zoom": False,
    "keyboard": False,
    "touch_zoom": False,
    "attribution_control": False,
}


@dataclass(frozen=True)
class RiskMapLayers:
    """What one view of the risk map draws.

    units : GeoDataFrame
        The drawn tier's units in the view: ``code``, ``name``, ``tier``, ``grade`` (Int64, NA =
        no data), ``enterprises``, ``hazards_open``, ``hazards_overdue``, ``hazards_major_open``,
        ``escalated_by``; EPSG:4490 (or any lon/lat CGCS2000/WGS84 geometry).
    outlines : GeoDataFrame
        Boundaries drawn above the fills (the viewed region and the tiers between): ``code``,
        ``name``, ``tier``.
    context : GeoDataFrame
        Neighbouring areas drawn dimly (``code``, ``name``); empty below the district.
    points : DataFrame
        Enterprises: ``id``, ``name``, ``lon``, ``lat``, ``grade``, ``supervision_class``,
        ``special_flags``, ``major_open``, ``major_overdue``.
    legend_title, legend_note : str
        The drawn tier's legend heading and the rule/date line under the counts.
    """

    units: gpd.GeoDataFrame
    outlines: gpd.GeoDataFrame
    context: gpd.GeoDataFrame
    points: pd.DataFrame
    legend_title: str
    legend_note: str


def _unit_stats(units: pd.DataFrame, escalations: list[str]) -> list[list[int]]:
    """Per unit: grade (0 = no data), enterprises, open, overdue, major open, escalation index."""
    grades = pd.array(units["grade"], dtype="Int64").fillna(0)
    escalated = units["escalated_by"].map(
        lambda e: escalations.index(e) if isinstance(e, str) and e in escalations else 0
    )
    counts = [
        units[c].fillna(0).to_numpy(dtype=np.int64)
        for c in ("enterprises", "hazards_open", "hazards_overdue", "hazards_major_open")
    ]
    return np.column_stack([grades.to_numpy(dtype=np.int64), *counts, escalated.to_numpy(dtype=np.int64)]).tolist()


def _legend_html(layers: RiskMapLayers, palette: Palette, *, folded: bool = False) -> str:
    """The legend's content; ``folded`` (small screens): only the title shows until tapped."""
    grades = pd.array(layers.units["grade"], dtype="Int64")
    counts = {g: int((grades == g).sum()) for g in GRADES}
    rows = [
        f'<div class="gr-row" data-grade="{g}"><span class="gr-swatch" style="background:{palette.colour_for(g)}"></span>'
        f'{GRADE_NAMES_ZH[g]}<span class="gr-count">{counts[g]}</span></div>'
        for g in GRADES
    ]
    no_data = int(pd.isna(grades).sum())
    rows.append(
        f'<div class="gr-row" data-grade="none"><span class="gr-swatch gr-nodata" style="background:{palette.no_data}">'
        f'</span>无数据<span class="gr-count">{no_data}</span></div>'
    )
    parts = [f'<div class="gr-title">{html.escape(layers.legend_title)}</div>', *rows]
    if folded:
        parts[0] = f'<summary class="gr-title">{html.escape(layers.legend_title)}</summary>'

    parts.append(f'<div class="gr-sub" data-testid="legend-rule">{html.escape(layers.legend_note)}</div>')
    if not layers.points.empty:
        parts.append(
            '<div class="gr-sub">企业点位：填色=企业风险等级；'
            + "；".join(style["label"] for style in CLASS_STYLES.values())
            + "</div>"
        )
    return f"<details>{''.join(parts)}</details>" if folded else "".join(parts)


def build_risk_map(
    layers: RiskMapLayers,
    *,
    palette: Palette,
    basemap: Basemap,
    defaults: MapDefaults,
    base_url_path: str = "",
    compact_controls: bool = False,
    theme: MapTheme = LIGHT_THEME,
) -> folium.Map:
    """The 红橙黄蓝 map of one view (``compact_controls``: small screens, where the layer control
    and the legend stay folded until tapped): the drawn tier's units filled by grade (grey: no data),
    boundaries above them, names from a sensible zoom, enterprise points by grade with their
    supervision class as outline, toggleable flag and 重大隐患 rings, a legend with counts.

    Geometry is simplified per tier, quantised to 1e-5° (≈ 1 m) and sent as integer deltas;
    every string from data is HTML-escaped; all assets are local. ``theme`` dresses the map
    for a wall screen (dark, no controls) without changing what it shows.
    """
    if layers.units.empty:
        raise ValueError("nothing to draw: the view has no units (load boundaries with 'python -m loaders boundaries')")
    to_gcj02 = basemap.kind == "amap"  # AMap tiles are GCJ-02: shift the vectors, never the tiles
    m = folium.Map(
        tiles=None,
        zoom_start=12,
        min_zoom=defaults.min_zoom,
        max_zoom=defaults.max_zoom,
        control_scale=theme.interactive,
        zoom_snap=0.25,  # fit the view's bounds closely, not to the next whole zoom level
        zoom_delta=0.5,
        **({} if theme.interactive else {"zoom_control": False, **_STATIC_MAP_OPTIONS}),
    )
    header = m.get_root().header
    header.add_child(Element(_MAP_CSS.format(background=defaults.background, legend=LEGEND_CLASS)))
    header.add_child(Element(_RISK_CSS.format()))
    if theme.css:
        header.add_child(Element(f"<style>{theme.css}</style>"))
    # The view first: the map starts at zoom 1 over (0, 0), and every layer added before the fit
    # would be projected (and its canvas updated) there, then all over again at the fitted view.
    m.fit_bounds(geojson_bounds(layers.units, to_gcj02=to_gcj02), padding=(8, 8))
    _ReportWhenPainted().add_to(m)
    _TextCodec().add_to(m)
    _add_basemap(m, basemap)
    if basemap.kind != "none":
        _TileErrorNotice(
            "底图瓦片加载失败：请检查网络，以及天地图密钥（tk）是否正确、是否已授权本域名；风险图层不受影响。"
            if basemap.kind == "tianditu"
            else "底图瓦片加载失败：请检查网络或底图地址；风险图层不受影响。"
        ).add_to(m)
    view = pd.concat([layers.units.geometry, layers.outlines.geometry])
    base = _base(view.total_bounds)
    if not layers.context.empty:
        context = escape_text_columns(layers.context, ["name"])
        folium.GeoJson(
            geojson_for_display(context, ["code"], to_gcj02=to_gcj02),
            name="周边区县",
            style_function=lambda _: {
                "fillColor": theme.context_fill,
                "fillOpacity": theme.context_opacity,
                "color": theme.context_stroke,
                "weight": 1,
            },
            interactive=False,
            control=False,
        ).add_to(m)
        _add_labels(m, context, to_gcj02=to_gcj02, css_class="gr-label-dim", declutter=theme.declutter_labels)

    units = simplify_for_display(layers.units.reset_index(drop=True))
    units["name_html"] = units["name"].astype("string").fillna("").map(html.escape)
    tier = int(units["tier"].iloc[0])
    stroke, weight = FILL_STROKE.get(tier, FILL_STROKE[4])
    styles = {
        str(g): {
            "fillColor": palette.colour_for(g),
            "fillOpacity": theme.fill_opacity,
            "color": stroke,
            "weight": weight,
        }
        for g in GRADES
    }
    styles["n"] = {
        "fillColor": palette.no_data,
        "fillOpacity": theme.no_data_opacity,
        "color": stroke,
        "weight": weight,
        "dashArray": "4 3",
    }
    grades = pd.array(units["grade"], dtype="Int64")
    styles_of = ["n" if pd.isna(g) else str(int(g)) for g in grades]
    escalations = ["", *sorted({e for e in units["escalated_by"] if isinstance(e, str) and e})]
    rings = encode_polygons(units.geometry.values, base, to_gcj02=to_gcj02)
    _RegionFills(
        {
            "base": base,
            "scale": SCALE,
            "tier": tier,
            "features": [[code, r, style] for code, r, style in zip(units["code"], rings, styles_of, strict=True)],
            "styles": styles,
            "names": pack_texts(units["name_html"].tolist()),
            "stats": _unit_stats(units, escalations),
            "escalations": [html.escape(e) for e in escalations],
            "gradeNames": ["无数据（无在册企业）", *(GRADE_NAMES_ZH[g] for g in GRADES)],
            "interactive": theme.interactive,
            "hoverWeight": weight + 2,
        },
        "region_fills",
    ).add_to(m)

    outlines = (
        simplify_for_display(layers.outlines.reset_index(drop=True)) if not layers.outlines.empty else layers.outlines
    )
    for outline_tier in sorted(outlines["tier"].unique(), reverse=True) if not outlines.empty else []:
        at_tier = outlines[outlines["tier"] == outline_tier]
        colour, line = (
            FILL_STROKE.get(int(outline_tier), (theme.outline_colour, 3.0))
            if outline_tier > 1
            else (theme.outline_colour, 3.0)
        )
        if theme.region_outline and outline_tier == outlines["tier"].min():
            colour, line = theme.region_outline, 3.0
        _RegionFills(
            {
                "base": base,
                "scale": SCALE,
                "tier": int(outline_tier),
                "features": [[None, r, "o"] for r in encode_polygons(at_tier.geometry.values, base, to_gcj02=to_gcj02)],
                "styles": {"o": {"fill": False, "color": colour, "weight": line + 1.2}},
                "names": None,
                "interactive": False,
                "hoverWeight": line,
            },
            f"outline_t{int(outline_tier)}",
        ).add_to(m)

    labelled = units.assign(name=units["name_html"])
    _add_labels(
        m,
        labelled,
        to_gcj02=to_gcj02,
        css_class=f"gr-label gr-label-t{tier}",
        min_zoom=LABEL_ZOOM.get(tier, 15),
        declutter=theme.declutter_labels,
    )

    if not layers.points.empty:
        encoded = encode_points(layers.points, base, to_gcj02=to_gcj02)
        _EnterprisePoints(
            {
                "base": base,
                "scale": SCALE,
                "rows": encoded["rows"],
                "namesZ": pack_texts(encoded["names"], compress=True),
                "prefixes": list(NAME_PREFIXES),
                "suffixes": list(NAME_SUFFIXES),
                "colours": [palette.no_data, *(palette.colour_for(g) for g in GRADES)],
                "gradeNames": ["未定级", *(GRADE_NAMES_ZH[g] for g in GRADES)],
                "classes": list(CLASS_STYLES.values()),
                "classNames": ["A类", "B类", "C类"],
                "flags": [{"label": f"{flag}（环）", "colour": colour} for flag, colour in FLAG_COLOURS.items()],
                "majorLabel": "重大隐患未整改（虚线环；粗实线=已逾期）",
                "majorColour": MAJOR_OPEN_COLOUR,
                "pointsLabel": f"企业点位（{len(layers.points)}）",
                "radius": 5.5,
                "collapsed": compact_controls,
            }
        ).add_to(m)
    if theme.legend:
        _RiskLegend(_legend_html(layers, palette, folded=compact_controls)).add_to(m)
    return localise_assets(m, base_url_path=base_url_path)
