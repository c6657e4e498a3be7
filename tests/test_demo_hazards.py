"""Tests for the synthetic demo hazards, inspections and grid-staff roster (geo.demo_hazards)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geo.demo_enterprises import PROFILE_FILES, EnterpriseProfile, generate_demo_enterprises
from geo.demo_grid import generate_demo_grid
from geo.demo_hazards import (
    HAZARD_COLUMNS,
    HAZARD_PROFILE_FILES,
    INSPECTION_COLUMNS,
    STAFF_COLUMNS,
    DemoHazardError,
    HazardProfile,
    generate_demo_hazards,
    generate_demo_inspections,
    generate_demo_staff,
)

DATA = Path(__file__).parent.parent / "data"
TODAY = dt.date(2026, 11, 23)
SHARE_TOLERANCE = 0.02  # ±2 percentage points, the brief's tolerance for every share
YANSHAN = "燕山乡"  # source document risk area: 粉尘涉爆, 非煤矿山, 烟花爆竹
HIGH_RISK_SECTORS = {"危险化学品", "烟花爆竹", "非煤矿山", "民爆"}
PHONE = re.compile(r"^1[3-9]\d{9}$")
DATE_COLUMNS = ["发现日期", "整改期限", "整改完成日期", "验收销号日期"]


# --- inputs -----------------------------------------------------------------------------------


def _read(folder: str, name: str, **kwargs) -> pd.DataFrame:
    return pd.read_csv(DATA / folder / name, **kwargs)


@pytest.fixture(scope="module")
def grid_inputs() -> tuple[gpd.GeoDataFrame, pd.DataFrame, pd.DataFrame]:
    """The demo grid's inputs, read as loaders.demo.read_grid_inputs does (without importing it)."""
    outline = gpd.read_file(DATA / "boundaries" / "340303_bengshan_district.geojson")
    tier2 = _read("demo", "tier2_anchors_340303.csv", dtype={"code": str})
    villages = _read("boundaries", "villages_340303.csv", dtype=str)
    tier3 = villages.rename(columns={"streetCode": "parent_code"})[["code", "name", "parent_code"]]
    return outline, tier2, tier3


@pytest.fixture(scope="module")
def enterprise_profile() -> EnterpriseProfile:
    tables = {key: _read("demo", name, dtype=str, keep_default_na=False) for key, name in PROFILE_FILES.items()}
    return EnterpriseProfile.from_tables(tables)


def _hazard_tables() -> dict[str, pd.DataFrame]:
    return {key: _read("demo", name, dtype=str, keep_default_na=False) for key, name in HAZARD_PROFILE_FILES.items()}


@pytest.fixture(scope="module")
def profile() -> HazardProfile:
    return HazardProfile.from_tables(_hazard_tables())


def _district(grid_inputs, enterprise_profile, target_cells: int, n: int):
    outline, tier2, tier3 = grid_inputs
    grid = generate_demo_grid(outline, tier2, tier3, tier2, target_cells=target_cells)
    enterprises = generate_demo_enterprises(grid, tier2, enterprise_profile, n=n, today=TODAY)
    return grid, enterprises


@pytest.fixture(scope="module")
def small(grid_inputs, enterprise_profile, profile) -> dict:
    grid, enterprises = _district(grid_inputs, enterprise_profile, 300, 3000)
    hazards = generate_demo_hazards(enterprises, profile, today=TODAY)
    inspections = generate_demo_inspections(enterprises, hazards, profile, today=TODAY)
    return {"grid": grid, "enterprises": enterprises, "hazards": hazards, "inspections": inspections}


@pytest.fixture(scope="module")
def full(grid_inputs, enterprise_profile, profile) -> dict:
    """The demo's real size: 20,000 enterprises on 1,900 cells, about 200,000 hazards."""
    grid, enterprises = _district(grid_inputs, enterprise_profile, 1900, 20000)
    hazards = generate_demo_hazards(enterprises, profile, today=TODAY)
    inspections = generate_demo_inspections(enterprises, hazards, profile, today=TODAY)
    return {"grid": grid, "enterprises": enterprises, "hazards": hazards, "inspections": inspections}


