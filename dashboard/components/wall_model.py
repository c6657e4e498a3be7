"""The wall screen's figures and views, from the scope's frames: pure, no Streamlit, no DB.

Every figure comes from the analyst map's view model (``build_view``) and geo.indicators, so the
wall and the map never disagree: the wall only chooses the periods and the rankings.

- headline: enterprises by grade, hazards found this calendar month, the rectification rate of
  the last twelve months, and the open, overdue, open 重大 and open 挂牌督办 hazards today;
- the twelve-month trend, the top communities by overdue (then open) hazards, hazards by place
  type and by sector over the twelve months, the scope's townships compared;
- the alert strip: 重大隐患 that became overdue in the last ``alert_days`` days, with the
  enterprise's name (published by the bureau for 重大隐患; nothing personal);
- the rotation: which views the screen shows in turn.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import pandas as pd

from dashboard.components.map_builder import RiskMapLayers
from dashboard.components.state import ViewState, default_period
from dashboard.components.view_model import TIER_NAMES_ZH, RegionView, build_view
from geo.indicators import newly_overdue, sector_indicators, short_unit_name

__all__ = [
    "ScopeFrames",
    "WallView",
    "WallSnapshot",
    "rotation",
    "top_unit",
    "build_snapshot",
    "region_view",
    "map_layers",
]

TOP_COMMUNITIES = 10
TOP_CATEGORIES = 5  # place types and sectors shown


@dataclass(frozen=True)
class ScopeFrames:
    """What the data layer read for a scope (dashboard.components.data)."""

    units: gpd.GeoDataFrame  # current units: code, name, tier, parent_code, path, geometry
    grades: pd.DataFrame  # region grades under the default rule, today
    enterprises: pd.DataFrame
    hazards: pd.DataFrame


@dataclass(frozen=True)
class WallView:
    """One view of the rotation: ``district`` (the scope's map), ``township`` (one unit's map)
    or ``trends`` (the scope's townships compared)."""

    kind: str
    code: str  # the unit drawn (the scope's top unit for district and trends)
    name: str
    tier: int  # the tier drawn on the map

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.code}:{self.tier}"


def top_unit(units: pd.DataFrame, scope_codes: Sequence[str], district: str) -> pd.Series:
    """The unit a screen shows as a whole: the district when the scope holds it, the scope's
    one unit otherwise (a township's screen), or the district for a scope of several units."""
    by_code = units.set_index("code", drop=False)
    codes = list(scope_codes)
    if district not in codes and len(codes) == 1 and codes[0] in by_code.index:
        return by_code.loc[codes[0]]
    if district in by_code.index:
        return by_code.loc[district]
    return units.sort_values(["tier", "code"]).iloc[0]


def rotation(
    views: Sequence[str], units: pd.DataFrame, top: pd.Series, *, district_tier: int, township_tier: int
) -> list[WallView]:
    """The views in turn: ``district``, ``townships`` (each tier-2 unit under ``top``), ``trends``,
    or a unit code (that unit's map; codes outside the scope are skipped). Never empty."""
    top_code, top_tier = str(top["code"]), int(top["tier"])
    inside = units[units["path"].map(lambda path: top_code in path) & (units["code"] != top_code)]
    deepest = int(units["tier"].max())

    def drawn(tier: int, wanted: int) -> int:
        """The tier to draw a unit of ``tier`` by: ``wanted`` when below it, else the next one."""
        return tier if tier >= deepest else min(max(wanted, tier + 1), deepest)

    whole = WallView("district", top_code, str(top["name"]), drawn(top_tier, district_tier))
    out: list[WallView] = []
    for view in views:
        if view == "district":
            out.append(whole)
        elif view == "trends":
            out.append(WallView("trends", top_code, str(top["name"]), whole.tier))
        elif view == "townships":
            for row in inside[inside["tier"] == 2].sort_values("code").itertuples():
                out.append(WallView("township", row.code, row.name, drawn(2, township_tier)))
        else:
            match = inside[inside["code"] == view]
            if len(match):
                row = match.iloc[0]
                out.append(WallView("township", row["code"], row["name"], drawn(int(row["tier"]), township_tier)))
    return out or [whole]


@dataclass(frozen=True)
class WallSnapshot:
    """Everything the wall shows besides the map, as of one day."""

    as_of: dt.date
    top_code: str
    top_name: str
    headline: dict[str, float | int | None]
    period: tuple[dt.date, dt.date]  # the twelve months of the trend, rankings and rate
    trend: pd.DataFrame  # period (first day of the month), found, rectified
    communities: pd.DataFrame  # rank, code, name, parent, open, overdue
    communities_tier: int  # 3 (communities/villages) below a township or district
    place_types: pd.DataFrame  # place_type, found, overdue
    sectors: pd.DataFrame  # sector, found, overdue
    children: pd.DataFrame  # code, name, grade, enterprises, found, rectification_rate, open, overdue, major_open
    children_tier: int
    alerts: pd.DataFrame  # hazard_code, enterprise, unit, deadline_date, days_overdue, listed_level
    rule_note: str


