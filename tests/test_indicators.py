"""Hazard indicators (geo/indicators.py) on a hand-computed district."""

import datetime as dt

import pandas as pd

from geo.indicators import (
    filter_enterprises,
    newly_overdue,
    place_type_indicators,
    rank,
    region_indicators,
    sector_indicators,
    short_unit_name,
    trend,
)

UNITS = pd.DataFrame(
    {
        "code": ["D", "T1", "T2", "C1", "C2"],
        "tier": [1, 2, 2, 3, 3],
        "path": [["D"], ["D", "T1"], ["D", "T2"], ["D", "T1", "C1"], ["D", "T2", "C2"]],
    }
)
ENTERPRISES = pd.DataFrame(
    {
        "id": [1, 2, 3],
        "region_path": [["D", "T1", "C1"], ["D", "T1", "C1"], ["D", "T2", "C2"]],
        "sector": ["危险化学品", "商贸", "商贸"],
        "grade": pd.array([1, 4, None], dtype="Int64"),
        "special_flags": [["粉尘涉爆"], [], ["有限空间", "粉尘涉爆"]],
    }
)
d = dt.date
HAZARDS = pd.DataFrame(
    {
        "enterprise_id": [1, 1, 2, 3, 3],
        "found_date": [d(2026, 10, 5), d(2026, 10, 20), d(2026, 9, 1), d(2026, 10, 30), d(2026, 11, 2)],
        "deadline_date": [d(2026, 10, 15), d(2026, 11, 20), d(2026, 9, 30), d(2026, 11, 1), d(2026, 11, 30)],
        "rectified_date": [d(2026, 10, 10), None, None, d(2026, 11, 3), None],
        "hazard_grade": [2, 1, 2, 2, 2],
        "listed_level": [None, "市级", None, None, None],
    }
)


def test_region_indicators_for_october():
    out = region_indicators(UNITS, ENTERPRISES, HAZARDS, d(2026, 10, 1), d(2026, 10, 31)).set_index("code")
    # T1: found 2 in October (both enterprise 1), one rectified by 10-31 → 50 %; enterprise 2's
    # September hazard is overdue at the end of October.
    assert out.loc["T1", ["found", "rectified", "overdue", "major_open", "listed_open"]].tolist() == [2, 1, 1, 1, 1]
    assert out.loc["T1", "rectification_rate"] == 0.5 and out.loc["T1", "hazards_per_enterprise"] == 1.0
    # T2: found 10-30, rectified 11-03 — after the period: not rectified within it.
    assert out.loc["T2", ["found", "rectified"]].tolist() == [1, 0] and out.loc["T2", "rectification_rate"] == 0
    assert out.loc["D", "found"] == 3 and out.loc["D", "enterprises"] == 3


def test_no_hazards_found_means_no_rate_not_full_marks():
    out = region_indicators(UNITS, ENTERPRISES, HAZARDS, d(2026, 1, 1), d(2026, 1, 31)).set_index("code")
    assert pd.isna(out.loc["D", "rectification_rate"])


def test_filters_combine_and_empty_filters_do_nothing():
    assert filter_enterprises(ENTERPRISES)["id"].tolist() == [1, 2, 3]
    assert filter_enterprises(ENTERPRISES, sectors=["商贸"], flags=["粉尘涉爆"])["id"].tolist() == [3]
    assert filter_enterprises(ENTERPRISES, grades=[1, 2])["id"].tolist() == [1]
    assert filter_enterprises(ENTERPRISES, regions=["T1"])["id"].tolist() == [1, 2]


def test_monthly_and_weekly_trends_include_empty_periods():
    monthly = trend(HAZARDS, d(2026, 8, 15), d(2026, 11, 30), freq="month")
    assert monthly["period"].tolist() == [d(2026, 8, 1), d(2026, 9, 1), d(2026, 10, 1), d(2026, 11, 1)]
    assert monthly["found"].tolist() == [0, 1, 3, 1] and monthly["rectified"].tolist() == [0, 0, 1, 1]
    weekly = trend(HAZARDS, d(2026, 10, 28), d(2026, 11, 8), freq="week")
    assert weekly["period"].tolist() == [d(2026, 10, 26), d(2026, 11, 2)]  # Mondays
    assert weekly["found"].tolist() == [1, 1] and weekly["rectified"].tolist() == [0, 1]


def test_rank_is_stable_on_ties():
    out = region_indicators(UNITS, ENTERPRISES, HAZARDS, d(2026, 9, 1), d(2026, 11, 30))
    top = rank(out[out["tier"] == 3], "found", n=2)
    assert top[["code", "found", "rank"]].values.tolist() == [["C1", 3, 1], ["C2", 2, 2]]


def test_place_types_ranked_by_overdue():
    hazards = HAZARDS.assign(place_type=["仓库", "仓库", None, "车间", "车间"])
    out = place_type_indicators(hazards, d(2026, 10, 1), d(2026, 11, 25))
    # 仓库: the 10-20 hazard is past its 11-20 deadline; 未填写: the September hazard, still open.
    assert rank(out, "overdue", label="place_type")[["place_type", "found", "overdue"]].values.tolist() == [
        ["仓库", 2, 1],
        ["未填写", 0, 1],
        ["车间", 2, 0],
    ]


def test_sectors_of_the_hazards_enterprises():
    out = sector_indicators(HAZARDS, ENTERPRISES, d(2026, 10, 1), d(2026, 11, 25)).set_index("sector")
    # 危险化学品: enterprise 1's two October hazards, the 10-20 one overdue since 11-20;
    # 商贸: enterprises 2 (September hazard, overdue, found before the period) and 3 (two found).
    assert out.loc["危险化学品", ["found", "overdue"]].tolist() == [2, 1]
    assert out.loc["商贸", ["found", "overdue"]].tolist() == [2, 1]


def test_newly_overdue_is_overdue_since_at_most_n_days():
    # On 11-25 the 10-20 重大 hazard (deadline 11-20) has been overdue 5 days.
    assert newly_overdue(HAZARDS, d(2026, 11, 25), days=7)["days_overdue"].tolist() == [5]
    assert newly_overdue(HAZARDS, d(2026, 11, 25), days=4).empty
    assert newly_overdue(HAZARDS, d(2026, 11, 20), days=7).empty  # due today: not overdue yet
    # Any grade: the September hazard (deadline 09-30) is too old for a 7-day window.
    assert sorted(newly_overdue(HAZARDS, d(2026, 11, 25), days=7, grade=None)["days_overdue"]) == [5]


def test_short_unit_names_drop_the_administrative_suffix():
    assert [
        short_unit_name(n)
        for n in (
            "喻义巷社区居民委员会",
            "岗北村村民委员会",
            "湖滨社区行政事务管理中心",
            "龙滨社区居委会",
            "燕山乡",
            "居民委员会",
        )
    ] == ["喻义巷社区", "岗北村", "湖滨社区", "龙滨社区", "燕山乡", "居民委员会"]
