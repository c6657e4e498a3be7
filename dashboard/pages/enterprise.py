"""一企一档 (the enterprise file), addressed by USCC: ``/enterprise?uscc=91340300MA6RD9LF4K``.

state (the URL's USCC) → cached scoped read (db.enterprise_file) → draw: identity, the grade and
how it was derived, supervision class and flags, a small map of the enterprise in its cell with
the cell's grid officer, the hazards' closed loop (open items first) and the inspections.

An enterprise outside the viewer's scope is "未找到该企业", by the same read and the same code
path as an unknown USCC.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from config import get_settings
from dashboard.components import data
from dashboard.components.enterprise_map import EnterprisePlace, build_enterprise_map
from dashboard.components.search import enterprise_search, page_link_if_open
from dashboard.components.session import current_viewer
from dashboard.components.table_rows import hazard_rows, inspection_rows
from dashboard.components.tables import ExportContext, paged_table
from dashboard.components.ui import demo_notice, page_setup
from db.enterprise_file import EnterpriseFile
from geo.safe_text import escape_markdown

NOT_FOUND = "未找到该企业"
MAP_PAGE = "pages/risk_map.py"  # relative to Home.py, where pages are registered
PLACEMENT_ZH = {
    "no_coordinates": "无坐标",
    "outside_district": "坐标在本辖区外",
    "no_cell": "坐标不在任何网格内",
    "swapped_lonlat": "经纬度疑似颠倒",
}
CLASS_ZH = {"A": "A类（重点监管）", "B": "B类（一般监管）", "C": "C类"}

page_setup("一企一档")
settings = get_settings()
viewer = current_viewer()
scope = viewer.scope
today = settings.today()
stamp = data.data_stamp(scope.cache_key)
uscc = (st.query_params.get("uscc") or "").strip()

with st.sidebar:
    enterprise_search(scope, stamp, key="ent_sidebar_search", compact=True)

if not uscc:
    st.title("一企一档")
    st.caption("输入企业名称、统一社会信用代码或地址中的几个字即可查找；也可从地图和各表格打开企业档案。")
    enterprise_search(scope, stamp, key="ent_search")
    st.stop()

file = data.enterprise_file(scope.cache_key, stamp, uscc, today)
if file is None:
    st.title("一企一档")
    st.warning(NOT_FOUND)
    st.caption("请核对统一社会信用代码，或在下方查找企业。")
    enterprise_search(scope, stamp, key="ent_search")
    st.stop()


def _value(value: object) -> str:
    if value is None or (not isinstance(value, (list, str)) and pd.isna(value)) or value == "":
        return "—"
    return escape_markdown(value)


def _facts(pairs: list[tuple[str, object]]) -> None:
    st.markdown("\n".join(f"- **{label}**：{_value(value)}" for label, value in pairs))


def _identity(file: EnterpriseFile) -> None:
    e = file.enterprise
    left, right = st.columns(2)
    with left:
        _facts(
            [
                ("统一社会信用代码", e["uscc"]),
                ("地址", e["address"]),
                ("行业领域", " / ".join(v for v in (e["sector"], e["sector_class"]) if v)),
                ("企业规模", e["scale"]),
                ("从业人数", None if e["employees"] is None else f"{int(e['employees']):,} 人"),
                ("成立日期", e["established_date"]),
            ]
        )
    with right:
        _facts(
            [
                ("经营状态", e["status"]),
                ("安全生产标准化", e["standardisation_level"] or "未评定"),
                ("安全生产承包服务机构", e["contractor"]),
                ("监管部门", e["department"]),
                ("主要负责人", e["leader"]),
                ("所在网格", " › ".join(name for _, name, _ in file.units) or "未落格"),
            ]
        )


def _grade(file: EnterpriseFile) -> None:
    e = file.enterprise
    stages = file.hazards["stage"].value_counts()
    with st.container(horizontal=True, gap="large"):
        st.metric("风险等级", file.grade.grade_zh, width="content")
        st.metric(
            "监管分类", CLASS_ZH.get(e["supervision_class"] or "", e["supervision_class"] or "—"), width="content"
        )
        st.metric("未整改隐患", int(stages.get("overdue", 0) + stages.get("open", 0)), width="content")
        st.metric("逾期未整改", int(stages.get("overdue", 0)), width="content")
        st.metric("检查记录", f"{len(file.inspections)} 次", width="content")
    st.caption(escape_markdown(f"等级来源：{file.grade.explanation_zh}"))
    flags = e["special_flags"]
    with st.container(horizontal=True, gap="small", vertical_alignment="center"):
        st.caption("特殊标签：" + ("" if flags else "无"))
        for flag in flags:
            st.badge(escape_markdown(flag), color="violet", icon=":material/warning:")


def _location(file: EnterpriseFile) -> None:
    e = file.enterprise
    if e["placement"] != "placed":
        st.warning(
            f"该企业未落入网格（{PLACEMENT_ZH.get(e['placement'], e['placement'])}）：不在地图上显示，"
            "仅全区范围的用户可见。请在企业名单中补正坐标后重新载入。"
        )
    if file.has_location:
        place = EnterprisePlace(
            name=e["name"],
            lon=float(e["lon"]),
            lat=float(e["lat"]),
            grade=file.grade.grade,
            cell_name=file.units[-1][1] if file.units else None,
            cell_outline=file.cell_outline,
        )
        small_map = build_enterprise_map(
            place,
            palette=settings.palette,
            basemap=settings.basemap,
            defaults=settings.map,
            base_url_path=st.get_option("server.baseUrlPath") or "",
        )
        st_folium(small_map, key="enterprise_map", height=300, use_container_width=True, returned_objects=[])
    if file.units:
        officers = file.officers
        if officers.empty:
            st.caption("该网格尚未配置网格员。")
        else:
            st.markdown(
                "\n".join(
                    f"- **{_value(row.role)}**：{_value(row.name)}　{_value(row.phone)}"
                    for row in officers.itertuples()
                )
            )
        village = next((code for code, _, tier in file.units if tier == 3), file.units[-1][0])
        page_link_if_open(
            MAP_PAGE,
            "在风险地图上查看",
            icon=":material/map:",
            query_params={"region": village, "tier": "4", "ent": e["uscc"]},
        )


def _hazards(file: EnterpriseFile, name: str) -> None:
    loop = file.hazards
    counts = loop["stage"].value_counts()
    st.subheader("隐患闭环", anchor=False)
    if loop.empty:
        st.info("该企业暂无隐患记录。")
        return
    st.caption(
        f"共 {len(loop)} 条：逾期未整改 {counts.get('overdue', 0)}，整改中 {counts.get('open', 0)}，"
        f"已整改待验收 {counts.get('rectified', 0)}，已验收销号 {counts.get('closed', 0)}；"
        f"重大隐患 {int((loop['hazard_grade'] == 1).sum())}，挂牌督办 {int(loop['listed_level'].notna().sum())}。"
        f"未整改的排在前面；逾期天数截至 {file.as_of:%Y-%m-%d}。"
    )
    paged_table(
        hazard_rows(loop, None, file.as_of),
        key="ent_hazards",
        export=ExportContext(
            title=f"隐患台账 · {name}",
            filters=f"企业：{name}（{file.enterprise['uscc']}）",
            data_time=f"{file.as_of:%Y-%m-%d}",
            stem=f"隐患台账_{file.enterprise['uscc']}_{file.as_of:%Y%m%d}",
        ),
        columns=[
            "隐患编号",
            "隐患等级",
            "状态",
            "发现日期",
            "整改期限",
            "整改完成",
            "验收销号",
            "逾期天数",
            "挂牌督办",
            "场所类型",
            "隐患描述",
        ],
        page_size=50,
    )


def _inspections(file: EnterpriseFile, name: str) -> None:
    st.subheader("检查记录", anchor=False)
    if file.inspections.empty:
        st.info("该企业暂无检查记录。")
        return
    paged_table(
        inspection_rows(file.inspections),
        key="ent_inspections",
        export=ExportContext(
            title=f"检查记录 · {name}",
            filters=f"企业：{name}（{file.enterprise['uscc']}）",
            data_time=f"{file.as_of:%Y-%m-%d}",
            stem=f"检查记录_{file.enterprise['uscc']}_{file.as_of:%Y%m%d}",
        ),
        totals=["发现隐患数"],
        page_size=50,
    )


name = file.enterprise["name"]
st.title(escape_markdown(name), anchor=False)
st.caption(f"一企一档 · 数据截至 {today:%Y-%m-%d} · {settings.bureau_name}")
demo_notice()
_grade(file)
identity_column, map_column = st.columns([3, 2], gap="medium")
with identity_column:
    _identity(file)
with map_column:
    _location(file)
_hazards(file, name)
_inspections(file, name)
