"""风险地图 (the default page): the analyst's four-colour map with drill-down, filters, figures, tables and exports.

state (URL) → cached scoped reads → dashboard.components.view_model → draw.

The map comes first. A session's first run sends the title, the breadcrumb and the map (its
document is cached per scope, data stamp and view), and computes nothing else: no view, no
enterprise or hazard rows when the map is cached. When the browser has drawn the map, it reports
and the page runs again with the filters, the figures, the ranking and the tabs (beside and below
the map: nothing moves it). Every later run sends the whole page, the map before the figures;
only the open tab is computed.
"""

from __future__ import annotations

import functools
import html

import pandas as pd
import streamlit as st

from config import get_settings
from dashboard.components import data, folium_view
from dashboard.components.charts import place_type_chart, trend_chart
from dashboard.components.filters import current_state, follow_filters, navigate, sidebar_filters
from dashboard.components.map_builder import build_risk_map
from dashboard.components.search import enterprise_page_link, enterprise_search
from dashboard.components.session import current_scope
from dashboard.components.table_rows import (
    ENTERPRISE_DEFAULT_COLUMNS,
    HAZARD_GRADES_ZH,
    enterprise_rows,
    hazard_rows,
)
from dashboard.components.tables import ExportContext, paged_table
from dashboard.components.ui import complete_page_later, demo_notice, page_setup
from dashboard.components.view_model import (
    TIER_NAMES_ZH,
    RegionView,
    breadcrumb,
    build_view,
    map_layers,
    rate_text,
    resolve_region,
    tier_choices,
)
from geo.grading import hazard_state
from geo.palette import GRADE_NAMES_ZH
from geo.safe_text import escape_markdown

MAP_DRAWN = "risk_map_drawn"  # set once the session's first map has been drawn
FIRST_PAINT_LIMIT_S = 4  # the rest of the page follows by then even if the map never reports
OVERDUE_COLUMNS = [
    "企业名称",
    "统一社会信用代码",
    "隐患编号",
    "隐患等级",
    "场所类型",
    "发现日期",
    "整改期限",
    "逾期天数",
    "挂牌督办",
]

page_setup("安全风险四色图")
settings = get_settings()
scope = current_scope()
today = settings.today()

st.title(f"{settings.bureau_name} · 安全风险四色图")
demo_notice()

stamp = data.data_stamp(scope.cache_key)
units, context = data.grid_and_context(scope.cache_key, stamp)
if not (units["tier"] == 1).any():
    st.warning("尚未载入区县边界。请运行 `python -m loaders outline 文件路径 --code-year 年份`。")
    st.stop()
if not (units["tier"] > 1).any():
    st.warning("尚未载入网格边界。请运行 `python -m loaders boundaries 文件路径`。")
    st.stop()

state = current_state(today)


@functools.cache  # once per run; a first paint whose map is cached needs neither (20,000 rows: 60 ms)
def scope_rows() -> tuple[pd.DataFrame, pd.DataFrame]:
    return data.scope_enterprises(scope.cache_key, stamp), data.scope_hazards(scope.cache_key, stamp)


# Until the session's first map is drawn, the view comes from the URL alone (what the filters
# would show), and nothing else competes with the map for the browser or the server.
first_paint = not st.session_state.get(MAP_DRAWN)
if not first_paint:
    enterprises, hazards = scope_rows()
    sectors = enterprises["sector"].dropna().value_counts().index.tolist()
    with st.sidebar:
        enterprise_search(scope, stamp, key="map_search", compact=True)
    choices = tier_choices(units, state, settings.district_code)
    state = follow_filters(
        state, sidebar_filters(state, units=units, sectors=sectors, tier_choices=choices, today=today)
    )
grades, provenance = data.region_grades(
    scope.cache_key, stamp, settings.district_code, state.rule, state.effective_as_of(today), today
)


@functools.cache  # once per run: the map (on a cache miss) and the page share it
def current_view() -> RegionView:
    enterprises, hazards = scope_rows()
    return build_view(
        state,
        units=units,
        grades=grades,
        enterprises=enterprises,
        hazards=hazards,
        district=settings.district_code,
        today=today,
    )


def risk_map():
    layers = map_layers(current_view(), context, rule_label=provenance.rule_label, as_of=provenance.as_of)
    return build_risk_map(
        layers, palette=settings.palette, basemap=settings.basemap, defaults=settings.map, base_url_path=base_url_path
    )