@pytest.fixture(params=["small", "full"])
def demo(request) -> dict:
    return request.getfixturevalue(request.param)


def _days(column: pd.Series) -> pd.Series:
    return pd.to_datetime(column)


def _per_enterprise(hazards: pd.DataFrame, enterprises: pd.DataFrame) -> pd.Series:
    counts = hazards.groupby("统一社会信用代码").size()
    return counts.reindex(enterprises["统一社会信用代码"]).fillna(0).set_axis(enterprises.index)


# --- hazards: shape and closed loop --------------------------------------------------------------


def test_hazard_list_columns_and_numbers(demo):
    hazards = demo["hazards"]
    assert list(hazards.columns) == HAZARD_COLUMNS
    assert hazards["隐患编号"].is_unique
    assert hazards["隐患编号"].str.fullmatch(r"YH-\d{4}-\d{6}").all()
    years = hazards["隐患编号"].str.slice(3, 7).astype(int)
    assert (years == _days(hazards["发现日期"]).dt.year).all()
    assert set(hazards["统一社会信用代码"]) <= set(demo["enterprises"]["统一社会信用代码"])
    assert set(hazards["隐患等级"]) == {"一般", "重大"}
    assert hazards["隐患描述"].notna().all() and not hazards["隐患描述"].str.contains("{", regex=False).any()


def test_full_size_is_about_200000(full):
    assert 180_000 <= len(full["hazards"]) <= 220_000


def test_closed_loop_order_and_no_date_after_today(demo):
    hazards = demo["hazards"]
    found, deadline, rectified, closed = (_days(hazards[c]) for c in DATE_COLUMNS)
    today = pd.Timestamp(TODAY)
    start = today - pd.DateOffset(years=2)
    assert found.notna().all() and deadline.notna().all()
    assert ((found > start) & (found <= today)).all()
    assert (found <= deadline).all()
    assert (rectified.isna() | ((found <= rectified) & (rectified <= today))).all()
    assert (closed.isna() | (rectified.notna() & (rectified <= closed) & (closed <= today))).all()
    for column in DATE_COLUMNS:  # a bureau's export: plain dates, blanks empty
        assert all(isinstance(d, dt.date) for d in hazards[column].dropna())


def test_no_hazard_before_the_enterprise_was_founded(small):
    founded = small["enterprises"].set_index("统一社会信用代码")["成立日期"]
    hazards = small["hazards"]
    assert (hazards["发现日期"].to_numpy() >= founded.loc[hazards["统一社会信用代码"]].to_numpy()).all()


def _shares(hazards: pd.DataFrame, recent_days: int) -> dict[str, float]:
    """Each share with the denominator data/demo/README.md defines for it."""
    deadline, rectified = _days(hazards["整改期限"]), _days(hazards["整改完成日期"])
    today = pd.Timestamp(TODAY)
    due = deadline < today
    recent = due & (deadline >= today - pd.Timedelta(days=recent_days))
    old = deadline < today - pd.Timedelta(days=recent_days)
    major = hazards["隐患等级"] == "重大"
    shares = {
        "on_time_share": (rectified[due] <= deadline[due]).mean(),
        "overdue_recent_share": rectified[recent].isna().mean(),
        "overdue_old_share": rectified[old].isna().mean(),
        "major_share": major.mean(),
        "listed_share": hazards.loc[major, "挂牌督办"].notna().mean(),
    }
    sources = hazards["隐患来源"].value_counts(normalize=True)
    shares.update({f"source_{name}": float(sources.get(name, 0.0)) for name in ("自查", "检查", "专家", "举报")})
    return shares


def test_shares_match_the_profile_within_two_points(demo, profile):
    measured = _shares(demo["hazards"], int(profile.setting("recent_days")))
    expected = {key: profile.setting(key) for key in measured if not key.startswith("source_")}
    expected.update({f"source_{name}": share for name, share in profile.shares("隐患来源").items()})
    off = {
        key: (round(measured[key], 4), expected[key])
        for key in expected
        if abs(measured[key] - expected[key]) > SHARE_TOLERANCE
    }
    assert not off, f"measured vs profile beyond ±2 pp: {off}"


