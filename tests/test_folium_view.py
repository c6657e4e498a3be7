"""The risk map's component arguments are made once and cached, and are exactly what st_folium
would send for the same map (which pins dashboard.components.folium_view to the pinned
streamlit-folium)."""

import copy
from unittest import mock

import pytest
import streamlit_folium

from config.settings import Basemap, MapDefaults, Palette
from dashboard.components.folium_view import (
    NOT_DRAWN,
    cached_map_document,
    component_kwargs,
    has_drawn,
    map_document,
)
from dashboard.components.map_builder import MapTheme, build_risk_map
from tests.test_map_builder import layers  # noqa: F401  (the fixture)

BASEMAPS = [Basemap(), Basemap(kind="custom", custom_url="http://127.0.0.1:9/{z}/{x}/{y}.png")]


def _st_folium_kwargs(m, **options) -> dict:
    with mock.patch.object(streamlit_folium, "_component_func") as component:
        streamlit_folium.st_folium(m, **options)
    kwargs = component.call_args.kwargs
    kwargs.pop("on_change")
    return kwargs


@pytest.mark.parametrize("basemap", BASEMAPS, ids=["no-tiles", "custom-tiles"])
@pytest.mark.parametrize("theme", [MapTheme(), MapTheme(interactive=False, legend=False)], ids=["light", "wall"])
def test_the_arguments_equal_st_folium_s(layers, basemap, theme):  # noqa: F811
    m = build_risk_map(layers, palette=Palette(), basemap=basemap, defaults=MapDefaults(), theme=theme)
    ours = component_kwargs(
        map_document(copy.deepcopy(m)), key="risk_map", height=640, width=None, returned_objects=["last_active_drawing"]
    )
    theirs = _st_folium_kwargs(
        m, key="risk_map", height=640, use_container_width=True, returned_objects=["last_active_drawing"]
    )
    assert ours == theirs


def test_the_document_is_built_once_per_scope_stamp_and_view(layers):  # noqa: F811
    builds = []

    def build():
        builds.append(1)
        return build_risk_map(layers, palette=Palette(), basemap=Basemap(), defaults=MapDefaults())

    cached_map_document.clear()
    first = cached_map_document("340303", "stamp-1", "test", (("tier", "4"),), build)
    again = cached_map_document("340303", "stamp-1", "test", (("tier", "4"),), build)
    assert len(builds) == 1 and again == first
    cached_map_document("340303001", "stamp-1", "test", (("tier", "4"),), build)  # another scope
    cached_map_document("340303", "stamp-2", "test", (("tier", "4"),), build)  # new data
    cached_map_document("340303", "stamp-1", "test", (("tier", "3"),), build)  # another view
    assert len(builds) == 4
    assert "region_fills" in first.script
    cached_map_document.clear()


def test_a_map_reporting_when_drawn_starts_from_a_placeholder(layers):  # noqa: F811
    doc = map_document(build_risk_map(layers, palette=Palette(), basemap=Basemap(), defaults=MapDefaults()))
    kwargs = component_kwargs(
        doc, key="risk_map", height=640, width=None, returned_objects=["last_active_drawing"], report_drawn=True
    )
    assert kwargs["default"] == {"last_active_drawing": NOT_DRAWN}
    assert not has_drawn(kwargs["default"]) and not has_drawn(None)
    # what the frontend sends once the map is drawn (no click yet), and after a click
    assert has_drawn({"last_active_drawing": None})
    assert has_drawn({"last_active_drawing": {"type": "Feature", "properties": {"kind": "region", "code": "1"}}})
