"""The risk map, rendered to HTML: local assets only, fills by grade, legend counts, escaping,
compact geometry, basemaps."""

import json
import re
from html import escape as html_escape

import folium
import folium.plugins
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from pydantic import SecretStr
from shapely.geometry import Polygon, box

from config.settings import Basemap, MapDefaults, Palette
from dashboard.components.map_builder import (
    LEGEND_CLASS,
    POINT_FIELDS,
    RiskMapLayers,
    build_risk_map,
    encode_points,
    encode_polygons,
    pack_texts,
    script_json,
    unpack_texts,
)
from dashboard.components.offline import OfflineAssetError, localise_assets

XSS = '<img src=x onerror="window.__pwned=1">'


def _units(rows, tier):
    return gpd.GeoDataFrame(
        {
            "code": [r[0] for r in rows],
            "name": [r[1] for r in rows],
            "tier": tier,
            "grade": pd.array([r[3] for r in rows], dtype="Int64"),
            "enterprises": [0 if r[3] is None else 3 for r in rows],
            "hazards_open": 2,
            "hazards_overdue": 1,
            "hazards_major_open": 0,
            "escalated_by": [r[4] if len(r) > 4 else None for r in rows],
        },
        geometry=[box(*r[2]) for r in rows],
        crs=4490,
    )


def _points(n=3):
    return pd.DataFrame(
        {
            "id": range(1, n + 1),
            "name": ["蚌埠市东泰货运有限公司", XSS, "安徽盛发防水材料有限公司"][:n],
            "lon": [117.31, 117.36, 117.33][:n],
            "lat": [32.81, 32.85, 32.83][:n],
            "grade": pd.array([1, None, 4][:n], dtype="Int64"),
            "supervision_class": ["A", "B", None][:n],
            "special_flags": [["粉尘涉爆"], [], ["有限空间", "重大危险源"]][:n],
            "major_open": [1, 0, 0][:n],
            "major_overdue": [1, 0, 0][:n],
        }
    )


@pytest.fixture()
def layers():
    units = _units(
        [
            ("340303001", "天桥街道", (117.30, 32.80, 117.35, 32.90), 1, "有未整改的重大隐患"),
            ("340303002", XSS, (117.35, 32.80, 117.40, 32.85), 3),
            ("340303003", "燕山乡", (117.35, 32.85, 117.40, 32.90), None),
        ],
        2,
    )
    outline = _units([("340303", "蚌山区", (117.30, 32.80, 117.40, 32.90), None)], 1)
    context = gpd.GeoDataFrame(
        {"code": ["340302"], "name": [XSS]}, geometry=[box(117.40, 32.80, 117.50, 32.90)], crs=4490
    )
    return RiskMapLayers(units, outline, context, _points(), "乡镇/街道风险等级", "加权评分+升级 · 截至 2026-11-23")


def _render(layers, basemap=None, base_url_path=""):
    """The rendered page with JSON \\uXXXX escapes and packed names decoded, i.e. the text the
    browser gets."""
    m = build_risk_map(
        layers, palette=Palette(), basemap=basemap or Basemap(), defaults=MapDefaults(), base_url_path=base_url_path
    )
    raw = m.get_root().render()
    decoded = re.sub(r"\\u([0-9a-fA-F]{4})", lambda g: chr(int(g.group(1), 16)), raw)
    names = re.sub(r'"names":"([A-Za-z0-9+/=]*)"', lambda g: json.dumps(unpack_texts(g.group(1))), decoded)
    names = re.sub(
        r'"namesZ":"([A-Za-z0-9+/=]*)"', lambda g: json.dumps(unpack_texts(g.group(1), compressed=True)), names
    )
    return raw, names


def _payload(raw: str, name: str) -> dict:
    """The JSON handed to one of the map's own layers (``var d = {...};`` after ``name``)."""
    start = raw.index("var d = ", raw.index(name) if name else 0) + len("var d = ")
    return json.JSONDecoder().raw_decode(raw, start)[0]


def test_only_local_assets_are_referenced(layers):
    _, html = _render(layers)
    urls = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert urls and all(url.startswith("/app/static/vendor/") for url in urls), urls
    assert "cdn." not in html and "cdnjs" not in html and "code.jquery.com" not in html


def test_assets_follow_the_base_url_path(layers):
    _, html = _render(layers, base_url_path="/risk/")
    assert "/risk/app/static/vendor/leaflet-1.9.4/leaflet.js" in html


def test_units_are_filled_by_grade_and_grey_without_data(layers):
    raw, _ = _render(layers)
    fills = _payload(raw, "")
    styles = {code: fills["styles"][style]["fillColor"] for code, _, style in fills["features"]}
    assert styles == {"340303001": "#C8102E", "340303002": "#FFE100", "340303003": "#B0B0B0"}
    assert fills["styles"]["n"]["dashArray"], "no data is drawn dashed, never as a grade colour"
    assert fills["stats"][0][0] == 1 and fills["stats"][2][0] == 0