def test_hazards_per_enterprise_year_match_the_profile(full, profile):
    per_year = len(full["hazards"]) / len(full["enterprises"]) / 2
    assert per_year == pytest.approx(profile.setting("hazards_per_enterprise_year"), rel=0.05)


def test_overdue_hazards_are_mostly_recent_and_some_rectified_late(full, profile):
    hazards = full["hazards"]
    deadline, rectified = _days(hazards["整改期限"]), _days(hazards["整改完成日期"])
    today = pd.Timestamp(TODAY)
    overdue = rectified.isna() & (deadline < today)
    recent = deadline >= today - pd.Timedelta(days=int(profile.setting("recent_days")))
    assert (overdue & recent).sum() > (overdue & ~recent).sum() > 0
    assert ((rectified > deadline).sum()) > 0.05 * len(hazards)


def test_major_rows_and_only_they_carry_a_basis_and_listing(demo, profile):
    hazards = demo["hazards"]
    major = hazards["隐患等级"] == "重大"
    assert hazards.loc[major, "判定依据"].notna().all()
    assert hazards.loc[~major, "判定依据"].isna().all()
    assert hazards.loc[~major, "挂牌督办"].isna().all()
    assert set(hazards["挂牌督办"].dropna()) <= set(profile.shares("挂牌督办").index)
    assert hazards.loc[major, "判定依据"].str.startswith("《").all()


def test_judgement_basis_follows_the_sector(full):
    merged = full["hazards"].merge(full["enterprises"][["统一社会信用代码", "行业领域"]], on="统一社会信用代码")
    major = merged[merged["隐患等级"] == "重大"]
    assert major.loc[major["行业领域"] == "非煤矿山", "判定依据"].str.contains("金属非金属矿山").all()
    assert major.loc[major["行业领域"] == "烟花爆竹", "判定依据"].str.contains("烟花爆竹").all()
    assert major.loc[major["行业领域"] == "危险化学品", "判定依据"].str.contains("危险化学品").all()
    assert major.loc[major["行业领域"] == "冶金", "判定依据"].str.contains("应急管理部令第10号").all()


def test_more_hazards_in_risk_areas_and_high_risk_sectors(full):
    enterprises = full["enterprises"]
    counts = _per_enterprise(full["hazards"], enterprises)
    in_yanshan = enterprises["所属乡镇（街道）"] == YANSHAN
    assert counts[in_yanshan].mean() > 1.3 * counts[~in_yanshan].mean()
    high_risk = enterprises["行业领域"].isin(HIGH_RISK_SECTORS)
    assert counts[high_risk].mean() > 2 * counts[~high_risk].mean()
    dust = enterprises["特殊作业/风险标签"].fillna("").str.contains("粉尘涉爆")
    assert counts[dust].mean() > 2 * counts[~dust].mean()
    major = full["hazards"][full["hazards"]["隐患等级"] == "重大"]
    major_counts = _per_enterprise(major, enterprises)
    assert major_counts[high_risk].mean() > 5 * major_counts[~high_risk].mean()


def test_seasonality_follows_the_month_factors(full, profile):
    found = _days(full["hazards"]["发现日期"])
    first_full_month = (pd.Timestamp(TODAY) - pd.DateOffset(years=2)).to_period("M") + 1
    last_full_month = pd.Timestamp(TODAY).to_period("M") - 1
    months = found.dt.to_period("M")
    inside = (months >= first_full_month) & (months <= last_full_month)
    per_month = months[inside].value_counts()
    per_day = per_month / per_month.index.days_in_month  # February is shorter, not quieter
    by_calendar_month = per_day.groupby(per_day.index.month).mean()
    factors = profile.months.set_index("month")["factor"].loc[by_calendar_month.index]
    assert np.corrcoef(by_calendar_month.to_numpy(), factors.to_numpy())[0, 1] > 0.8
    assert by_calendar_month.loc[1] > by_calendar_month.loc[2]  # before 春节 busier than the holiday


