"""Home page logic under AppTest, with the map component patched (AppTest cannot drive it)."""

from pathlib import Path
from unittest import mock

import folium
import pytest
from streamlit.testing.v1 import AppTest

pytestmark = pytest.mark.db
HOME = str(Path(__file__).resolve().parents[2] / "dashboard" / "Home.py")


@pytest.fixture()
def captured_maps():
    maps: list[folium.Map] = []

    def fake_st_folium(fig, **kwargs):
        maps.append((fig, kwargs))
        return {}

    with mock.patch("streamlit_folium.st_folium", fake_st_folium):
        yield maps


def test_home_draws_the_district_outline_from_postgis(app_env, captured_maps):
    at = AppTest.from_file(HOME, default_timeout=60).run()
    assert not at.exception
    assert "安全风险四色图" in at.title[0].value
    assert any("合成数据" in c.value for c in at.caption), "the demo must say tiers 2-4 are synthetic"
    ((m, kwargs),) = captured_maps
    assert kwargs["returned_objects"] == []  # panning and zooming must not rerun the page
    html = m.get_root().render()
    assert "340303" in html and "fitBounds" in html


def test_home_without_boundaries_says_how_to_load_them(app_env, captured_maps, monkeypatch):
    from config import get_settings

    monkeypatch.setenv("GRIDRISK_DISTRICT_CODE", "999999")
    get_settings.cache_clear()
    at = AppTest.from_file(HOME, default_timeout=60).run()
    assert not at.exception
    assert "python -m loaders outline" in at.warning[0].value
    assert captured_maps == []
