"""Tests for the synthetic demo enterprise list (geo.demo_enterprises)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo.chinese_crs import bd09_to_wgs84, gcj02_to_wgs84
from geo.demo_enterprises import (
    BAD_ROW_COLUMNS,
    BAD_ROW_KINDS,
    ENTERPRISE_COLUMNS,
    HUAISHANG_POINT_WGS84,
    PROFILE_FILES,
    DemoEnterpriseError,
    EnterpriseProfile,
    add_bad_rows,
    demo_enterprise_list,
    generate_demo_enterprises,
)
from geo.demo_grid import generate_demo_grid
from geo.uscc import uscc_problems

DATA = Path(__file__).parent.parent / "data"
TODAY = dt.date(2025, 6, 30)
N = 20000
SHARE_TOLERANCE = 0.02  # ±2 percentage points
YANSHAN = "340303200"  # 燕山乡
FIREWORK_UNITS = {"340303003", "340303005", YANSHAN}  # 纬二路街道, 宏业村街道, 燕山乡


# --- inputs -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bengshan() -> tuple[gpd.GeoDataFrame, pd.DataFrame, pd.DataFrame]:
    from loaders.demo import read_grid_inputs

    return read_grid_inputs()


@pytest.fixture(scope="module")
def grid(bengshan) -> gpd.GeoDataFrame:
    outline, tier2, tier3 = bengshan
    return generate_demo_grid(outline, tier2, tier3, tier2, target_cells=1900)


def _read_tables() -> dict[str, pd.DataFrame]:
    return {
        key: pd.read_csv(DATA / "demo" / name, dtype=str, keep_default_na=False) for key, name in PROFILE_FILES.items()
    }


@pytest.fixture(scope="module")
def profile() -> EnterpriseProfile:
    return EnterpriseProfile.from_tables(_read_tables())


@pytest.fixture(scope="module")
def listing(grid, bengshan, profile):
    return demo_enterprise_list(grid, bengshan[1], profile, n=N, today=TODAY)


@pytest.fixture(scope="module")
def good(listing) -> pd.DataFrame:
    return listing.table.iloc[:N]


def _to_wgs84(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Listed coordinates back to WGS84, as a loader would."""
    lon, lat = frame["经度"].to_numpy(dtype=float), frame["纬度"].to_numpy(dtype=float)
    out_lon, out_lat = np.full(len(frame), np.nan), np.full(len(frame), np.nan)
    for system, inverse in (("GCJ-02", gcj02_to_wgs84), ("BD-09", bd09_to_wgs84)):
        mask = (frame["坐标系"] == system).to_numpy()
        out_lon[mask], out_lat[mask] = inverse(lon[mask], lat[mask])
    return out_lon, out_lat


@pytest.fixture(scope="module")
def located(good, grid) -> pd.DataFrame:
    """Each good row with the tier-4 cell, village and township its WGS84 point falls in."""
    cells = grid[grid["tier"] == 4].reset_index(drop=True)
    points = shapely.points(*_to_wgs84(good))
    point_index, cell_index = cells.sindex.query(points, predicate="within")
    assert len(np.unique(point_index)) == len(point_index)  # never in two cells
    cell = np.full(len(good), None, dtype=object)
    cell[point_index] = cells["code"].to_numpy()[cell_index]
    codes = pd.Series(cell, index=good.index, dtype=object)
    return good.assign(cell_code=codes, village_code=codes.str[:12], town_code=codes.str[:9])


def _expected_sector_shares(profile: EnterpriseProfile) -> pd.Series:
    return profile.sectors.groupby("sector")["share"].sum()


def _tolerance(count: int) -> float:
    # Shares are drawn by quota, exact to one enterprise: a sector of 4 firms cannot show 2 pp.
    return max(SHARE_TOLERANCE, 1.0 / count)


# --- shape of the list ------------------------------------------------------------------------


def test_columns_rows_and_sequence(listing):
    table = listing.table
    assert list(table.columns) == ENTERPRISE_COLUMNS
    assert len(table) == N + 6
    assert table["序号"].tolist() == list(range(1, N + 7))
    assert list(listing.bad_rows.columns) == BAD_ROW_COLUMNS
    assert sorted(listing.bad_rows["row"]) == list(range(N, N + 6))


