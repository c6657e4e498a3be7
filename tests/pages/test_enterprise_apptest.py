"""The enterprise file page (一企一档) under AppTest, against the demo database: the figures on the
page are the database's, an enterprise without hazards, one without coordinates, one whose name
is HTML, and an out-of-scope USCC answered exactly like an unknown one."""

from pathlib import Path
from unittest import mock

import pytest
from streamlit.testing.v1 import AppTest

from config import get_settings
from config.settings import Settings
from dashboard.components.session import Viewer
from db.scope import Scope
from tests.support.district import district_rows
from tests.support.html_enterprise import HTML_NAME, html_named_enterprise
from tests.support.maps import fake_maps
from tests.support.viewers import as_viewer

# Every run is a whole-district analyst's unless a test says otherwise (the login itself is
# tested in test_login_apptest.py).
pytestmark = [pytest.mark.db, pytest.mark.usefixtures("as_analyst")]


HOME = str(Path(__file__).resolve().parents[2] / "dashboard" / "Home.py")
DISTRICT = "340303"
ENTERPRISE_PAGE = "pages/enterprise.py"


class FakeMap:
    def __init__(self):
        self.maps = []

    def __call__(self, text, kwargs):
        if kwargs.get("key") == "enterprise_map":  # the router's first run draws the risk map
            self.maps.append((text, kwargs))
        return {}


@pytest.fixture()
def fake_map():
    fake = FakeMap()
    with fake_maps(fake):
        yield fake


@pytest.fixture()
def today(app_env, monkeypatch):
    """One day for the page and the expected figures, even across midnight."""
    day = get_settings().today()
    monkeypatch.setattr(Settings, "today", lambda self: day)
    return day


def _viewer(scope: Scope, role: str = "analyst") -> mock._patch:
    return as_viewer(Viewer(name="测试", role=role, scope=scope))


def _open(uscc: str) -> AppTest:
    """Home (the router) once, then the file page with ``?uscc=``; AppTest needs a first run
    before it can switch to a page registered by st.navigation."""
    at = AppTest.from_file(HOME, default_timeout=180).run()
    at.switch_page(ENTERPRISE_PAGE)
    at.query_params["uscc"] = uscc
    return at.run()


_RICH_ENTERPRISE_SQL = """
    SELECT e.* FROM enterprise e
    WHERE e.grade_source = 'LEC' AND e.placement = 'placed'
      AND EXISTS (SELECT 1 FROM hazard h WHERE h.enterprise_id = e.id AND h.rectified_date IS NULL)
      AND EXISTS (SELECT 1 FROM hazard h WHERE h.enterprise_id = e.id AND h.closed_date IS NOT NULL)
      AND EXISTS (SELECT 1 FROM inspection i WHERE i.enterprise_id = e.id)
    ORDER BY e.id LIMIT 1
"""

_STAGES_SQL = """
    SELECT count(*) AS total,
           count(*) FILTER (WHERE rectified_date IS NULL AND deadline_date < :today) AS overdue,
           count(*) FILTER (WHERE rectified_date IS NULL AND NOT coalesce(deadline_date < :today, false)) AS open,
           count(*) FILTER (WHERE rectified_date IS NOT NULL AND closed_date IS NULL) AS rectified,
           count(*) FILTER (WHERE closed_date IS NOT NULL) AS closed,
           array_agg(hazard_code) FILTER (WHERE rectified_date IS NULL) AS open_codes
    FROM hazard WHERE enterprise_id = :id
"""

_GRADE_SQL = """
    SELECT CASE WHEN d >= t[1] THEN 1 WHEN d >= t[2] THEN 2 WHEN d >= t[3] THEN 3 ELSE 4 END AS grade, version
    FROM (SELECT e.lec_l * e.lec_e * e.lec_c AS d FROM enterprise e WHERE e.id = :id) score,
         (SELECT thresholds AS t, version FROM assessment_band WHERE method = 'LEC' AND valid_from <= :today
          ORDER BY valid_from DESC LIMIT 1) bands
"""


def test_the_file_shows_the_databases_figures(app_env, fake_map, today):
    firm = district_rows(app_env, _RICH_ENTERPRISE_SQL)[0]
    stages = district_rows(app_env, _STAGES_SQL, id=firm["id"], today=today)[0]
    grade = district_rows(app_env, _GRADE_SQL, id=firm["id"], today=today)[0]
    inspections = district_rows(
        app_env, "SELECT count(*) AS n FROM inspection WHERE enterprise_id = :id", id=firm["id"]
    )
    officers = district_rows(
        app_env, "SELECT name, phone FROM grid_staff WHERE :cell = ANY(cell_codes)", cell=firm["cell_code"]
    )
    at = _open(firm["uscc"])
    assert not at.exception
    assert at.title[0].value.replace("\\", "") == firm["name"]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["风险等级"] == {1: "重大风险", 2: "较大风险", 3: "一般风险", 4: "低风险"}[grade["grade"]]
    assert metrics["检查记录"] == f"{inspections[0]['n']} 次"
    explanation = next(c.value for c in at.caption if "等级来源" in c.value).replace("\\", "")
    assert "LEC 评价" in explanation and grade["version"] in explanation
    facts = "\n".join(md.value for md in at.markdown).replace("\\", "")
    assert firm["address"] in facts and firm["uscc"] in facts
    for officer in officers:
        assert officer["name"] in facts and officer["phone"] in facts
    loop = next(c.value for c in at.caption if c.value.startswith("共 ") and "逾期未整改" in c.value)
    assert loop.startswith(
        f"共 {stages['total']} 条：逾期未整改 {stages['overdue']}，整改中 {stages['open']}，"
        f"已整改待验收 {stages['rectified']}，已验收销号 {stages['closed']}"
    )
    hazards = next(df.value for df in at.dataframe if "隐患编号" in df.value.columns and "整改期限" in df.value.columns)
    assert len(hazards) == min(stages["total"], 50)
    open_count = stages["overdue"] + stages["open"]
    assert set(hazards["隐患编号"].head(open_count)) == set(stages["open_codes"])  # open items first
    to_map = next(link.proto for link in at.get("page_link") if link.proto.label == "在风险地图上查看")
    assert f"ent={firm['uscc']}" in to_map.query_string and "region=" in to_map.query_string
    html, kwargs = fake_map.maps[-1]
    assert kwargs["returned_objects"] == []  # the small map never reruns the page
    assert "/app/static/vendor/leaflet" in html


