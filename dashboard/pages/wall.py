"""大屏 (the wall screen): the leaders' kiosk view, 1920×1080 and 4K, dark, no mouse.

Two fragments update in place, without reloading the page: the figures (header, headline,
grades, trend, rankings) every ``wall.refresh_s`` seconds, and the centre view (district map,
each township's map, the townships compared) with the alert strip every ``wall.rotate_s``
seconds. All database work is in wall_data.refresh; the rest only draws the last good figures.
"""

from __future__ import annotations

import datetime as dt

import streamlit as st

from config import get_settings
from dashboard.components import wall_data
from dashboard.components import wall_panels as panels
from dashboard.components.kiosk import still_valid
from dashboard.components.session import current_viewer

settings = get_settings()
viewer = current_viewer()
wall = settings.wall
ALERTS_PER_PAGE = 2
CENTRE_WAITING = "wall_centre_waiting"  # the centre had nothing to draw yet

st.set_page_config(page_title=f"大屏 · {settings.bureau_name}", layout="wide", initial_sidebar_state="collapsed")
st.html(panels.style(settings.palette))
st.html(panels.clock_script(settings.timezone), unsafe_allow_javascript=True)


@st.fragment(run_every=wall.refresh_s)
def figures() -> None:
    if not still_valid(viewer):
        st.rerun(scope="app")  # the token was revoked: Home.py refuses it
    good = wall_data.refresh(viewer.scope, settings)
    interrupted = wall_data.interrupted_since() is not None
    st.html(
        panels.header(
            bureau=settings.bureau_name,
            title="安全生产风险监测大屏",
            now=dt.datetime.now(settings.tz),
            updated_at=good.fetched_at if good else None,
            grades_note=good.snapshot.rule_note if good else "",
            interrupted=interrupted,
            demo=settings.demo,
        )
    )
    if good is None:
        st.html(panels.message_page("正在连接数据服务", "连接恢复后自动显示，无需任何操作。"))
        return
    if st.session_state.pop(CENTRE_WAITING, False):
        st.rerun(scope="app")  # the first figures after an outage at start: draw the centre now
    snapshot = good.snapshot
    st.html(panels.headline(snapshot))
    st.html(panels.grade_panel(snapshot))
    st.html(panels.trend_panel(snapshot))
    st.html(panels.bar_panel("places", "隐患场所类型", snapshot.place_types, "place_type", note="近12个月 · 发现"))
    st.html(panels.ranking_panel(snapshot))
    st.html(panels.bar_panel("sectors", "行业领域隐患", snapshot.sectors, "sector", note="近12个月 · 发现"))


@st.fragment(run_every=wall.rotate_s)
def rotating() -> None:
    good = wall_data.last_good()
    if good is None:
        st.session_state[CENTRE_WAITING] = True
        return
    index, turns = wall_data.advance(good.views, wall.rotate_s)
    view = good.views[index]
    st.html(
        panels.centre_panel(
            good.snapshot,
            view,
            position=(index, len(good.views)),
            rotate_s=wall.rotate_s,
            structure=good.structure,
            legend=good.legends.get(view.key),
        )
    )
    st.html(panels.alert_strip(good.snapshot, page=turns, per_page=ALERTS_PER_PAGE, days=wall.alert_days))
    if view.key in good.maps:
        st.iframe(good.maps[view.key], height=616, alt=panels.MAP_TITLE)  # placed by wall.css


figures()
rotating()