def test_text_is_believable(good, grid):
    assert good["企业名称"].is_unique
    assert good["地址"].str.match(r"^(安徽省)?蚌埠市蚌山区").all()
    towns = set(grid.loc[grid["tier"] == 2, "name"])
    assert set(good["所属乡镇（街道）"]) == towns
    # The address names the real tier-2/3 unit where it names one at all.
    in_yanshan = good[good["所属乡镇（街道）"] == "燕山乡"]
    assert in_yanshan["地址"].str.contains("燕山乡").mean() > 0.5
    assert good["经营状态"].value_counts(normalize=True)["在营"] > 0.9
    assert good["主要负责人"].str.len().between(2, 3).all()
    assert "联系电话" not in good.columns


def test_founding_dates_are_before_today(good):
    founded = pd.to_datetime(good["成立日期"])
    assert founded.max() <= pd.Timestamp(TODAY)
    assert founded.min() >= pd.Timestamp(TODAY) - pd.DateOffset(years=41)


# --- shares match the profile -----------------------------------------------------------------


def test_sector_shares(good, profile):
    measured = good["行业领域"].value_counts(normalize=True)
    expected = _expected_sector_shares(profile)
    assert set(measured.index) == set(expected.index)
    difference = (measured - expected).abs()
    assert (difference <= SHARE_TOLERANCE).all(), difference.sort_values().tail()
    # Quotas: within one enterprise of the table, not only within 2 pp.
    subtypes = good["行业类别"].value_counts().reindex(profile.sectors["subtype"]).fillna(0)
    assert (abs(subtypes.to_numpy() - N * profile.sectors["share"].to_numpy()) <= 1).all()


def test_flag_rates_per_sector(good, profile):
    sectors = profile.sectors
    for flag in profile.flags:
        weighted = (sectors["share"] * sectors[f"flag_{flag}"]).groupby(sectors["sector"]).sum()
        expected = weighted / sectors.groupby("sector")["share"].sum()
        has_flag = good["特殊作业/风险标签"].fillna("").str.split("、").map(lambda labels, f=flag: f in labels)
        measured = has_flag.groupby(good["行业领域"]).mean()
        counts = good["行业领域"].value_counts()
        for sector, rate in expected.items():
            assert abs(measured[sector] - rate) <= _tolerance(counts[sector]), (flag, sector, measured[sector], rate)


def test_supervision_shares(good, profile):
    classes = profile.sector_classes.set_index("sector")
    values = [c.removeprefix("class_") for c in classes.columns if c.startswith("class_")]
    assert set(good["监管分类"]) <= set(values)
    counts = good["行业领域"].value_counts()
    for sector, group in good.groupby("行业领域"):
        measured = group["监管分类"].value_counts(normalize=True).reindex(values, fill_value=0)
        expected = classes.loc[sector, [f"class_{v}" for v in values]].to_numpy(dtype=float)
        assert (abs(measured.to_numpy() - expected) <= _tolerance(counts[sector])).all(), sector
    overall = good["监管分类"].value_counts(normalize=True).reindex(values, fill_value=0)
    share = _expected_sector_shares(profile)
    expected_overall = (classes[[f"class_{v}" for v in values]].mul(share, axis=0)).sum()
    assert (abs(overall.to_numpy() - expected_overall.to_numpy()) <= SHARE_TOLERANCE).all()


def _banded_grades(frame: pd.DataFrame, profile: EnterpriseProfile) -> pd.Series:
    """The grade column, with assessed rows banded from their inputs (bands as data)."""
    grade = frame["风险等级"].copy()
    for method, factors in (("LEC", ["LEC_L", "LEC_E", "LEC_C"]), ("LS", ["LS_L", "LS_S"])):
        inputs = frame[factors].astype(float)
        assessed = inputs.notna().all(axis=1)
        score = inputs[assessed].prod(axis=1).round(6)
        bands = profile.assessment_bands[profile.assessment_bands["method"] == method].sort_values("min_score")
        position = np.searchsorted(bands["min_score"].to_numpy(), score.to_numpy(), side="right") - 1
        grade[assessed] = bands["grade"].to_numpy()[position]
    return grade