base_url_path = st.get_option("server.baseUrlPath") or ""
# The breadcrumb (区 › 街道 › 社区 › 网格) needs only the units: the view itself (every figure of
# the region, 0.2–0.4 s) is computed after a first paint, so it never holds the server while the
# map's frame loads. Everything of a first paint comes before the map, its one large message.
region = resolve_region(units, state, settings.district_code)
with st.container(horizontal=True, gap="small"):
    for code, name, tier in breadcrumb(units, region):
        is_here = code == region["code"]
        if st.button(
            name if is_here else f"{name} ›", key=f"crumb_{code}", disabled=is_here, help=TIER_NAMES_ZH.get(tier)
        ):
            navigate(state.with_changes(region=None if tier == 1 else code, tier=None, enterprise=None))
map_column, side_column = st.columns([5, 2], gap="medium")
if first_paint:
    side_column.caption("正在载入筛选、统计和列表……")
with map_column:
    map_doc = folium_view.cached_map_document(
        scope.cache_key,
        stamp,
        "risk_map",
        (
            tuple(sorted(state.with_changes(enterprise=None).to_params().items())),
            today.isoformat(),
            base_url_path,
            folium_view.settings_key(settings.palette, settings.basemap, settings.map),
        ),
        risk_map,
    )
    clicked = folium_view.show_map(
        map_doc,
        key="risk_map",
        height=settings.map.height_px,
        returned_objects=["last_active_drawing"],
        report_drawn=first_paint,
        on_change=functools.partial(st.session_state.__setitem__, MAP_DRAWN, True),
    )
    if first_paint and folium_view.has_drawn(clicked):  # (without on_change: e.g. a restored session)
        st.session_state[MAP_DRAWN] = True
    feature = (clicked or {}).get("last_active_drawing") or {}
    props = feature.get("properties") or {}
    if props.get("kind") == "region" and props.get("code") in set(units["code"]):
        if props["code"] != current_view().region["code"]:
            navigate(state.with_changes(region=props["code"], tier=None, enterprise=None))
    elif props.get("kind") == "enterprise":
        firms = scope_rows()[0]
        match = firms.loc[firms["id"] == props.get("id"), "uscc"]
        if len(match) and match.iloc[0] != state.enterprise:
            navigate(state.with_changes(enterprise=match.iloc[0]))
    if first_paint and st.session_state.get(MAP_DRAWN):
        st.rerun()

if first_paint:
    complete_page_later(MAP_DRAWN, after_s=FIRST_PAINT_LIMIT_S)
    st.stop()

view = current_view()
with side_column:
    h = view.headline
    # Each figure as wide as its number, wrapping: two a row beside a wide map, one on a laptop.
    with st.container(horizontal=True, wrap=True, gap="medium"):
        for label, value in (
            ("企业数", f"{h['enterprises']:,}"),
            ("重大/较大风险企业", f"{h['grade_1']} / {h['grade_2']}"),
            ("时段内发现隐患", f"{h['found']:,}"),
            ("整改率", rate_text(h["rectification_rate"])),
            ("未整改隐患", f"{h['open']:,}"),
            ("逾期未整改", f"{h['overdue']:,}"),
            ("重大隐患未整改", f"{h['major_open']:,}"),
            ("挂牌督办未销号", f"{h['listed_open']:,}"),
        ):
            st.metric(label, value, width="content")
    start, end = view.period
    st.caption(
        f"统计时段 {start:%Y-%m-%d} 至 {end:%Y-%m-%d}（按发现日期）；未整改、逾期为截至 {view.as_of:%Y-%m-%d} 的状态。"
        f" {provenance.note_zh}。地图颜色按分级规则对全部在册企业计算，筛选条件作用于企业点位、统计和列表。"
    )
    if not provenance.stored and view.as_of == today:
        st.info("今日风险等级尚未入库（每日与每次载入数据后自动计算），本页已按同一规则即时计算。")
    selected = enterprises[enterprises["uscc"] == state.enterprise] if state.enterprise else enterprises.iloc[0:0]
    if len(selected):
        firm = selected.iloc[0]
        st.subheader(escape_markdown(firm["name"]), anchor=False)
        enterprise_page_link(firm["uscc"], "打开一企一档")
        grade = GRADE_NAMES_ZH.get(firm["grade"], "未定级") if not pd.isna(firm["grade"]) else "未定级"
        cell_names = units.set_index("code")["name"]
        st.markdown(
            "\n".join(
                f"- **{label}**：{html.escape(str(value)) if value is not None and str(value) != 'nan' else '—'}"
                for label, value in (
                    ("统一社会信用代码", firm["uscc"]),
                    ("风险等级", grade),
                    ("行业领域", firm["sector"]),
                    ("监管分类", firm["supervision_class"]),
                    ("特殊标签", "、".join(firm["special_flags"]) or "无"),
                    ("所在网格", cell_names.get(firm["cell_code"], "未落格")),
                    ("地址", firm["address"]),
                    ("状态", firm["status"]),
                )
            )
        )
        own = hazards[hazards["enterprise_id"] == firm["id"]]
        open_items = own[own["rectified_date"].isna()].sort_values("deadline_date")
        st.caption(f"隐患 {len(own)} 条，其中未整改 {len(open_items)} 条")
        if len(open_items):
            st.dataframe(
                open_items[["hazard_code", "hazard_grade", "deadline_date", "place_type"]]
                .assign(hazard_grade=open_items["hazard_grade"].map(HAZARD_GRADES_ZH))
                .rename(
                    columns={
                        "hazard_code": "隐患编号",
                        "hazard_grade": "等级",
                        "deadline_date": "整改期限",
                        "place_type": "场所",
                    }
                ),
                hide_index=True,
                width="stretch",
                column_config={"整改期限": st.column_config.DateColumn("整改期限", format="YYYY-MM-DD")},
                placeholder="—",
            )
        if st.button("关闭企业详情", key="close_firm"):
            navigate(state.with_changes(enterprise=None))
    else:
        st.subheader(f"下级单元排名（{TIER_NAMES_ZH[view.drawn_tier]}）", anchor=False)
        st.caption("按逾期未整改隐患排序；点击地图上的单元进入下一级，点击企业点位查看企业详情。")
        ranking = view.children.head(12)
        st.dataframe(
            pd.DataFrame(
                {
                    "名称": ranking["name"],
                    "所属": ranking["parent"],
                    "等级": ranking["grade"].map(
                        lambda g: GRADE_NAMES_ZH.get(g, "无数据") if not pd.isna(g) else "无数据"
                    ),
                    "逾期": ranking["overdue"],
                    "未整改": ranking["open"],
                    "整改率": ranking["rectification_rate"].map(rate_text),
                }
            ),
            hide_index=True,
            width="stretch",
        )