def test_deterministic_for_a_seed(small, profile):
    again = generate_demo_hazards(small["enterprises"], profile, today=TODAY)
    pd.testing.assert_frame_equal(again, small["hazards"])
    other = generate_demo_hazards(small["enterprises"], profile, today=TODAY, seed=7)
    assert not other["隐患描述"].equals(small["hazards"]["隐患描述"])


def test_skips_rows_with_bad_or_repeated_codes(small, profile):
    enterprises = small["enterprises"].head(200)
    broken = enterprises.iloc[[0]].assign(统一社会信用代码=lambda f: f["统一社会信用代码"].str[:-1] + "0")
    if broken["统一社会信用代码"].iloc[0] == enterprises["统一社会信用代码"].iloc[0]:
        broken = broken.assign(统一社会信用代码=lambda f: f["统一社会信用代码"].str[:-1] + "1")
    listing = pd.concat([enterprises, broken, enterprises.iloc[[1]]], ignore_index=True)
    hazards = generate_demo_hazards(listing, profile, today=TODAY)
    assert set(hazards["统一社会信用代码"]) <= set(enterprises["统一社会信用代码"])
    assert broken["统一社会信用代码"].iloc[0] not in set(hazards["统一社会信用代码"])


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    seed=st.integers(0, 2**32 - 1),
    today=st.dates(dt.date(2024, 2, 28), dt.date(2031, 3, 1)),
)
def test_closed_loop_holds_for_any_seed_and_day(small, profile, seed, today):
    enterprises = small["enterprises"].head(400).assign(成立日期=dt.date(2000, 1, 1))
    hazards = generate_demo_hazards(enterprises, profile, today=today, seed=seed)
    found, deadline, rectified, closed = (_days(hazards[c]) for c in DATE_COLUMNS)
    stamp = pd.Timestamp(today)
    assert (found <= stamp).all() and (found <= deadline).all()
    assert (rectified.isna() | ((found <= rectified) & (rectified <= stamp))).all()
    assert (closed.isna() | ((rectified <= closed) & (closed <= stamp))).all()


# --- inspections --------------------------------------------------------------------------------


def test_inspections_link_every_inspected_hazard_once(demo):
    hazards, inspections = demo["hazards"], demo["inspections"]
    assert list(inspections.columns) == INSPECTION_COLUMNS
    assert inspections["检查编号"].is_unique
    assert set(inspections["统一社会信用代码"]) <= set(demo["enterprises"]["统一社会信用代码"])
    assert (inspections["检查日期"] <= TODAY).all()
    links = inspections.dropna(subset=["关联隐患编号"]).assign(隐患编号=lambda f: f["关联隐患编号"].str.split("、"))
    links = links.explode("隐患编号")
    assert links["隐患编号"].is_unique
    joined = links.merge(hazards, on="隐患编号", suffixes=("", "_hazard"), validate="one_to_one")
    assert (joined["统一社会信用代码"] == joined["统一社会信用代码_hazard"]).all()
    assert (joined["检查日期"] == joined["发现日期"]).all()
    inspected = hazards[hazards["隐患来源"].isin(["检查", "专家"])]
    assert set(joined["隐患编号"]) == set(inspected["隐患编号"])
    assert (joined.loc[joined["隐患来源"] == "专家", "检查类型"] == "专家").all()
    assert joined.loc[joined["隐患来源"] == "检查", "检查类型"].isin(["日常", "专项", "执法"]).all()
    counted = links.groupby("检查编号").size()
    problems = inspections.set_index("检查编号")["发现问题数"]
    assert (problems.loc[counted.index] == counted).all()
    assert (problems.drop(counted.index) == 0).all()


def test_inspections_have_units_teams_and_all_kinds(small):
    inspections = small["inspections"]
    assert set(inspections["检查类型"]) == {"日常", "专项", "执法", "专家"}
    assert inspections["检查单位"].notna().all() and not inspections["检查单位"].str.contains("{", regex=False).any()
    teams = inspections["检查人员"].str.split("、")
    assert (teams.str.len() == 2).all() and (teams.map(lambda t: len(set(t))) == 2).all()
    assert (inspections["发现问题数"] == 0).any()  # some inspections find nothing


