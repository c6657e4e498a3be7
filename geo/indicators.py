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

__all__ = ["filter_enterprises", "region_indicators", "place_type_indicators", "trend", "rank"]

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


def place_type_indicators(hazards: pd.DataFrame, start: dt.date, end: dt.date) -> pd.DataFrame:
    """Per 场所类型 (``place_type``; empty as 未填写): hazards found in the period and hazards
    overdue at its end. Columns: place_type, found, overdue."""
    found_at = pd.to_datetime(hazards["found_date"])
    in_period = (found_at >= pd.Timestamp(start)) & (found_at <= pd.Timestamp(end))
    frame = pd.DataFrame(
        {
            "place_type": hazards["place_type"].fillna("未填写").replace("", "未填写").to_numpy(),
            "found": in_period.astype(int).to_numpy(),
            "overdue": hazard_state(hazards, end)["overdue"].astype(int).to_numpy(),
        }
    )
    return frame.groupby("place_type", as_index=False)[["found", "overdue"]].sum()


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
