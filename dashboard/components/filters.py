"""The one shared sidebar of filters, imported by every page (never copied), kept in the URL.

The view state lives in the URL's query parameters (dashboard.components.state), so a view can
be shared and reloaded. Widgets are seeded from the URL on a session's first run and whenever
the page navigates (a map click, the breadcrumb); afterwards the widgets drive the URL.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from dashboard.components.state import HAZARD_STATES, SPECIAL_FLAGS, ViewState
from dashboard.components.view_model import TIER_NAMES_ZH
from geo.grading import RULES
from geo.palette import GRADE_NAMES_ZH

__all__ = ["current_state", "follow_filters", "navigate", "sidebar_filters"]

_PENDING = "_gr_pending_state"
_SEEDED = "_gr_widgets_seeded"
_ALL = "全部"
_HAZARD_GRADES = {0: "全部", 1: "重大隐患", 2: "一般隐患"}
_WIDGET_KEYS = ("flt_sector", "flt_grade", "flt_flag", "flt_hgrade", "flt_hstate", "flt_period", "flt_rule", "flt_asof")


def current_state(today: dt.date) -> ViewState:
    """The view from the URL, or the view the page navigated to on its last run."""
    pending = st.session_state.pop(_PENDING, None)
    if pending is not None:
        st.query_params.from_dict(pending.to_params())
        _seed_widgets(pending, today)
        return pending
    state = ViewState.from_params(st.query_params.to_dict(), today=today)
    # Streamlit drops the values of widgets a run did not draw, so after another page (the
    # enterprise file) the filters would come back at their defaults: seed them from the URL.
    if not st.session_state.get(_SEEDED) or any(key not in st.session_state for key in _WIDGET_KEYS):
        _seed_widgets(state, today)
    return state


def navigate(state: ViewState) -> None:
    """Go to another view: seeds the widgets before they are drawn again, then reruns."""
    st.session_state[_PENDING] = state
    st.rerun()


def follow_filters(state: ViewState, chosen: ViewState) -> ViewState:
    """The view after the sidebar: a filter change applies in this run (the URL follows, no
    second run of the page); a change of region re-seeds the region's widgets, so it navigates."""
    if chosen == state:
        return state
    if chosen.region != state.region:
        navigate(chosen)
    st.query_params.from_dict(chosen.to_params())
    return chosen


def _township_of(state: ViewState, path_of: dict[str, list[str]]) -> str:
    path = path_of.get(state.region or "", [])
    return path[1] if len(path) > 1 else _ALL


def _seed_widgets(state: ViewState, today: dt.date) -> None:
    start, end = state.period(today)
    st.session_state.update(
        {
            _SEEDED: True,
            "flt_sector": list(state.sectors),
            "flt_grade": list(state.grades),
            "flt_flag": list(state.flags),
            "flt_hgrade": state.hazard_grade or 0,
            "flt_hstate": state.hazard_state,
            "flt_period": (start, end),
            "flt_rule": state.rule,
            "flt_asof": state.as_of or today,
            "flt_period_custom": state.start is not None or state.end is not None,
        }
    )


def sidebar_filters(
    state: ViewState,
    *,
    units: pd.DataFrame,
    sectors: list[str],
    tier_choices: list[int],
    today: dt.date,
) -> ViewState:
    """Draw the filters; return the state they select (the URL follows)."""
    path_of = dict(zip(units["code"], units["path"], strict=True))
    townships = units[units["tier"] == 2].sort_values("code")
    township_names = dict(zip(townships["code"], townships["name"], strict=True))
    current_township = _township_of(state, path_of)
    with st.sidebar:
        st.header("筛选")
        township = st.selectbox(
            "乡镇/街道",
            [_ALL, *township_names],
            index=(
                [_ALL, *township_names].index(current_township) if current_township in (_ALL, *township_names) else 0
            ),
            format_func=lambda code: township_names.get(code, code),
            key=f"flt_township_{state.region or 'root'}",
        )
        tier = st.radio(
            "地图层级",
            tier_choices,
            index=tier_choices.index(state.tier) if state.tier in tier_choices else 0,
            format_func=lambda t: TIER_NAMES_ZH.get(t, str(t)),
            horizontal=True,
            key=f"flt_tier_{state.region or 'root'}",
        )
        chosen_sectors = st.multiselect("行业领域", sectors, key="flt_sector", placeholder="全部行业")
        chosen_grades = st.multiselect(
            "企业风险等级", [1, 2, 3, 4], format_func=GRADE_NAMES_ZH.get, key="flt_grade", placeholder="全部等级"
        )
        chosen_flags = st.multiselect("特殊标签", list(SPECIAL_FLAGS), key="flt_flag", placeholder="不限")
        hazard_grade = st.selectbox("隐患等级", list(_HAZARD_GRADES), format_func=_HAZARD_GRADES.get, key="flt_hgrade")
        hazard_state = st.radio(
            "隐患状态", list(HAZARD_STATES), format_func=HAZARD_STATES.get, horizontal=True, key="flt_hstate"
        )
        period = st.date_input("统计时段（发现日期）", key="flt_period", max_value=today, format="YYYY-MM-DD")
        st.divider()
        rule = st.selectbox("分级规则", list(RULES), format_func=lambda name: RULES[name].label, key="flt_rule")
        as_of = st.date_input("风险等级截至日期", key="flt_asof", max_value=today, format="YYYY-MM-DD")
        if st.button("重置筛选", width="stretch"):
            navigate(ViewState(region=state.region))

    new_region, new_tier = state.region, tier if tier != (tier_choices[0] if tier_choices else None) else None
    if township != current_township:
        new_region, new_tier = (None if township == _ALL else township), None
    start, end = period if isinstance(period, tuple) and len(period) == 2 else state.period(today)
    default_start, default_end = ViewState().period(today)
    custom_period = (start, end) != (default_start, default_end)
    return state.with_changes(
        region=new_region,
        tier=new_tier,
        sectors=tuple(chosen_sectors),
        grades=tuple(chosen_grades),
        flags=tuple(chosen_flags),
        hazard_grade=hazard_grade or None,
        hazard_state=hazard_state,
        start=start if custom_period else None,
        end=end if custom_period else None,
        rule=rule,
        as_of=as_of if isinstance(as_of, dt.date) and as_of != today else None,
        enterprise=state.enterprise if new_region == state.region else None,
    )
