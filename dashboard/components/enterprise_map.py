"""The enterprise file's small map: the enterprise's point in its cell (pure: data in, folium out).

Built from the risk map's pieces (basemap, display GeoJSON, offline assets), so it works on an
intranet with no tiles and no CDN. Names are HTML-escaped here: folium puts tooltip text into
the page as HTML.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass

import folium
import geopandas as gpd
import numpy as np
import shapely
from branca.element import Element, MacroElement
from jinja2 import Template

from config.settings import Basemap, MapDefaults, Palette
from dashboard.components.map_builder import _add_basemap, geojson_for_display
from dashboard.components.offline import localise_assets
from geo.crs import STORAGE_SRID

__all__ = ["EnterprisePlace", "build_enterprise_map"]

_CSS = """
<style>
.leaflet-container {{ background: {background}; font-family: "Noto Sans CJK SC", "Microsoft YaHei", sans-serif; }}
.gr-ent-tip {{ font-size: 13px; font-weight: 600; }}
</style>
"""
_PADDING_DEG = 0.0005  # ≈ 50 m around the cell, so its outline is not flush with the frame


@dataclass(frozen=True)
class EnterprisePlace:
    """Where an enterprise is: its point (lon/lat, EPSG:4490) and its cell (None when unplaced)."""

    name: str
    lon: float
    lat: float
    grade: int | None
    cell_name: str | None
    cell_outline: shapely.Geometry | None


class _RefitOnResize(MacroElement):
    """Fit the bounds again when the map's frame changes size, until the user moves the map.

    Streamlit sizes the component's iframe after the map has been drawn; the first fitBounds
    then sees a smaller frame and leaves the cell a speck two zoom levels too far out.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function (map, bounds) {
            var touched = false, container = map.getContainer();
            ["mousedown", "wheel", "touchstart", "keydown"].forEach(function (name) {
                container.addEventListener(name, function () { touched = true; }, {passive: true});
            });
            function refit() {
                map.invalidateSize(false);
                if (!touched) { map.fitBounds(bounds); }
                // A permanent tooltip keeps the place it was given when first opened.
                map.eachLayer(function (layer) { if (layer.getTooltip && layer.getTooltip()) { layer.getTooltip().update(); } });
            }
            new ResizeObserver(refit).observe(container);
            if (document.fonts) { document.fonts.ready.then(refit); }
        })({{ this._parent.get_name() }}, {{ this.bounds }});
        {% endmacro %}
        """
    )

    def __init__(self, bounds: list[list[float]]):
        super().__init__()
        self._name = "RefitOnResize"
        self.bounds = json.dumps(bounds)


def build_enterprise_map(
    place: EnterprisePlace,
    *,
    palette: Palette,
    basemap: Basemap,
    defaults: MapDefaults,
    base_url_path: str = "",
) -> folium.Map:
    """The enterprise as a point filled with its grade's colour, its cell's outline around it,
    fitted to the cell (or to 500 m around the point when it has no cell)."""
    to_gcj02 = basemap.kind == "amap"  # AMap tiles are GCJ-02: shift the vectors, never the tiles
    m = folium.Map(
        tiles=None, zoom_start=16, min_zoom=defaults.min_zoom, max_zoom=defaults.max_zoom, control_scale=True
    )
    m.get_root().header.add_child(Element(_CSS.format(background=defaults.background)))
    _add_basemap(m, basemap)
    point = np.array([[place.lon, place.lat]])
    if to_gcj02:
        from geo.chinese_crs import wgs84_to_gcj02

        shifted = wgs84_to_gcj02(point[:, 0], point[:, 1])
        point = np.column_stack(shifted)
    if place.cell_outline is not None:
        cell = gpd.GeoDataFrame(
            {"code": ["cell"], "name": [html.escape(place.cell_name or "")]},
            geometry=[place.cell_outline],
            crs=STORAGE_SRID,
        )
        outline = geojson_for_display(cell, ["name"], to_gcj02=to_gcj02)
        folium.GeoJson(
            outline,
            name="所在网格",
            style_function=lambda _: {
                "fill": True,
                "fillColor": "#94A3B8",
                "fillOpacity": 0.12,
                "color": "#1F2937",
                "weight": 2.5,
            },
            tooltip=folium.GeoJsonTooltip(fields=["name"], labels=False),
        ).add_to(m)
        shown = shapely.geometry.shape(outline["features"][0]["geometry"])
        minx, miny, maxx, maxy = shapely.bounds(shapely.union(shown, shapely.points(point[0])))
    else:
        minx, miny, maxx, maxy = point[0, 0], point[0, 1], point[0, 0], point[0, 1]
    folium.CircleMarker(
        location=[float(point[0, 1]), float(point[0, 0])],
        radius=9,
        color="#111827",
        weight=2.5,
        fill=True,
        fill_color=palette.colour_for(place.grade) if place.grade else palette.no_data,
        fill_opacity=0.95,
        tooltip=folium.Tooltip(
            f'<span class="gr-ent-tip">{html.escape(place.name)}</span>', permanent=True, direction="top", sticky=False
        ),
    ).add_to(m)
    pad = _PADDING_DEG if place.cell_outline is not None else 0.005
    bounds = [[float(miny) - pad, float(minx) - pad], [float(maxy) + pad, float(maxx) + pad]]
    m.fit_bounds(bounds)
    _RefitOnResize(bounds).add_to(m)
    return localise_assets(m, base_url_path=base_url_path)