def region_view(
    code: str,
    tier: int | None,
    frames: ScopeFrames,
    *,
    district: str,
    today: dt.date,
    period: tuple[dt.date, dt.date] | None = None,
) -> RegionView:
    """The analyst map's view of one unit (no filters) over ``period`` (default: twelve months)."""
    start, end = period or default_period(today)
    return build_view(
        ViewState(region=code, tier=tier, start=start, end=end),
        units=frames.units,
        grades=frames.grades,
        enterprises=frames.enterprises,
        hazards=frames.hazards,
        district=district,
        today=today,
    )


def _ranked_units(view: RegionView, n: int) -> pd.DataFrame:
    children = view.children.assign(name=view.children["name"].map(short_unit_name))
    children = children.assign(parent=children["parent"].map(short_unit_name))
    ranked = children.sort_values(["overdue", "open", "code"], ascending=[False, False, True]).head(n)
    return ranked.assign(rank=range(1, len(ranked) + 1))[["rank", "code", "name", "parent", "open", "overdue"]]


def _alerts(view: RegionView, units: pd.DataFrame, today: dt.date, days: int) -> pd.DataFrame:
    recent = newly_overdue(view.hazards, today, days=days, grade=1)
    firms = view.enterprises.set_index("id")
    names = units.set_index("code")["name"]
    top_tier = int(view.region["tier"])

    def unit_of(path: list[str]) -> str:
        code = path[top_tier] if len(path) > top_tier else path[-1]
        return short_unit_name(str(names.get(code, "")))

    return pd.DataFrame(
        {
            "hazard_code": recent["hazard_code"].to_numpy(),
            "enterprise": recent["enterprise_id"].map(firms["name"]).fillna("").to_numpy(),
            "unit": recent["enterprise_id"].map(firms["region_path"]).map(unit_of).to_numpy(),
            "deadline_date": pd.to_datetime(recent["deadline_date"]).dt.date.to_numpy(),
            "days_overdue": recent["days_overdue"].to_numpy(),
            "listed_level": recent["listed_level"].to_numpy(),
        }
    )


def build_snapshot(
    frames: ScopeFrames,
    *,
    top_code: str,
    district: str,
    today: dt.date,
    alert_days: int,
    rule_note: str = "",
) -> WallSnapshot:
    """The wall's figures for the unit ``top_code`` (see the module docstring)."""
    month = region_view(top_code, None, frames, district=district, today=today, period=(today.replace(day=1), today))
    year = region_view(top_code, 3, frames, district=district, today=today)
    compared = region_view(top_code, 2, frames, district=district, today=today)
    h = month.headline
    headline = {
        "enterprises": h["enterprises"],
        **{f"grade_{g}": h[f"grade_{g}"] for g in (1, 2, 3, 4)},
        "found_month": h["found"],
        "found_year": year.headline["found"],
        "rectification_rate": year.headline["rectification_rate"],
        "open": h["open"],
        "overdue": h["overdue"],
        "major_open": h["major_open"],
        "listed_open": h["listed_open"],
    }
    children = compared.children.assign(name=compared.children["name"].map(short_unit_name))
    children = children.sort_values("code")[
        ["code", "name", "grade", "enterprises", "found", "rectification_rate", "open", "overdue", "major_open"]
    ]
    sectors = sector_indicators(year.hazards, year.enterprises, *year.period)
    return WallSnapshot(
        as_of=today,
        top_code=top_code,
        top_name=str(year.region["name"]),
        headline=headline,
        period=year.period,
        trend=year.trend,
        communities=_ranked_units(year, TOP_COMMUNITIES),
        communities_tier=year.drawn_tier,
        place_types=year.place_types.head(TOP_CATEGORIES)[["place_type", "found", "overdue"]],
        sectors=sectors.sort_values(["found", "sector"], ascending=[False, True]).head(TOP_CATEGORIES),
        children=children.reset_index(drop=True),
        children_tier=compared.drawn_tier,
        alerts=_alerts(year, frames.units, today, alert_days),
        rule_note=rule_note,
    )


def map_layers(view: RegionView, context: gpd.GeoDataFrame, *, legend_note: str) -> RiskMapLayers:
    """The wall map of one view: fills and outlines only (no enterprise points on a wall)."""
    return RiskMapLayers(
        units=view.units.assign(name=view.units["name"].map(short_unit_name)),
        outlines=view.outlines,
        context=context if int(view.region["tier"]) == 1 else context.iloc[0:0],
        points=view.points.iloc[0:0],
        legend_title=f"{TIER_NAMES_ZH[view.drawn_tier]}风险等级",
        legend_note=legend_note,
    )