def test_an_enterprise_without_hazards_says_so(app_env, fake_map, today):
    firm = district_rows(
        app_env,
        "SELECT uscc, name FROM enterprise e WHERE placement = 'placed' "
        "AND NOT EXISTS (SELECT 1 FROM hazard h WHERE h.enterprise_id = e.id) ORDER BY id LIMIT 1",
    )[0]
    at = _open(firm["uscc"])
    assert not at.exception
    assert any(i.value == "该企业暂无隐患记录。" for i in at.info)
    assert not any("隐患编号" in df.value.columns and "整改期限" in df.value.columns for df in at.dataframe)


def test_an_enterprise_without_coordinates_is_flagged_without_a_map_and_hidden_from_townships(app_env, fake_map, today):
    firm = district_rows(app_env, "SELECT uscc FROM enterprise WHERE placement = 'no_coordinates' ORDER BY id LIMIT 1")[
        0
    ]
    at = _open(firm["uscc"])
    assert not at.exception
    assert "未落入网格（无坐标）" in at.warning[0].value and "仅全区范围的用户可见" in at.warning[0].value
    assert fake_map.maps == []
    township = district_rows(app_env, "SELECT code FROM region_unit WHERE tier = 2 ORDER BY code LIMIT 1")[0]["code"]
    with _viewer(Scope.of([township]), role="township_head"):
        hidden = _open(firm["uscc"])
    assert [w.value for w in hidden.warning] == ["未找到该企业"]


def test_html_in_a_name_is_text(app_env, fake_map, today):
    with html_named_enterprise(app_env.admin_url) as firm:
        at = _open(firm["uscc"])
    assert not at.exception
    title = at.title[0].value
    assert "<img" not in title.replace("\\<", "") and "](" not in title  # every markup character escaped
    assert title.replace("\\", "") == HTML_NAME
    rendered = fake_map.maps[-1][0]
    assert "&lt;img src=x onerror=" in rendered and "<img src=x" not in rendered
    assert "<script>window.__pwned" not in rendered


def _shape(at: AppTest) -> list:
    return [
        [t.value for t in at.title],
        [w.value for w in at.warning],
        [c.value for c in at.caption],
        len(at.metric),
        len(at.dataframe),
        [t.label for t in at.text_input],
    ]


def test_an_out_of_scope_uscc_is_answered_exactly_like_an_unknown_one(app_env, fake_map, today):
    townships = [r["code"] for r in district_rows(app_env, "SELECT code FROM region_unit WHERE tier = 2 ORDER BY code")]
    inside, outside = townships[0], townships[1]
    firm = district_rows(
        app_env, "SELECT uscc FROM enterprise WHERE :t = ANY(region_path) ORDER BY id LIMIT 1", t=outside
    )[0]
    with _viewer(Scope.of([inside]), role="township_head"):
        out_of_scope = _open(firm["uscc"])
        unknown = _open("91110000802100433B")
    assert not out_of_scope.exception and not unknown.exception
    assert [w.value for w in out_of_scope.warning] == ["未找到该企业"]
    assert _shape(out_of_scope) == _shape(unknown)
    assert fake_map.maps == []


def test_the_enterprise_clicked_on_the_map_links_to_its_file(app_env, today):
    firm = district_rows(app_env, "SELECT id, uscc FROM enterprise WHERE placement = 'placed' ORDER BY id LIMIT 1")[0]
    clicks = [{"type": "Feature", "properties": {"kind": "enterprise", "id": firm["id"]}}]

    def clicking_map(text, kwargs):
        return {"last_active_drawing": clicks.pop() if clicks and kwargs.get("key") == "risk_map" else None}

    with fake_maps(clicking_map):
        at = AppTest.from_file(HOME, default_timeout=180).run()
        at.run()  # the click: the summary opens beside the map
    assert not at.exception
    assert at.query_params["ent"] == firm["uscc"]
    links = [link.proto for link in at.get("page_link")]
    opened = [link for link in links if link.label == "打开一企一档"]
    assert opened and opened[0].query_string == f"uscc={firm['uscc']}" and opened[0].page == "enterprise"