def test_grades_and_assessments(good, profile):
    lec = good[["LEC_L", "LEC_E", "LEC_C"]].notna()
    ls = good[["LS_L", "LS_S"]].notna()
    # Inputs come whole (all factors of one method) and replace the grade.
    assert (lec.all(axis=1) | ~lec.any(axis=1)).all()
    assert (ls.all(axis=1) | ~ls.any(axis=1)).all()
    assessed = lec.all(axis=1) | ls.all(axis=1)
    assert not (lec.all(axis=1) & ls.all(axis=1)).any()
    assert good.loc[assessed, "风险等级"].isna().all()
    assert good.loc[~assessed, "风险等级"].isin(profile.grades).all()
    assert good["LS_L"].dropna().between(1, 5).all()
    classes = profile.sector_classes.set_index("sector")
    counts = good["行业领域"].value_counts()
    measured_assessed = assessed.groupby(good["行业领域"]).mean()
    expected_assessed = classes["assessed_LEC"] + classes["assessed_LS"]
    grades = _banded_grades(good, profile)
    for sector, group in grades.groupby(good["行业领域"]):
        tolerance = _tolerance(counts[sector])
        assert abs(measured_assessed[sector] - expected_assessed[sector]) <= tolerance, sector
        measured = group.value_counts(normalize=True).reindex(profile.grades, fill_value=0).to_numpy()
        expected = classes.loc[sector, [f"grade_{g}" for g in profile.grades]].to_numpy(dtype=float)
        assert (abs(measured - expected) <= tolerance).all(), sector
    # Most enterprises are 低 or 一般 (a realistic list).
    assert grades.isin(["低", "一般"]).mean() > 0.9


def test_major_hazard_installations_rank_high(good, profile):
    grades = _banded_grades(good, profile)
    flagged = good["特殊作业/风险标签"].fillna("").str.contains("重大危险源")
    worse = grades.isin(["重大", "较大"])
    assert worse[flagged].mean() > 2 * worse[~flagged].mean()


def test_coordinate_systems_split_60_40(good):
    shares = good["坐标系"].value_counts(normalize=True)
    assert set(shares.index) == {"GCJ-02", "BD-09"}
    assert shares["GCJ-02"] == pytest.approx(0.6, abs=SHARE_TOLERANCE)
    assert shares["BD-09"] == pytest.approx(0.4, abs=SHARE_TOLERANCE)
    # Six decimals, as AMap and Baidu return them.
    assert (good["经度"].round(6) == good["经度"]).all()


# --- places -----------------------------------------------------------------------------------


def test_every_good_row_lies_in_its_own_village(located, grid):
    assert located["cell_code"].notna().all()
    villages = grid[grid["tier"] == 3].set_index("code")["name"]
    place = villages.reindex(located["village_code"]).to_numpy()
    # 所属社区（村） is the village's place name: its committee name minus the committee suffix.
    assert all(name.startswith(claimed) for name, claimed in zip(place, located["所属社区（村）"], strict=True))
    towns = grid[grid["tier"] == 2].set_index("code")["name"]
    assert (towns.reindex(located["town_code"]).to_numpy() == located["所属乡镇（街道）"].to_numpy()).all()


def test_cells_hold_two_to_forty_enterprises(located, grid):
    cells = grid.loc[grid["tier"] == 4, "code"]
    counts = located["cell_code"].value_counts().reindex(cells, fill_value=0)
    assert counts.between(2, 40).mean() >= 0.9
    # Tier-2 units keep their expected counts (the density table), within 3 %.
    expected = pd.read_csv(DATA / "demo" / "tier2_anchors_340303.csv", dtype={"code": str})
    expected = expected.set_index("code")["expected_enterprises"]
    per_unit = located["town_code"].value_counts()
    ratio = per_unit / (N * expected / expected.sum())
    assert ratio.between(0.97, 1.03).all(), ratio