def test_inspections_are_deterministic_and_check_their_inputs(small, profile):
    again = generate_demo_inspections(small["enterprises"], small["hazards"], profile, today=TODAY)
    pd.testing.assert_frame_equal(again, small["inspections"])
    with pytest.raises(DemoHazardError, match="not in enterprises"):
        generate_demo_inspections(small["enterprises"].iloc[10:], small["hazards"], profile, today=TODAY)


# --- staff ----------------------------------------------------------------------------------------


def _cover(roster: pd.DataFrame, role: str) -> pd.DataFrame:
    rows = roster[roster["角色"] == role].assign(code=lambda f: f["负责网格"].str.split("、"))
    return rows.explode("code")


@pytest.fixture(scope="module")
def roster(full) -> pd.DataFrame:
    return generate_demo_staff(full["grid"])


def test_every_cell_has_exactly_one_officer(full, roster):
    assert list(roster.columns) == STAFF_COLUMNS
    assert set(roster["角色"]) == {"网格员", "网格长"}
    cells = full["grid"][full["grid"]["tier"] == 4]
    officers = _cover(roster, "网格员")
    assert officers["code"].is_unique
    assert set(officers["code"]) == set(cells["code"])
    sizes = roster.loc[roster["角色"] == "网格员", "负责网格"].str.split("、").str.len()
    assert sizes.between(1, 3).all() and (sizes > 1).any()


def test_officers_cover_neighbouring_cells_of_one_village(full, roster):
    cells = full["grid"][full["grid"]["tier"] == 4].set_index("code")
    for codes in roster.loc[roster["角色"] == "网格员", "负责网格"].str.split("、"):
        if len(codes) > 1:
            assert cells.loc[codes, "parent_code"].nunique() == 1
            geometry = cells.loc[codes].geometry.to_numpy()
            assert shapely.intersects(geometry[:-1], geometry[1:]).all()


def test_each_village_has_one_leader_for_all_its_cells(full, roster):
    cells = full["grid"][full["grid"]["tier"] == 4]
    leaders = _cover(roster, "网格长")
    assert leaders["code"].is_unique and set(leaders["code"]) == set(cells["code"])
    village_of = cells.set_index("code")["parent_code"]
    per_leader = leaders.assign(village=village_of.loc[leaders["code"]].to_numpy()).groupby("姓名")["village"]
    assert (per_leader.nunique() == 1).all()
    assert per_leader.first().is_unique  # one leader per village
    assert len(per_leader.first()) == cells["parent_code"].nunique()


def test_phone_numbers_and_names(roster):
    assert roster["手机号码"].str.fullmatch(PHONE.pattern).all()
    assert roster["手机号码"].is_unique and roster["姓名"].is_unique
    assert roster["姓名"].str.len().between(2, 3).all()


def test_staff_works_on_a_three_tier_grid(small):
    grid = small["grid"][small["grid"]["tier"] <= 3]
    roster = generate_demo_staff(grid, seed=1)
    officers = _cover(roster, "网格员")
    assert officers["code"].is_unique and set(officers["code"]) == set(grid.loc[grid["tier"] == 3, "code"])
    pd.testing.assert_frame_equal(roster, generate_demo_staff(grid, seed=1))


# --- profile ----------------------------------------------------------------------------------


def test_profile_reports_every_problem_at_once():
    tables = _hazard_tables()
    tables["choices"] = tables["choices"].replace({"share": {"0.45": "0.55"}})
    tables["texts"] = pd.concat(
        [
            tables["texts"],
            pd.DataFrame([{"place_type": "月球", "sectors": "", "flags": "", "weight": "1", "description": "{who}"}]),
        ]
    )
    with pytest.raises(DemoHazardError) as caught:
        HazardProfile.from_tables(tables)
    message = str(caught.value)
    assert "隐患来源 shares" in message and "月球" in message and "'who'" in message


def test_profile_rejects_missing_settings():
    tables = _hazard_tables()
    tables["settings"] = tables["settings"][tables["settings"]["key"] != "major_share"]
    with pytest.raises(DemoHazardError, match="major_share"):
        HazardProfile.from_tables(tables)