# ---- charts and tables
filters_text = "；".join(
    part
    for part in (
        " › ".join(name for _, name, _ in view.breadcrumb),
        "行业：" + "、".join(state.sectors) if state.sectors else "",
        "等级：" + "、".join(GRADE_NAMES_ZH[g] for g in state.grades) if state.grades else "",
        "标签：" + "、".join(state.flags) if state.flags else "",
        f"时段：{start:%Y-%m-%d}至{end:%Y-%m-%d}",
    )
    if part
)
data_time = provenance.computed_at or f"{view.as_of:%Y-%m-%d}"
# Only the open tab is computed and sent (the district's enterprise table alone costs ≈ 0.7 s).
trend_tab, places_tab, overdue_tab, table_tab = st.tabs(
    ["隐患趋势", "场所类型排名", "逾期清单", "企业列表"], key="map_tab", on_change="rerun"
)
if trend_tab.open:
    with trend_tab:
        weekly = (end - start).days <= 120
        st.altair_chart(trend_chart(view.trend, weekly=weekly), width="stretch")
if places_tab.open:
    with places_tab:
        if len(view.place_types):
            st.altair_chart(place_type_chart(view.place_types), width="stretch")
        else:
            st.info("该时段内没有隐患。")
if overdue_tab.open:
    with overdue_tab:
        overdue = view.hazards[hazard_state(view.hazards, view.as_of)["overdue"].to_numpy()]
        st.caption(f"截至 {view.as_of:%Y-%m-%d} 逾期未整改的隐患；点击统一社会信用代码打开一企一档。")
        paged_table(
            hazard_rows(overdue, view.enterprises, view.as_of),
            key="tbl_overdue",
            export=ExportContext("逾期隐患清单", filters_text, data_time, f"逾期隐患_{view.as_of:%Y%m%d}"),
            sort_by="逾期天数",
            descending=True,
            columns=OVERDUE_COLUMNS,
        )
if table_tab.open:
    with table_tab:
        st.caption("筛选条件下的企业；点击统一社会信用代码打开一企一档。")
        paged_table(
            enterprise_rows(view.enterprises, view.hazards, units.set_index("code")["name"], view.as_of),
            key="tbl_enterprises",
            export=ExportContext("企业列表", filters_text, data_time, f"企业列表_{view.as_of:%Y%m%d}"),
            sort_by="风险等级",
            columns=ENTERPRISE_DEFAULT_COLUMNS,
            totals=["未整改隐患", "逾期隐患"],
        )