def test_risk_areas_hold(located):
    in_yanshan = located["town_code"] == YANSHAN
    mining = located["行业领域"] == "非煤矿山"
    dust = located["特殊作业/风险标签"].fillna("").str.contains("粉尘涉爆")
    assert mining.sum() > 0 and dust.sum() > 0
    assert in_yanshan[mining].all()
    assert in_yanshan[dust].all()
    fireworks = located["行业领域"] == "烟花爆竹"
    assert fireworks.sum() > 0
    assert set(located.loc[fireworks, "town_code"]) <= FIREWORK_UNITS
    hazchem = located.loc[located["行业领域"] == "危险化学品", "行业类别"]
    assert (hazchem == "加油加气站").sum() > 0
    assert (hazchem == "液化气储存经营").sum() > 0
    assert located.loc[located["行业类别"] == "加油加气站", "企业名称"].str.contains("加油|加气").all()


# --- identity ---------------------------------------------------------------------------------


def test_usccs_are_valid_and_unique(good):
    assert uscc_problems(good["统一社会信用代码"]).isna().all()
    assert good["统一社会信用代码"].is_unique
    assert good["统一社会信用代码"].str[2:8].isin(["340303", "340300"]).all()
    # Organisation codes starting MA were issued from the 2015-10-01 reform on.
    new_style = good["统一社会信用代码"].str[8:10] == "MA"
    after_reform = pd.to_datetime(good["成立日期"]) >= pd.Timestamp("2015-10-01")
    assert (new_style == after_reform).all()
    # Sole traders (个体工商户, entity type 92) never carry a company name.
    sole = good["统一社会信用代码"].str[:2] == "92"
    assert sole.any() and not good.loc[sole, "企业名称"].str.contains("公司").any()


def test_same_seed_gives_the_same_list(listing, grid, bengshan, profile):
    again = generate_demo_enterprises(grid, bengshan[1], profile, n=N, today=TODAY)
    pd.testing.assert_frame_equal(again, listing.table.iloc[:N])


def test_another_seed_gives_another_valid_list(grid, bengshan, profile):
    before = (grid.copy(), bengshan[1].copy())
    frame = generate_demo_enterprises(grid, bengshan[1], profile, seed=7, n=400, today=TODAY)
    pd.testing.assert_frame_equal(grid, before[0])
    pd.testing.assert_frame_equal(bengshan[1], before[1])
    assert len(frame) == 400
    assert uscc_problems(frame["统一社会信用代码"]).isna().all()
    assert frame["统一社会信用代码"].is_unique and frame["企业名称"].is_unique
    other = generate_demo_enterprises(grid, bengshan[1], profile, seed=8, n=400, today=TODAY)
    assert not frame["统一社会信用代码"].equals(other["统一社会信用代码"])


# --- bad rows ---------------------------------------------------------------------------------


def _bad(listing, kind: str) -> pd.DataFrame:
    rows = listing.bad_rows.loc[listing.bad_rows["kind"] == kind, "row"]
    return listing.table.iloc[rows.to_numpy()]


def test_bad_rows_are_marked(listing):
    marks = listing.bad_rows
    assert marks["kind"].value_counts().to_dict() == {
        "missing_coordinates": 2,
        "outside_district": 1,
        "bad_uscc_check": 1,
        "swapped_lon_lat": 1,
        "duplicate_uscc": 1,
    }
    assert set(marks["kind"]) == set(BAD_ROW_KINDS)
    assert (listing.table["序号"].iloc[marks["row"]].to_numpy() == marks["序号"].to_numpy()).all()


def _valid_and_new(rows: pd.DataFrame, good: pd.DataFrame) -> None:
    assert uscc_problems(rows["统一社会信用代码"]).isna().all()
    assert not rows["统一社会信用代码"].isin(good["统一社会信用代码"]).any()
    assert not rows["企业名称"].isin(good["企业名称"]).any()
    assert rows["企业名称"].str.endswith("分公司").all()


def test_rows_without_coordinates(listing, good):
    rows = _bad(listing, "missing_coordinates")
    assert rows["经度"].isna().all() and rows["纬度"].isna().all()
    _valid_and_new(rows, good)
    assert rows["统一社会信用代码"].is_unique


