"""The wall screen's pure parts on a hand-drawn district: rotation, figures, alert strip, panel
HTML (escaped), settings."""

import datetime as dt

import geopandas as gpd
import pandas as pd
import pytest
from pydantic import ValidationError
from shapely.geometry import box

from config.settings import Palette, Settings, WallSettings
from dashboard.components import wall_panels as panels
from dashboard.components.wall_model import ScopeFrames, build_snapshot, rotation, top_unit
from geo.palette import contrast_ratio

d = dt.date
TODAY = d(2026, 11, 24)
XSS = "<script>alert(1)</script>"

# District D: townships T1 (west) and T2 (east), one community and one cell each.
UNITS = gpd.GeoDataFrame(
    {
        "code": ["D", "T1", "T2", "C1", "C2", "X1", "X2"],
        "name": ["测试区", "西街道", "东乡", f"{XSS}社区居民委员会", "东村村民委员会", "第1网格", "第2网格"],
        "tier": [1, 2, 2, 3, 3, 4, 4],
        "parent_code": [None, "D", "D", "T1", "T2", "C1", "C2"],
        "path": [
            ["D"],
            ["D", "T1"],
            ["D", "T2"],
            ["D", "T1", "C1"],
            ["D", "T2", "C2"],
            ["D", "T1", "C1", "X1"],
            ["D", "T2", "C2", "X2"],
        ],
    },
    geometry=[box(0, 0, 2, 1), box(0, 0, 1, 1), box(1, 0, 2, 1), box(0, 0, 1, 1), box(1, 0, 2, 1)] * 1
    + [box(0, 0, 1, 1), box(1, 0, 2, 1)],
    crs=4490,
)
GRADES = pd.DataFrame(
    {
        "code": ["D", "T1", "T2", "C1", "C2", "X1", "X2"],
        "grade": pd.array([1, 1, 3, 1, 3, 1, 3], dtype="Int64"),
        "score": 1.0,
        "escalated_by": None,
        "enterprises": [3, 2, 1, 2, 1, 2, 1],
        "hazards_open": [3, 2, 1, 2, 1, 2, 1],
        "hazards_overdue": [2, 1, 1, 1, 1, 1, 1],
        "hazards_major_open": [1, 1, 0, 1, 0, 1, 0],
    }
)
ENTERPRISES = pd.DataFrame(
    {
        "id": [1, 2, 3],
        "name": [f"{XSS}化工有限公司", "西边商贸公司", "东边烟花爆竹店"],
        "uscc": ["A", "B", "C"],
        "sector": ["危险化学品", "商贸", "烟花爆竹"],
        "grade": pd.array([1, 4, 3], dtype="Int64"),
        "special_flags": [[], [], []],
        "supervision_class": ["A", "B", "C"],
        "cell_code": ["X1", "X1", "X2"],
        "region_path": [["D", "T1", "C1", "X1"], ["D", "T1", "C1", "X1"], ["D", "T2", "C2", "X2"]],
        "lon": [0.5, 0.6, 1.5],
        "lat": [0.5, 0.5, 0.5],
        "status": "在营",
    }
)
HAZARDS = pd.DataFrame(
    {
        "id": [1, 2, 3, 4, 5],
        "hazard_code": ["H1", "H2", "H3", "H4", "H5"],
        "enterprise_id": [1, 1, 2, 3, 3],
        # H1: 重大, deadline 3 days ago, open → newly overdue; H2: 重大, overdue for 40 days;
        # H3: 一般, overdue yesterday; H4: found this month, rectified; H5: open, not yet due.
        "found_date": pd.to_datetime(["2026-10-01", "2026-08-01", "2026-11-02", "2026-11-05", "2025-12-10"]),
        "deadline_date": pd.to_datetime(["2026-11-21", "2026-10-15", "2026-11-23", "2026-11-20", "2026-12-31"]),
        "rectified_date": pd.to_datetime([None, None, None, "2026-11-10", None]),
        "closed_date": pd.to_datetime([None] * 5),
        "hazard_grade": [1, 1, 2, 2, 2],
        "place_type": ["仓库", "仓库", "车间", None, "车间"],
        "listed_level": ["区级", None, None, None, None],
        "source": "检查",
    }
)
FRAMES = ScopeFrames(UNITS, GRADES, ENTERPRISES, HAZARDS)


def test_rotation_expands_townships_and_skips_unknown_codes():
    top = top_unit(UNITS, ["D"], "D")
    views = rotation(["district", "townships", "trends", "T2", "ZZ"], UNITS, top, district_tier=2, township_tier=4)
    assert [(v.kind, v.code, v.tier) for v in views] == [
        ("district", "D", 2),
        ("township", "T1", 4),
        ("township", "T2", 4),
        ("trends", "D", 2),
        ("township", "T2", 4),
    ]
    assert rotation(["ZZ"], UNITS, top, district_tier=4, township_tier=3)[0].tier == 4  # never empty


def test_a_township_screen_shows_its_township_as_the_whole():
    top = top_unit(UNITS, ["T1"], "D")
    assert top["code"] == "T1"
    views = rotation(["district", "townships"], UNITS, top, district_tier=2, township_tier=4)
    assert [(v.kind, v.code, v.tier) for v in views] == [("district", "T1", 3)]  # its communities