def test_legend_counts_each_colour_and_names_the_rule(layers):
    _, html = _render(layers)
    html = html.replace('\\"', '"')
    assert LEGEND_CLASS in html and "risk-legend" in html
    for grade, count in (("1", 1), ("2", 0), ("3", 1), ("4", 0), ("none", 1)):
        assert re.search(rf'data-grade="{grade}".*?gr-count">{count}<', html), grade
    assert "加权评分+升级 · 截至 2026-11-23" in html


def test_every_string_from_data_is_escaped(layers):
    raw, html = _render(layers)
    assert XSS not in html
    assert "&lt;img src=x onerror=" in html  # unit, context and enterprise names
    assert "</script" not in raw.split("<script>", 1)[-1].replace("</script>", "", raw.count("</script>"))


def test_script_json_cannot_close_the_script_element():
    text = script_json({"name": "</script><script>alert(1)</script>", "q": "it's & <b>"})
    assert "<" not in text and ">" not in text and "'" not in text and "&" not in text
    assert json.loads(text)["name"].startswith("</script>")


def test_polygons_round_trip_through_the_compact_encoding():
    ring = [(117.312345, 32.801234), (117.35, 32.80), (117.36, 32.86), (117.31, 32.85)]
    hole = [(117.32, 32.82), (117.33, 32.82), (117.33, 32.83)]
    geom = Polygon(ring, [hole])
    base = (11731000, 3280000)
    (encoded,) = encode_polygons(np.array([geom]), base)
    decoded = []
    for r in encoded[0]:  # the browser's decoder, in Python
        xy = np.cumsum(np.array(r).reshape(-1, 2), axis=0) + np.array(base)
        decoded.append(xy / 1e5)
    np.testing.assert_allclose(decoded[0], np.round(np.array(ring), 5), atol=1e-9)
    np.testing.assert_allclose(decoded[1], np.round(np.array(hole), 5), atol=1e-9)


def test_points_carry_grade_class_flags_and_major_hazards_packed():
    points = _points()
    encoded = encode_points(points, (11730000, 3280000))
    rows = np.array(encoded["rows"]).reshape(-1, POINT_FIELDS)
    by_id = {int(r[3]): int(r[2]) for r in rows}
    assert by_id[1] == 1 + 5 * 0 + 15 * 0b0010 + 240 * 3  # 重大, A, 粉尘涉爆, major open and overdue
    assert by_id[2] == 0 + 5 * 1  # ungraded, B
    assert by_id[3] == 4 + 5 * 2 + 15 * (0b0001 | 0b1000)  # 低, C (unknown class), 重大危险源 + 有限空间
    x = np.cumsum(rows[:, 0]) + 11730000
    assert (np.diff(x) >= 0).all(), "points travel sorted west to east, x as deltas"
    assert "2" + "0" + "东泰货运有限公司"[:4] not in encoded["names"]
    assert "12东泰货运" in encoded["names"]  # 蚌埠市 … 有限公司 sent as affix codes


def test_fitted_to_the_view_not_the_context(layers):
    raw, _ = _render(layers)
    assert re.search(r"fitBounds\(\s*\[\[32\.8,\s*117\.3\],\s*\[32\.9,\s*117\.4\]\]", raw)
    # before any layer: layers added first are projected at the initial zoom, then again
    layers_at = [raw.find(kind) for kind in ("L.geoJson(", "L.geoJSON(", "L.marker(", "L.tileLayer(")]
    assert raw.index("fitBounds(") < min(at for at in layers_at if at >= 0)


def test_no_tiles_by_default(layers):
    _, html = _render(layers)
    assert "L.tileLayer" not in html and '"tileerror"' not in html


def test_tianditu_basemap_uses_the_key_and_says_when_tiles_fail(layers):
    _, html = _render(layers, basemap=Basemap(kind="tianditu", tianditu_key=SecretStr("abc123")))
    assert "tianditu.gov.cn/vec_w" in html and "tianditu.gov.cn/cva_w" in html
    assert "tk=abc123" in html and "天地图" in html
    assert "tile-error" in html and "天地图密钥" in html


def test_amap_basemap_shifts_vectors_to_gcj02_not_the_tiles(layers):
    plain_raw, _ = _render(layers)
    amap_raw, amap = _render(layers, basemap=Basemap(kind="amap"))
    assert "autonavi.com" in amap
    # GCJ-02 is ≈ 500-580 m east/north of WGS84 around 蚌埠: the view's corner moves by ~0.005°.
    assert re.search(r"fitBounds\(\s*\[\[32\.79[7-9]\d*,\s*117\.30[5-6]\d*\]", amap_raw)
    plain_x, plain_y = _payload(plain_raw, "")["features"][0][1][0][0][:2]
    amap_x, amap_y = _payload(amap_raw, "")["features"][0][1][0][0][:2]
    assert 450 < amap_x - plain_x < 650 and -350 < amap_y - plain_y < -150  # the fills moved, in 1e-5°


