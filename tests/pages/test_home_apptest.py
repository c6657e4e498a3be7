"""Risk map page logic under AppTest, with the map component patched (AppTest cannot drive it):
state in the URL, drill-down by click, breadcrumb, filters, and the figures beside the map."""

from pathlib import Path

import pytest
from sqlalchemy import text
from streamlit.testing.v1 import AppTest

from dashboard.components.folium_view import NOT_DRAWN
from tests.support.maps import fake_maps

# Every test here runs as the demo's analyst (the login gate is tested in test_login_apptest.py).
pytestmark = [pytest.mark.db, pytest.mark.usefixtures("analyst")]
HOME = str(Path(__file__).resolve().parents[2] / "dashboard" / "Home.py")
DISTRICT = "340303"


class FakeMap:
    """Stands in for the map component: records each map's text and answers with a scripted
    click; with ``drawn`` False it answers as a map the browser has not drawn yet."""

    def __init__(self):
        self.maps: list[tuple[str, dict]] = []
        self.click: dict | None = None
        self.drawn = True

    def __call__(self, text, kwargs):
        self.maps.append((text, kwargs))
        if not self.drawn:
            return {"last_active_drawing": NOT_DRAWN} if kwargs.get("report_drawn") else {"last_active_drawing": None}
        click, self.click = self.click, None
        return {"last_active_drawing": click} if click else {"last_active_drawing": None}


@pytest.fixture()
def fake_map():
    fake = FakeMap()
    with fake_maps(fake):
        yield fake


def _metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def _township(live_db):
    from sqlalchemy import create_engine

    engine = create_engine(live_db.admin_url)
    with engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT u.code, u.name FROM region_unit u JOIN boundary_set s ON s.id = u.boundary_set_id "
                "AND s.is_current WHERE s.district_code = :d AND u.tier = 2 ORDER BY u.code LIMIT 1"
            ),
            {"d": DISTRICT},
        ).one()
    engine.dispose()
    return row


def test_the_district_view_draws_townships_with_figures(app_env, fake_map):
    at = AppTest.from_file(HOME, default_timeout=120).run()
    assert not at.exception
    assert "安全风险四色图" in at.title[0].value
    assert any("合成数据" in c.value for c in at.caption), "the demo must say tiers 2-4 are synthetic"
    html, kwargs = fake_map.maps[-1]
    assert kwargs["returned_objects"] == ["last_active_drawing"]  # panning and zooming do not rerun
    assert "region_fills" in html and "L.canvas(" in html
    assert _metric(at, "企业数") == "20,004"
    assert any("规则：加权评分+升级" in c.value for c in at.caption)


def test_a_session_s_first_run_sends_the_map_and_breadcrumb_and_the_rest_once_it_is_drawn(app_env, fake_map):
    fake_map.drawn = False
    at = AppTest.from_file(HOME, default_timeout=120).run()
    assert not at.exception
    assert fake_map.maps[-1][1]["report_drawn"] is True
    assert [b.label for b in at.button if b.key and b.key.startswith("crumb_")] == ["蚌山区"]  # above the map
    assert not at.metric, "the figures (beside the map) wait for it"
    assert not at.multiselect and not at.tabs and not at.dataframe, "filters, ranking and tabs wait for the map"
    assert any("正在载入" in c.value for c in at.caption)
    fake_map.drawn = True  # the browser has drawn the map: its component reports
    at.run()
    assert not at.exception
    assert _metric(at, "企业数") == "20,004"
    assert at.multiselect(key="flt_sector") and [t.label for t in at.tabs][:1] == ["隐患趋势"] and at.dataframe
    assert fake_map.maps[-1][1]["report_drawn"] is False
    at.run()  # later runs send the whole page at once
    assert at.multiselect(key="flt_sector") and fake_map.maps[-1][1]["report_drawn"] is False


def test_clicking_a_township_drills_down_and_the_breadcrumb_returns(app_env, fake_map):
    code, name = _township(app_env)
    at = AppTest.from_file(HOME, default_timeout=120).run()
    fake_map.click = {"type": "Feature", "properties": {"kind": "region", "code": code, "tier": 2}}
    at.run()
    assert not at.exception
    assert at.query_params["region"] == code
    assert any(b.label == name for b in at.button), "the breadcrumb ends at the township"
    assert int(_metric(at, "企业数").replace(",", "")) < 20_004
    at.button(key=f"crumb_{DISTRICT}").click().run()
    assert "region" not in at.query_params
    assert _metric(at, "企业数") == "20,004"


def test_a_deep_link_restores_the_view(app_env, fake_map):
    code, name = _township(app_env)
    at = AppTest.from_file(HOME, default_timeout=120)
    at.query_params.update({"region": code, "tier": "4", "hstate": "overdue"})
    at.run()
    assert not at.exception
    assert any(b.label == name for b in at.button)
    assert at.radio(key="flt_hstate").value == "overdue"
    html = fake_map.maps[-1][0]
    assert '"tier":4' in html  # cells drawn


def test_a_filter_changes_the_numbers_and_the_url(app_env, fake_map):
    at = AppTest.from_file(HOME, default_timeout=120).run()
    before = len(fake_map.maps[-1][0])
    at.multiselect(key="flt_sector").set_value(["危险化学品"]).run()
    assert not at.exception
    assert at.query_params["sector"] == "危险化学品"
    assert int(_metric(at, "企业数").replace(",", "")) < 1_000
    assert len(fake_map.maps[-1][0]) < before  # fewer points drawn


def test_clicking_an_enterprise_shows_its_details_beside_the_map(app_env, fake_map):
    at = AppTest.from_file(HOME, default_timeout=120).run()
    fake_map.click = {"type": "Feature", "properties": {"kind": "enterprise", "id": 1}}
    at.run()
    assert not at.exception
    assert "ent" in at.query_params
    assert any("统一社会信用代码" in md.value for md in at.markdown)


def test_without_boundaries_the_page_says_how_to_load_them(app_env, fake_map, monkeypatch, cookies):
    from sqlalchemy import create_engine

    from config import get_settings
    from db import accounts

    monkeypatch.setenv("GRIDRISK_DISTRICT_CODE", "999999")
    get_settings.cache_clear()
    engine = create_engine(app_env.admin_url)  # an analyst of a district with no boundaries loaded
    with engine.begin() as conn:
        if not accounts.account_exists(conn, "analyst-999999"):
            accounts.create_account(
                conn, name="analyst-999999", password="empty-district-1", role="analyst", district="999999", actor="t"
            )
    engine.dispose()
    cookies.login("analyst-999999", "empty-district-1")
    at = AppTest.from_file(HOME, default_timeout=60).run()
    assert not at.exception
    assert "python -m loaders outline" in at.warning[0].value
    assert fake_map.maps == []