def test_snapshot_figures_by_hand():
    snap = build_snapshot(FRAMES, top_code="D", district="D", today=TODAY, alert_days=7)
    h = snap.headline
    assert (h["enterprises"], h["grade_1"], h["grade_3"], h["grade_4"]) == (3, 1, 1, 1)
    assert h["found_month"] == 2  # H3 and H4 were found in November
    assert (h["open"], h["overdue"], h["major_open"], h["listed_open"]) == (4, 3, 2, 1)
    assert h["found_year"] == 5 and h["rectification_rate"] == pytest.approx(1 / 5)
    assert snap.trend["period"].tolist()[0] == d(2025, 12, 1) and len(snap.trend) == 12
    assert snap.communities_tier == 3
    assert snap.communities[["rank", "code", "overdue"]].values.tolist() == [[1, "C1", 3], [2, "C2", 0]]
    assert snap.communities["name"].iloc[0] == f"{XSS}社区"  # suffix shortened, escaped only when drawn
    assert set(snap.sectors["sector"]) == {"危险化学品", "商贸", "烟花爆竹"}
    assert snap.children["code"].tolist() == ["T1", "T2"] and snap.children_tier == 2


def test_the_alert_strip_lists_only_newly_overdue_major_hazards():
    snap = build_snapshot(FRAMES, top_code="D", district="D", today=TODAY, alert_days=7)
    assert snap.alerts[["hazard_code", "unit", "days_overdue", "listed_level"]].values.tolist() == [
        ["H1", "西街道", 3, "区级"]
    ]
    html = panels.alert_strip(snap, page=0, per_page=2, days=7)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;化工有限公司" in html and XSS not in html
    assert "逾期3天" in html and "区级挂牌" in html
    calm = build_snapshot(FRAMES, top_code="D", district="D", today=d(2026, 12, 20), alert_days=7)
    assert calm.alerts.empty
    assert "近7日无新增逾期重大隐患" in panels.alert_strip(calm, page=0, per_page=2, days=7)


def test_panels_escape_names_and_show_the_figures():
    snap = build_snapshot(FRAMES, top_code="D", district="D", today=TODAY, alert_days=7)
    ranking = panels.ranking_panel(snap)
    assert XSS not in ranking and "&lt;script&gt;" in ranking
    kpis = panels.headline(snap)
    assert 'data-kpi="overdue">3<' in kpis and 'data-kpi="rectification_rate">20.0<' in kpis
    views = rotation(["district", "trends"], UNITS, top_unit(UNITS, ["D"], "D"), district_tier=2, township_tier=4)
    centre = panels.centre_panel(snap, views[1], position=(1, 2), rotate_s=20, structure={2: 2, 3: 2, 4: 2})
    assert 'data-testid="wall-compare"' in centre and "2 / 2" in centre
    district = panels.centre_panel(
        snap, views[0], position=(0, 2), rotate_s=20, structure={2: 2, 3: 2, 4: 2}, legend={1: 1, 3: 1}
    )
    assert "全区 · 乡镇/街道风险四色图" in district and "重大 <b>1</b>" in district


def test_the_header_says_when_updates_stopped():
    now = dt.datetime(2026, 11, 24, 9, 30, 5)
    ok = panels.header(
        bureau="某区应急管理局", title="t", now=now, updated_at=now, grades_note="规则", interrupted=False, demo=False
    )
    assert "数据更新 09:30:05" in ok and "中断" not in ok and "09:30:05" in ok
    stale = panels.header(
        bureau="<b>x</b>", title="t", now=now, updated_at=now, grades_note="", interrupted=True, demo=True
    )
    assert "数据更新中断，显示 09:30 的数据" in stale and "&lt;b&gt;x&lt;/b&gt;" in stale and "演示数据" in stale


def test_the_clock_script_survives_the_sanitiser():
    assert "<" not in panels.clock_script("Asia/Shanghai")[len("<script>") : -len("</script>")]


def test_palette_variables_and_text_colours_of_the_stylesheet():
    css = panels.style(Palette())
    assert "--g1:#C8102E" in css and "--g0:#B0B0B0" in css
    background = "#0B1C36"  # the panels' colour (wall.css --panel)
    for colour in ("#F1F7FF", "#A9BDD6", "#4FC3F7", "#FFB547", "#FF7A85", "#6EE7B7"):  # text, muted, accent …
        assert colour.lower() in css.lower()
        assert contrast_ratio(colour, background) >= 4.5, colour


def test_axis_maximum_is_round_and_above_the_data():
    assert [panels._nice_max(v) for v in (0, 7, 10989, 1500, 101)] == [1.0, 8, 12000, 1500, 120]


def test_wall_settings_from_the_environment(monkeypatch):
    monkeypatch.setenv("GRIDRISK_WALL__VIEWS", "district, 340303200 ,trends")
    monkeypatch.setenv("GRIDRISK_WALL__ROTATE_S", "15")
    monkeypatch.setenv("GRIDRISK_PUBLIC_URL", "http://10.1.2.3:8501/")
    s = Settings()
    assert s.wall.views == ("district", "340303200", "trends") and s.wall.rotate_s == 15
    assert s.public_url == "http://10.1.2.3:8501"
    with pytest.raises(ValidationError, match="not understood"):
        WallSettings(views=("district", "every township"))
    with pytest.raises(ValidationError):
        WallSettings(rotate_s=0.5)
