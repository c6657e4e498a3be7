"""Hazard indicators the bureaus report (DOMAIN.md §3): per region and period, trends, rankings.

Pure: DataFrames in, DataFrames out. Definitions, shown beside the numbers in the UI:

- 发现 (found): hazards found within the period.
- 整改 (rectified): of those, rectified by the period's end.
- 整改率 (rectification rate): rectified / found; no hazards found → no rate (not 100 %).
- 逾期 (overdue), 重大未整改 (major open), 挂牌督办 (listed open): the state at the period's end
  (geo.grading.hazard_state), whenever the hazard was found.
- 每企业隐患 (hazards per enterprise): found / enterprises of the region.

A region's figures cover the hazards of the enterprises in its stored ancestry (``region_path``).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from geo.grading import hazard_state

__all__ = [
    "filter_enterprises",
    "region_indicators",
    "place_type_indicators",
    "sector_indicators",
    "newly_overdue",
    "trend",
    "rank",
    "short_unit_name",
]

INDICATOR_COLUMNS = (
    "enterprises",
    "found",
    "rectified",
    "rectification_rate",
    "overdue",
    "major_open",
    "listed_open",
    "hazards_per_enterprise",
)


def filter_enterprises(
    enterprises: pd.DataFrame,
    *,
    sectors: list[str] | None = None,
    grades: list[int] | None = None,
    flags: list[str] | None = None,
    regions: list[str] | None = None,
) -> pd.DataFrame:
    """The enterprises matching every given filter (a filter left as None or [] is not applied):
    sector in ``sectors``, grade in ``grades``, any of ``flags``, ancestry holding any of ``regions``
    (e.g. township codes)."""
    keep = pd.Series(True, index=enterprises.index)
    if sectors:
        keep &= enterprises["sector"].isin(sectors)
    if grades:
        keep &= enterprises["grade"].isin(grades).fillna(False).astype(bool)
    if flags:
        wanted = set(flags)
        keep &= enterprises["special_flags"].map(lambda items: bool(wanted.intersection(items or ())))
    if regions:
        wanted_regions = set(regions)
        keep &= enterprises["region_path"].map(lambda path: bool(wanted_regions.intersection(path)))
    return enterprises[keep.to_numpy()]


def _per_enterprise(hazards: pd.DataFrame, start: dt.date, end: dt.date) -> pd.DataFrame:
    found_at = pd.to_datetime(hazards["found_date"])
    rectified_at = pd.to_datetime(hazards["rectified_date"])
    in_period = (found_at >= pd.Timestamp(start)) & (found_at <= pd.Timestamp(end))
    state = hazard_state(hazards, end)
    flags = pd.DataFrame(
        {
            "found": in_period,
            "rectified": in_period & rectified_at.notna() & (rectified_at <= pd.Timestamp(end)),
            "overdue": state["overdue"],
            "major_open": state["major_open"],
            "listed_open": state["listed_open"],
        }
    ).astype(int)
    return flags.groupby(hazards["enterprise_id"].to_numpy()).sum()


def region_indicators(
    units: pd.DataFrame, enterprises: pd.DataFrame, hazards: pd.DataFrame, start: dt.date, end: dt.date
) -> pd.DataFrame:
    """Indicators per unit (``units``: code, tier, path) for the period ``start``–``end``
    (inclusive), over ``enterprises`` (id, region_path; already filtered as wanted) and their
    hazards. Columns: code, tier, INDICATOR_COLUMNS."""
    counts = _per_enterprise(hazards[hazards["enterprise_id"].isin(enterprises["id"])], start, end)
    frame = pd.DataFrame({"id": enterprises["id"].to_numpy(), "code": list(enterprises["region_path"])})
    frame = frame.join(counts, on="id").fillna(0).assign(enterprises=1).explode("code")
    sums = frame.groupby("code")[["enterprises", "found", "rectified", "overdue", "major_open", "listed_open"]].sum()
    out = units[["code", "tier"]].join(sums, on="code").fillna(0)
    out = out.astype({c: "int64" for c in sums.columns})
    with np.errstate(divide="ignore", invalid="ignore"):
        out["rectification_rate"] = (out["rectified"] / out["found"]).where(out["found"] > 0)
        out["hazards_per_enterprise"] = (out["found"] / out["enterprises"]).where(out["enterprises"] > 0)
    return out[["code", "tier", *INDICATOR_COLUMNS]].reset_index(drop=True)


def _found_and_overdue(keys: pd.Series, hazards: pd.DataFrame, start: dt.date, end: dt.date, name: str) -> pd.DataFrame:
    """Hazards found in the period and overdue at its end, per key (one key per hazard; empty
    keys as 未填写). Columns: ``name``, found, overdue."""
    found_at = pd.to_datetime(hazards["found_date"])
    in_period = (found_at >= pd.Timestamp(start)) & (found_at <= pd.Timestamp(end))
    frame = pd.DataFrame(
        {
            name: keys.fillna("未填写").replace("", "未填写").to_numpy(),
            "found": in_period.astype(int).to_numpy(),
            "overdue": hazard_state(hazards, end)["overdue"].astype(int).to_numpy(),
        }
    )
    return frame.groupby(name, as_index=False)[["found", "overdue"]].sum()


def place_type_indicators(hazards: pd.DataFrame, start: dt.date, end: dt.date) -> pd.DataFrame:
    """Per 场所类型 (``place_type``; empty as 未填写): hazards found in the period and hazards
    overdue at its end. Columns: place_type, found, overdue."""
    return _found_and_overdue(hazards["place_type"], hazards, start, end, "place_type")


def sector_indicators(hazards: pd.DataFrame, enterprises: pd.DataFrame, start: dt.date, end: dt.date) -> pd.DataFrame:
    """Per 行业领域 of the hazard's enterprise (``enterprises``: id, sector; unknown as 未填写):
    hazards found in the period and overdue at its end. Columns: sector, found, overdue."""
    sector_of = enterprises.set_index("id")["sector"]
    return _found_and_overdue(hazards["enterprise_id"].map(sector_of), hazards, start, end, "sector")


def newly_overdue(hazards: pd.DataFrame, as_of: dt.date, *, days: int, grade: int | None = 1) -> pd.DataFrame:
    """Hazards (of ``grade``, 1 = 重大隐患; None for all) that are overdue on ``as_of`` and whose
    deadline passed at most ``days`` days before it: the ones that have just become overdue.
    Rows of ``hazards`` with ``days_overdue``, most recently overdue first."""
    state = hazard_state(hazards, as_of)
    deadline = pd.to_datetime(hazards["deadline_date"])
    recent = deadline >= pd.Timestamp(as_of) - pd.Timedelta(days=days)
    keep = state["overdue"] & recent
    if grade is not None:
        keep &= hazards["hazard_grade"] == grade
    out = hazards[keep.to_numpy()]
    out = out.assign(days_overdue=(pd.Timestamp(as_of) - pd.to_datetime(out["deadline_date"])).dt.days)
    sort_by = [c for c in ("days_overdue", "hazard_code") if c in out.columns]
    return out.sort_values(sort_by, ascending=[True] * len(sort_by)).reset_index(drop=True)


def trend(hazards: pd.DataFrame, start: dt.date, end: dt.date, *, freq: str = "month") -> pd.DataFrame:
    """Hazards found and rectified per week (starting Monday) or month within start–end, every
    period present (zeros included). Columns: period (first day), found, rectified."""
    rule = {"week": "W-MON", "month": "MS"}[freq]
    periods = pd.date_range(pd.Timestamp(start), pd.Timestamp(end), freq=rule)
    first = pd.Timestamp(start).to_period("W" if freq == "week" else "M").start_time
    index = pd.DatetimeIndex([first, *periods]).unique().sort_values()

    def per_period(dates: pd.Series) -> pd.Series:
        dates = pd.to_datetime(dates)
        dates = dates[(dates >= pd.Timestamp(start)) & (dates <= pd.Timestamp(end))]
        keys = dates.dt.to_period("W-SUN" if freq == "week" else "M").dt.start_time
        return keys.value_counts().reindex(index, fill_value=0)

    return pd.DataFrame(
        {
            "period": index.date,
            "found": per_period(hazards["found_date"]).to_numpy(),
            "rectified": per_period(hazards["rectified_date"].dropna()).to_numpy(),
        }
    )


def rank(frame: pd.DataFrame, by: str, *, n: int = 10, label: str = "code") -> pd.DataFrame:
    """The top ``n`` rows by ``by`` (descending; ties broken by ``label`` for a stable order),
    with a 1-based rank column."""
    ranked = frame.sort_values([by, label], ascending=[False, True]).head(n).reset_index(drop=True)
    return ranked.assign(rank=range(1, len(ranked) + 1))


# Suffixes of 统计用区划 names that say what kind of unit it is, not which: shortened on screens
# read from across a room (喻义巷社区居民委员会 → 喻义巷社区, 某村村民委员会 → 某村).
_NAME_SUFFIXES = (
    ("社区居民委员会", "社区"),
    ("居民委员会", "社区"),
    ("社区居委会", "社区"),
    ("居委会", "社区"),
    ("村民委员会", ""),
    ("社区行政事务管理中心", "社区"),
    ("行政事务管理中心", ""),
)


def short_unit_name(name: str) -> str:
    """A unit's name without its administrative suffix (never shortened to nothing).

    Examples
    --------
    >>> short_unit_name("喻义巷社区居民委员会"), short_unit_name("岗北村村民委员会")
    ('喻义巷社区', '岗北村')
    """
    for suffix, replacement in _NAME_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)] + replacement
    return name