def test_elements_needing_cdn_assets_are_refused():
    m = folium.Map(tiles=None)
    folium.plugins.MarkerCluster().add_to(m)
    with pytest.raises(OfflineAssetError, match="MarkerCluster.*vendor it"):
        localise_assets(m)


def test_an_empty_view_is_a_clear_error(layers):
    empty = RiskMapLayers(layers.units.iloc[0:0], layers.outlines, layers.context, layers.points, "t", "n")
    with pytest.raises(ValueError, match="python -m loaders boundaries"):
        _render(empty)


def test_points_are_one_canvas_layer_with_toggles_not_one_object_each(layers):
    m = build_risk_map(layers, palette=Palette(), basemap=Basemap(), defaults=MapDefaults())
    assert not any(isinstance(child, folium.CircleMarker) for child in m._children.values())
    raw = m.get_root().render()
    assert "L.canvas(" in raw and "L.control.layers(" in raw
    for label in ("重大危险源（环）", "粉尘涉爆（环）", "涉氨制冷（环）", "有限空间（环）", "重大隐患未整改"):
        assert label in re.sub(r"\\u([0-9a-fA-F]{4})", lambda g: chr(int(g.group(1), 16)), raw)


def test_names_travel_packed_and_come_back_unchanged():
    names = ["蚌埠市东泰货运有限公司", "&lt;b&gt;", "", "A\x1fB", "涂山路街道"]
    assert unpack_texts(pack_texts(names)) == ["蚌埠市东泰货运有限公司", "&lt;b&gt;", "", "A B", "涂山路街道"]
    assert pack_texts(names).isascii()
    # four bytes per Chinese character instead of the six of a JSON \uXXXX escape
    assert len(pack_texts(["东泰货运"])) < len(json.dumps("东泰货运"))
    many = [f"蚌埠市东泰货运{i}有限公司" for i in range(500)]
    assert unpack_texts(pack_texts(names, compress=True), compressed=True) == unpack_texts(pack_texts(names))
    assert len(pack_texts(many, compress=True)) < len(pack_texts(many)) / 3


def test_enterprise_names_travel_compressed_for_tooltips_only(layers):
    raw, decoded = _render(layers)
    starts = [m.end() for m in re.finditer("var d = ", raw)]
    payload = next(p for p in (json.JSONDecoder().raw_decode(raw, at)[0] for at in starts) if "rows" in p)
    assert "names" not in payload
    names = unpack_texts(payload["namesZ"], compressed=True)  # sorted west to east, affix-coded, escaped
    assert names == ["12东泰货运", "42盛发防水材料", "00" + html_escape(XSS)]
    assert "grTextsLater(d.namesZ" in raw  # decoded after the first frame, for tooltips


def test_a_wall_theme_dresses_the_map_without_changing_its_colours(layers):
    from dashboard.components.map_builder import MapTheme

    theme = MapTheme(
        fill_opacity=0.9,
        context_fill="#10223f",
        outline_colour="#7dd3fc",
        region_outline="#7dd3fc",
        interactive=False,
        legend=False,
        declutter_labels=True,
        css=".gr-label { color: #fff; }",
    )
    m = build_risk_map(layers, palette=Palette(), basemap=Basemap(), defaults=MapDefaults(), theme=theme)
    raw = m.get_root().render()
    fills = _payload(raw, "")
    assert {s["fillColor"] for s in fills["styles"].values()} >= {"#C8102E", "#FFE100"}
    assert fills["styles"]["1"]["fillOpacity"] == 0.9 and fills["interactive"] is False
    for option in (
        '"dragging": false',
        '"scrollWheelZoom": false',
        '"zoomControl": false',
        '"attributionControl": false',
    ):
        assert option in raw, option
    assert "risk-legend" not in raw and "L.control.scale" not in raw
    assert "#10223f" in raw and ".gr-label { color: #fff; }" in raw
    assert '"color": "#7dd3fc"' in raw.replace('"color":"#7dd3fc"', '"color": "#7dd3fc"')
    assert raw.count('visibility = "hidden"') >= 1 and '"declutter"' not in raw
    light = build_risk_map(layers, palette=Palette(), basemap=Basemap(), defaults=MapDefaults()).get_root().render()
    assert '"dragging": false' not in light and "risk-legend" in light and "L.control.scale" in light


def test_on_small_screens_the_legend_stays_folded(layers):
    m = build_risk_map(layers, palette=Palette(), basemap=Basemap(), defaults=MapDefaults(), compact_controls=True)
    raw = m.get_root().render()
    html = re.sub(r"\\u([0-9a-fA-F]{4})", lambda g: chr(int(g.group(1), 16)), raw).replace('\\"', '"')
    assert '<details><summary class="gr-title">' in html
