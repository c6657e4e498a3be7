"""One view of the analyst's map, computed from the scope's frames: pure, no Streamlit, no DB.

``build_view`` takes the view state (dashboard.components.state) and the frames the data layer
read for the user's scope, and returns everything the page draws: the region and its
breadcrumb, the units of the drawn tier with their grades, the enterprise points, headline
figures, rankings, trend, overdue list and enterprise table. The page only renders it.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from dashboard.components.map_builder import RiskMapLayers
from dashboard.components.state import ViewState
from geo.grading import hazard_state
from geo.indicators import filter_enterprises, place_type_indicators, rank, region_indicators, trend

__all__ = [
    "RegionView",
    "build_view",
    "home_region",
    "rate_text",
    "resolve_region",
    "tier_choices",
    "map_layers",
    "TIER_NAMES_ZH",
]

TIER_NAMES_ZH = {1: "区县", 2: "乡镇/街道", 3: "社区/村", 4: "网格"}
GRADE_COLUMNS_SHOWN = (
    "grade",
    "score",
    "escalated_by",
    "enterprises",
    "hazards_open",
    "hazards_overdue",
    "hazards_major_open",
)


@dataclass(frozen=True)
class RegionView:
    region: pd.Series  # the viewed unit: code, name, tier, path
    breadcrumb: list[tuple[str, str, int]]  # (code, name, tier) from the district down
    drawn_tier: int
    tier_choices: list[int]
    units: gpd.GeoDataFrame  # drawn tier's units in the region, with grades and counts
    outlines: gpd.GeoDataFrame  # the region and the tiers between it and the drawn tier
    enterprises: pd.DataFrame  # filtered enterprises in the region (all placements)
    points: pd.DataFrame  # of them, those with coordinates in a cell
    hazards: pd.DataFrame  # hazards of the filtered enterprises, hazard filters applied
    headline: dict[str, float | int | None]
    children: pd.DataFrame  # indicators per drawn unit, with names and grades
    place_types: pd.DataFrame
    trend: pd.DataFrame
    overdue: pd.DataFrame
    as_of: dt.date
    period: tuple[dt.date, dt.date]


def home_region(units: gpd.GeoDataFrame) -> str | None:
    """The scope's top unit: the deepest unit on the path of every unit that is no one's
    ancestor (the district for a whole-district user, a township head's township, a grid
    officer's cell, or the village holding an officer's cells). ``units`` holds the scope's
    units and their ancestors (db.queries.scope_units)."""
    ancestors = {code for path in units["path"] for code in list(path)[:-1]}
    leaves = [list(path) for code, path in zip(units["code"], units["path"], strict=True) if code not in ancestors]
    if not leaves:
        return None
    common = leaves[0]
    for path in leaves[1:]:
        common = common[: len(os.path.commonprefix([common, path]))]
    present = set(units["code"])
    return next((code for code in reversed(common) if code in present), None)


def resolve_region(units: gpd.GeoDataFrame, state: ViewState, district: str) -> pd.Series:
    """The viewed unit: the state's region when the scope has it (an out-of-scope code in the
    URL shows nothing of it), else the scope's top unit (:func:`home_region`)."""
    by_code = units.set_index("code", drop=False)
    if state.region and state.region in by_code.index:
        return by_code.loc[state.region]
    home = home_region(units)
    if home is not None:
        return by_code.loc[home]
    if district in by_code.index:
        return by_code.loc[district]
    return units.sort_values(["tier", "code"]).iloc[0]


def tier_choices(units: gpd.GeoDataFrame, state: ViewState, district: str) -> list[int]:
    """The tiers the map can draw below the viewed unit (the unit's own tier for a cell)."""
    tier = int(resolve_region(units, state, district)["tier"])
    return [t for t in (2, 3, 4) if t > tier and (units["tier"] == t).any()] or [tier]


def breadcrumb(units: gpd.GeoDataFrame, region: pd.Series) -> list[tuple[str, str, int]]:
    """(code, name, tier) from the district down to ``region`` (:func:`resolve_region`), through
    the units of its path the scope has."""
    names = units.set_index("code")["name"]
    return [(code, str(names.get(code, code)), i + 1) for i, code in enumerate(region["path"]) if code in names.index]


def _hazard_filter(hazards: pd.DataFrame, state: ViewState, as_of: dt.date) -> pd.DataFrame:
    keep = pd.Series(True, index=hazards.index)
    if state.hazard_grade:
        keep &= hazards["hazard_grade"] == state.hazard_grade
    if state.hazard_state != "all":
        status = hazard_state(hazards, as_of)
        keep &= status["open" if state.hazard_state == "open" else "overdue"]
    return hazards[keep.to_numpy()]