def test_row_across_the_huai_river(listing, good, bengshan):
    row = _bad(listing, "outside_district")
    _valid_and_new(row, good)
    lon, lat = _to_wgs84(row)
    assert (lon[0], lat[0]) == pytest.approx(HUAISHANG_POINT_WGS84, abs=1e-5)
    point = shapely.Point(lon[0], lat[0])
    assert not bengshan[0].geometry.iloc[0].contains(point)
    context = gpd.read_file(DATA / "boundaries" / "3403_bengbu_context_districts.geojson")
    assert context.loc[context.contains(point), "name"].tolist() == ["淮上区"]


def test_row_with_a_bad_check_character(listing, good):
    row = _bad(listing, "bad_uscc_check")
    assert uscc_problems(row["统一社会信用代码"]).tolist() == ["check_digit"]
    assert row["企业名称"].str.endswith("分公司").all()
    assert row["经度"].notna().all()


def test_row_with_swapped_coordinates(listing, good, grid):
    row = _bad(listing, "swapped_lon_lat")
    _valid_and_new(row, good)
    assert row["经度"].iloc[0] < 90 < row["纬度"].iloc[0]
    unswapped = row.assign(经度=row["纬度"], 纬度=row["经度"])
    district = grid.geometry[grid["tier"] == 1].iloc[0]
    assert district.contains(shapely.Point(*(v[0] for v in _to_wgs84(unswapped))))


def test_row_repeating_an_earlier_uscc(listing, good):
    mark = listing.bad_rows.set_index("kind").loc["duplicate_uscc"]
    row = listing.table.iloc[int(mark["row"])]
    earlier = listing.table.iloc[int(mark["duplicate_of_row"])]
    assert int(mark["duplicate_of_row"]) < N
    assert row["统一社会信用代码"] == earlier["统一社会信用代码"]
    assert row["企业名称"] == earlier["企业名称"]
    assert row["从业人数"] != earlier["从业人数"]
    assert (listing.table["统一社会信用代码"] == row["统一社会信用代码"]).sum() == 2


def test_add_bad_rows_leaves_the_input_alone(good):
    before = good.copy()
    table, marks = add_bad_rows(good, np.random.default_rng(1))
    pd.testing.assert_frame_equal(good, before)
    pd.testing.assert_frame_equal(table.iloc[: len(good)], good)
    assert len(marks) == 6


# --- errors -----------------------------------------------------------------------------------


def _broken(change) -> dict[str, pd.DataFrame]:
    tables = _read_tables()
    change(tables)
    return tables


def test_profile_problems_are_reported_together():
    def change(tables):
        tables["sectors"].loc[0, "share"] = "0.5"
        tables["areas"].loc[0, "value"] = "粉尘爆炸"
        tables["options"] = tables["options"][tables["options"]["value"] != "BD-09"]

    with pytest.raises(DemoEnterpriseError) as caught:
        EnterpriseProfile.from_tables(_broken(change))
    message = str(caught.value)
    assert "shares sum to" in message
    assert "粉尘爆炸" in message
    assert "坐标系" in message


def test_missing_table_is_named():
    tables = _read_tables()
    del tables["words"]
    with pytest.raises(DemoEnterpriseError, match="words"):
        EnterpriseProfile.from_tables(tables)


def test_unknown_tier2_code_is_reported(grid, bengshan):
    def change(tables):
        tables["areas"].loc[0, "allowed_tier2"] = "340303999"

    profile = EnterpriseProfile.from_tables(_broken(change))
    with pytest.raises(DemoEnterpriseError, match="340303999"):
        generate_demo_enterprises(grid, bengshan[1], profile, n=100, today=TODAY)


def test_risk_areas_that_overfill_a_unit_are_reported(grid, bengshan):
    def change(tables):
        # Every enterprise in 燕山乡: far more than the density table gives it.
        extra = pd.DataFrame(
            [
                {
                    "kind": "sector",
                    "value": "商贸",
                    "allowed_tier2": YANSHAN,
                    "preferred_tier2": "",
                    "preferred_weight": "1",
                    "source": "test",
                }
            ]
        )
        tables["areas"] = pd.concat([tables["areas"], extra], ignore_index=True)

    profile = EnterpriseProfile.from_tables(_broken(change))
    with pytest.raises(DemoEnterpriseError, match=YANSHAN):
        generate_demo_enterprises(grid, bengshan[1], profile, n=1000, today=TODAY)
