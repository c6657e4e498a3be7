"""What a person sees, in Debian's chromium with every non-local request blocked."""

import pytest

from tests.conftest import ARTIFACTS

pytestmark = [pytest.mark.db, pytest.mark.browser]
MAP_FRAME = 'iframe[title="streamlit_folium.st_folium"]'


def test_home_map_draws_offline_with_outline_and_legend(app_server, offline_page):
    page = offline_page.page
    page.goto(app_server, wait_until="domcontentloaded")
    frame = page.frame_locator(MAP_FRAME)
    # The district polygon: Leaflet draws each GeoJSON polygon as an SVG path.
    district = frame.locator('path.leaflet-interactive[stroke="#1F2937"]')
    district.first.wait_for(state="visible", timeout=60_000)
    assert district.count() == 1
    assert frame.locator('path.leaflet-interactive[stroke="#334155"]').count() == 11  # 乡镇/街道
    assert frame.locator('path.leaflet-interactive[stroke="#94A3B8"]').count() == 6  # neighbouring districts
    box = district.first.bounding_box()
    assert box and box["width"] > 200 and box["height"] > 200, "the map is fitted to the district"
    legend = frame.locator('[data-testid="risk-legend"]')
    legend.wait_for(state="visible")
    assert legend.locator(".gr-row").count() == 5
    for label in ("重大风险", "较大风险", "一般风险", "低风险", "无数据"):
        assert label in legend.inner_text()
    swatch = legend.locator('[data-grade="1"] .gr-swatch')
    assert swatch.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(200, 16, 46)"
    assert frame.locator(".gr-label-t2").count() == 11  # the demo's township/street names
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "home_map.png"), full_page=True)
    assert offline_page.blocked == [], f"the page tried to reach the internet: {offline_page.blocked}"