def _overdue_list(hazards: pd.DataFrame, enterprises: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    status = hazard_state(hazards, as_of)
    overdue = hazards[status["overdue"].to_numpy()]
    names = enterprises.set_index("id")[["name", "uscc"]]
    out = overdue.join(names, on="enterprise_id")
    out = out.assign(days_overdue=(pd.Timestamp(as_of) - pd.to_datetime(out["deadline_date"])).dt.days)
    columns = [
        "hazard_code",
        "name",
        "uscc",
        "hazard_grade",
        "place_type",
        "found_date",
        "deadline_date",
        "days_overdue",
        "listed_level",
    ]
    return out.sort_values(["days_overdue", "hazard_code"], ascending=[False, True])[columns].reset_index(drop=True)


def build_view(
    state: ViewState,
    *,
    units: gpd.GeoDataFrame,
    grades: pd.DataFrame,
    enterprises: pd.DataFrame,
    hazards: pd.DataFrame,
    district: str,
    today: dt.date,
) -> RegionView:
    """Everything one view draws. ``units``: current units of the scope (code, name, tier,
    parent_code, path, geometry); ``grades``: region grades (code, grade, counts …) under the
    state's rule and date; ``enterprises``/``hazards``: the scope's rows (db.analysis)."""
    region = resolve_region(units, state, district)
    tier = int(region["tier"])
    names = units.set_index("code")["name"]
    choices = tier_choices(units, state, district)
    drawn = state.tier if state.tier in choices else choices[0]
    code = region["code"]
    in_region = units["path"].map(lambda path: code in path)
    drawn_units = units[in_region & (units["tier"] == drawn)]
    if drawn_units.empty:  # a cell: draw the cell itself
        drawn_units = units[units["code"] == code]
    shown_grades = grades.set_index("code")[list(GRADE_COLUMNS_SHOWN)]
    drawn_units = drawn_units.join(shown_grades, on="code")
    drawn_units["grade"] = pd.array(drawn_units["grade"], dtype="Int64")
    for column in ("enterprises", "hazards_open", "hazards_overdue", "hazards_major_open"):
        drawn_units[column] = drawn_units[column].fillna(0).astype(int)
    outlines = units[(units["code"] == code) | (in_region & (units["tier"] > tier) & (units["tier"] < drawn))]

    as_of = state.effective_as_of(today)
    start, end = state.period(today)
    chosen = filter_enterprises(
        enterprises,
        sectors=list(state.sectors),
        grades=list(state.grades),
        flags=list(state.flags),
        regions=[code],
    )
    chosen_hazards = hazards[hazards["enterprise_id"].isin(chosen["id"])]
    chosen_hazards = _hazard_filter(chosen_hazards, state, as_of)
    if state.hazard_grade or state.hazard_state != "all":
        chosen = chosen[chosen["id"].isin(chosen_hazards["enterprise_id"])]

    status = hazard_state(chosen_hazards, as_of)
    major = chosen_hazards.assign(major_open=status["major_open"], major_overdue=status["overdue_major"])
    per_enterprise = major.groupby("enterprise_id")[["major_open", "major_overdue"]].sum()
    points = chosen[chosen["cell_code"].notna() & chosen["lon"].notna()].join(per_enterprise, on="id")
    points[["major_open", "major_overdue"]] = points[["major_open", "major_overdue"]].fillna(0).astype(int)

    figure_units = pd.concat([units[units["code"] == code], drawn_units])[["code", "tier"]].drop_duplicates("code")
    indicators = region_indicators(figure_units, chosen, chosen_hazards, start, end).set_index("code")
    own = indicators.loc[code]
    headline = {
        "enterprises": int(len(chosen)),
        **{f"grade_{g}": int((chosen["grade"] == g).fillna(False).sum()) for g in (1, 2, 3, 4)},
        "found": int(own["found"]),
        "rectified": int(own["rectified"]),
        "rectification_rate": None if pd.isna(own["rectification_rate"]) else float(own["rectification_rate"]),
        "open": int(status["open"].sum()),
        "overdue": int(status["overdue"].sum()),
        "major_open": int(status["major_open"].sum()),
        "listed_open": int(status["listed_open"].sum()),
    }
    children = (
        drawn_units[["code", "name", "grade"]]
        .assign(parent=drawn_units["parent_code"].map(names).fillna("").to_numpy())
        .join(indicators.drop(columns=["tier"]), on="code")
    )
    children = children.assign(
        open=drawn_units["hazards_open"].to_numpy(), overdue_now=drawn_units["hazards_overdue"].to_numpy()
    )
    in_period = chosen_hazards[
        (chosen_hazards["found_date"] >= pd.Timestamp(start)) & (chosen_hazards["found_date"] <= pd.Timestamp(end))
    ]
    freq = "week" if (end - start).days <= 120 else "month"  # the chart labels follow the same rule
    return RegionView(
        region=region,
        breadcrumb=breadcrumb(units, region),
        drawn_tier=int(drawn_units["tier"].iloc[0]) if not drawn_units.empty else tier,
        tier_choices=choices,
        units=drawn_units,
        outlines=outlines,
        enterprises=chosen,
        points=points,
        hazards=chosen_hazards,
        headline=headline,
        children=rank(children, "overdue", n=len(children), label="code") if len(children) else children,
        place_types=rank(place_type_indicators(in_period, start, end), "found", n=12, label="place_type")
        if len(in_period)
        else pd.DataFrame(columns=["place_type", "found", "overdue", "rank"]),
        trend=trend(chosen_hazards, start, end, freq=freq),
        overdue=_overdue_list(chosen_hazards, chosen, as_of),
        as_of=as_of,
        period=(start, end),
    )


def rate_text(rate: float | None) -> str:
    return "—" if rate is None or np.isnan(rate) else f"{rate:.1%}"


def map_layers(view: RegionView, context: gpd.GeoDataFrame, *, rule_label: str, as_of: dt.date) -> RiskMapLayers:
    """What the risk map draws for a view: neighbouring areas only around the whole district."""
    return RiskMapLayers(
        units=view.units,
        outlines=view.outlines,
        context=context if int(view.region["tier"]) == 1 else context.iloc[0:0],
        points=view.points,
        legend_title=f"{TIER_NAMES_ZH[view.drawn_tier]}风险等级",
        legend_note=f"{rule_label} · 截至 {as_of:%Y-%m-%d}",
    )
