"""The outline map, rendered to HTML: local assets only, legend, escaping, basemaps."""

import re

import folium
import folium.plugins
import geopandas as gpd
import pytest
from pydantic import SecretStr
from shapely.geometry import box

from config.settings import Basemap, MapDefaults, Palette
from dashboard.components.map_builder import LEGEND_CLASS, build_grid_map
from dashboard.components.offline import OfflineAssetError, localise_assets

XSS = '<img src=x onerror="window.__pwned=1">'


def _frame(rows):
    return gpd.GeoDataFrame(
        {"code": [r[0] for r in rows], "name": [r[1] for r in rows]},
        geometry=[box(*r[2]) for r in rows],
        crs=4490,
    )


@pytest.fixture()
def frames():
    district = _frame([("340303", "蚌山区", (117.30, 32.80, 117.40, 32.90))]).assign(tier=1)
    context = _frame(
        [("340302", XSS, (117.40, 32.80, 117.50, 32.90)), ("340304", "禹会区", (117.20, 32.80, 117.30, 32.90))]
    )
    return district, context


def _render(district, context, basemap=None, base_url_path=""):
    """The rendered page with JSON \\uXXXX escapes decoded, i.e. the text the browser gets."""
    m = build_grid_map(
        district,
        context,
        palette=Palette(),
        basemap=basemap or Basemap(),
        defaults=MapDefaults(),
        base_url_path=base_url_path,
    )
    html = m.get_root().render()
    return m, re.sub(r"\\u([0-9a-fA-F]{4})", lambda g: chr(int(g.group(1), 16)), html)


def test_only_local_assets_are_referenced(frames):
    _, html = _render(*frames)
    urls = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert urls, "the map must load Leaflet"
    assert all(url.startswith("/app/static/vendor/") for url in urls), urls
    assert "cdn." not in html and "cdnjs" not in html and "code.jquery.com" not in html


def test_assets_follow_the_base_url_path(frames):
    _, html = _render(*frames, base_url_path="/risk/")
    assert "/risk/app/static/vendor/leaflet-1.9.4/leaflet.js" in html


def test_legend_has_four_grades_and_no_data_in_palette_colours(frames):
    _, html = _render(*frames)
    assert LEGEND_CLASS in html
    for label, colour in [
        ("重大风险", "#C8102E"),
        ("较大风险", "#FF7F00"),
        ("一般风险", "#FFE100"),
        ("低风险", "#4A90E2"),
        ("无数据", "#B0B0B0"),
    ]:
        assert label in html and colour in html


def test_names_from_data_are_escaped(frames):
    _, html = _render(*frames)
    assert XSS not in html
    assert "&lt;img src=x onerror=" in html


def test_fitted_to_the_district_not_the_context(frames):
    _, html = _render(*frames)
    assert "fitBounds" in html
    assert re.search(r"\[\[32\.8,\s*117\.3\],\s*\[32\.9,\s*117\.4\]\]", html)


def test_no_tiles_by_default(frames):
    _, html = _render(*frames)
    assert "L.tileLayer" not in html


def test_tianditu_basemap_uses_the_key_and_annotation(frames):
    basemap = Basemap(kind="tianditu", tianditu_key=SecretStr("abc123"))
    _, html = _render(*frames, basemap=basemap)
    assert "tianditu.gov.cn/vec_w" in html and "tianditu.gov.cn/cva_w" in html
    assert "tk=abc123" in html and "天地图" in html


def test_amap_basemap_shifts_vectors_to_gcj02_not_the_tiles(frames):
    _, plain = _render(*frames)
    _, amap = _render(*frames, basemap=Basemap(kind="amap"))
    assert "autonavi.com" in amap
    # GCJ-02 is ≈ 500-580 m east/north of WGS84 around 蚌埠: the district corner moves by ~0.005°.
    assert "117.3" in plain and re.search(r"\[117\.30[5-6]\d*, 32\.79[7-9]\d*\]", amap)


def test_elements_needing_cdn_assets_are_refused():
    m = folium.Map(tiles=None)
    folium.plugins.MarkerCluster().add_to(m)
    with pytest.raises(OfflineAssetError, match="MarkerCluster.*vendor it"):
        localise_assets(m)


def test_empty_district_is_a_clear_error(frames):
    with pytest.raises(ValueError, match="python -m loaders outline"):
        _render(frames[0].iloc[0:0], frames[1])


def test_every_tier_is_drawn_with_names_of_fine_tiers_from_a_zoom():
    units = gpd.GeoDataFrame(
        {
            "code": ["340303", "340303001", "340303001001", "340303001001001", "340303001001002"],
            "name": ["蚌山区", "天桥街道", XSS, "第1网格", "第2网格"],
            "tier": [1, 2, 3, 4, 4],
        },
        geometry=[box(117.30, 32.80, 117.40, 32.90)] * 3
        + [box(117.30, 32.80, 117.35, 32.90), box(117.35, 32.80, 117.40, 32.90)],
        crs=4490,
    )
    m = build_grid_map(units, units.iloc[0:0], palette=Palette(), basemap=Basemap(), defaults=MapDefaults())
    html = re.sub(r"\\u([0-9a-fA-F]{4})", lambda g: chr(int(g.group(1), 16)), m.get_root().render())
    for colour in ("#334155", "#64748B", "#A3B1C2"):
        assert colour in html
    assert "天桥街道" in html and "第2网格" in html
    assert XSS not in html and "&lt;img src=x" in html
    assert "map.getZoom() >= 14" in html and "map.getZoom() >= 16" in html
