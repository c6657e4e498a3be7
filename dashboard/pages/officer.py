"""网格工作台: the grid officer's cell on a phone — what is due, which enterprises, where.

Phone first (390×844): one column, no sidebar needed, touch targets ≥ 44 px, text contrast
≥ 7:1 for sunlight, and only the cell's own rows travel (no district-wide layers). A grid
officer sees the cells of their scope; other users pick a cell of their scope (``?cell=``).

state (URL, viewer) → cached scoped reads (db.workbench) → geo.due → draw. Each enterprise card
ends in an actions row (today: its file), where a "report a hazard" button will go.
"""

from __future__ import annotations

import html

import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from config import get_settings
from dashboard.components import data
from dashboard.components.map_builder import RiskMapLayers, build_risk_map
from dashboard.components.session import current_viewer
from dashboard.components.ui import demo_notice, page_setup
from geo.due import DUE_BUCKETS_ZH, due_list
from geo.palette import GRADE_NAMES_ZH

page_setup("网格工作台")
settings = get_settings()
viewer = current_viewer()
scope = viewer.scope
today = settings.today()

# Sunlight: every text near-black on white (≥ 7:1); grade colours only as bars and dots.
st.html(
    """<style>
    .gr-wb, .gr-wb * { color: #111827; }
    .gr-wb-figures { display: grid; grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 8px; }
    .gr-wb-figure { border: 1px solid #CBD5E1; border-radius: 8px; padding: 8px 12px; }
    .gr-wb-figure b { display: block; font-size: 1.6rem; line-height: 1.2; }
    .gr-wb-figure.alert { border-color: #7F1D1D; border-width: 2px; }
    .gr-wb-item { border-left: 6px solid var(--bar); padding: 4px 0 4px 10px; margin: 4px 0; }
    .gr-wb-due { font-weight: 700; }
    .gr-wb-due.overdue { color: #7F1D1D; }
    .gr-wb-muted { color: #1F2937; font-size: 0.9rem; }
    .gr-wb-staff a { display: inline-block; min-height: 44px; line-height: 44px; color: #1E3A8A; font-weight: 600; }
    [data-testid="stPageLink"] a { min-height: 44px; align-items: center; }
    [data-testid="stPageLink"] a p { color: #1E3A8A; font-weight: 600; }
    [data-testid="stCaptionContainer"], [data-testid="stCaptionContainer"] * { color: #1F2937 !important; }
    </style>"""
)

stamp = data.data_stamp(scope.cache_key)
units, _ = data.grid_and_context(scope.cache_key, stamp)
scope_cells = units[units["tier"] == 4].sort_values("code")
if scope_cells.empty:
    st.warning("您的权限范围内没有网格。请联系管理员核对账号的网格范围。")
    st.stop()

names = units.set_index("code")["name"]
cell_labels = {
    code: " › ".join(str(names.get(part, part)) for part in path[2:]) or str(names.get(code, code))
    for code, path in zip(scope_cells["code"], scope_cells["path"], strict=True)
}
asked = st.query_params.get("cell")
if viewer.role == "grid_officer" and len(scope_cells) <= 3:
    cells = [asked] if asked in cell_labels else list(cell_labels)
else:
    options = list(cell_labels)
    chosen = st.selectbox(
        "选择网格",
        options,
        index=options.index(asked) if asked in cell_labels else None,
        format_func=cell_labels.get,
        placeholder="输入社区或网格名称查找",
        key="wb_cell",
    )
    if chosen is None:
        st.title("网格工作台", anchor=False)
        st.info("请选择一个网格，查看其企业、未整改隐患和整改期限。")
        st.stop()
    if chosen != asked:
        st.query_params["cell"] = chosen
    cells = [chosen]

bench = data.workbench(scope.cache_key, stamp, tuple(cells), today)
cell_units, enterprises, hazards, staff = bench["units"], bench["enterprises"], bench["hazards"], bench["staff"]
due = due_list(hazards, today)
palette = settings.palette


def esc(value: object) -> str:
    return "—" if value is None or (not isinstance(value, str) and pd.isna(value)) else html.escape(str(value))


def grade_colour(grade: object) -> str:
    return palette.colour_for(None if pd.isna(grade) else int(grade))


title = "、".join(cell_units["name"].astype(str)) if len(cell_units) else "网格"
st.title(f"{title}", anchor=False)
places = cell_units[["township", "community"]].drop_duplicates()
st.caption(" ； ".join(f"{t} › {c}" for t, c in places.itertuples(index=False)) + f" · 数据截至 {today:%Y-%m-%d}")
demo_notice()

if len(staff):
    people = "<br>".join(
        f'{esc(row.role)}：{esc(row.name)} <a href="tel:{esc(row.phone)}">{esc(row.phone)}</a>'
        for row in staff.itertuples()
    )
    st.html(f'<div class="gr-wb gr-wb-staff">{people}</div>')

counts = due["bucket"].value_counts()
figures = (
    ("企业", len(enterprises), False),
    ("未整改隐患", len(due), False),
    ("已逾期", int(counts.get("overdue", 0)), counts.get("overdue", 0) > 0),
    ("今日/本周到期", int(counts.get("today", 0) + counts.get("week", 0)), counts.get("today", 0) > 0),
)
st.html(
    '<div class="gr-wb gr-wb-figures">'
    + "".join(
        f'<div class="gr-wb-figure{" alert" if alert else ""}" data-testid="wb-figure">{label}<b>{value}</b></div>'
        for label, value, alert in figures
    )
    + "</div>"
)

# ---- what is due: today and this week first, then overdue, then later
st.subheader("整改期限", anchor=False)
if due.empty:
    st.success("本网格没有未整改的隐患。")
for bucket, items in due.groupby("bucket", sort=False):
    st.markdown(f"**{DUE_BUCKETS_ZH[bucket]}（{len(items)}）**")
    for row in items.itertuples():
        major = row.hazard_grade == 1
        st.html(
            f'<div class="gr-wb gr-wb-item" data-testid="wb-due" data-code="{esc(row.hazard_code)}" '
            f'style="--bar: {"#7F1D1D" if major else "#64748B"}">'
            f'<span class="gr-wb-due{" overdue" if bucket == "overdue" else ""}">{esc(row.due_text)}</span>'
            f" · 期限 {row.deadline_date:%m-%d} · {'重大隐患' if major else '一般隐患'}"
            f"{' · 挂牌督办' if isinstance(row.listed_level, str) and row.listed_level else ''}<br>"
            f"{esc(row.description)}<br>"
            f'<span class="gr-wb-muted">{esc(row.enterprise)} · {esc(row.place_type)} · {esc(row.hazard_code)}</span>'
            "</div>"
        )
        st.page_link("pages/enterprise.py", label=f"{row.enterprise} 一企一档 ›", query_params={"uscc": row.uscc})

# ---- where: the cell and its enterprises (no district layers: a phone on a slow link)
st.subheader("位置", anchor=False)
grades, _ = data.region_grades(scope.cache_key, stamp, settings.district_code, "weighted", today, today)
shown = cell_units.merge(grades, on="code", how="left", suffixes=("", "_grade"))
for column in ("enterprises", "hazards_open", "hazards_overdue", "hazards_major_open"):
    shown[column] = shown[column].fillna(0).astype(int)
shown["grade"] = pd.array(shown["grade"], dtype="Int64")
placed = enterprises[enterprises["lon"].notna()]
major_open = hazards[hazards["hazard_grade"] == 1].groupby("uscc").size()
major_overdue = due[(due["hazard_grade"] == 1) & (due["bucket"] == "overdue")].groupby("uscc").size()
points = placed.assign(
    major_open=placed["uscc"].map(major_open).fillna(0).astype(int),
    major_overdue=placed["uscc"].map(major_overdue).fillna(0).astype(int),
)
st_folium(
    build_risk_map(
        RiskMapLayers(
            units=shown,
            outlines=shown.iloc[0:0],
            context=shown.iloc[0:0],
            points=points,
            legend_title="网格风险等级",
            legend_note=f"截至 {today:%Y-%m-%d}",
        ),
        palette=palette,
        basemap=settings.basemap,
        defaults=settings.map,
        base_url_path=st.get_option("server.baseUrlPath") or "",
        compact_controls=True,
    ),
    key="wb_map",
    height=300,
    use_container_width=True,
    returned_objects=[],
)

# ---- the enterprises, those with overdue items first
st.subheader(f"企业（{len(enterprises)}）", anchor=False)
for row in enterprises.itertuples():
    grade = GRADE_NAMES_ZH.get(row.grade, "未定级") if not pd.isna(row.grade) else "未定级"
    inspected = f"{row.last_inspection:%Y-%m-%d}" if not pd.isna(row.last_inspection) else "无检查记录"
    flags = "、".join(row.special_flags) if row.special_flags else "无特殊标签"
    with st.container(border=True):
        st.html(
            f'<div class="gr-wb gr-wb-item" data-testid="wb-enterprise" data-uscc="{esc(row.uscc)}" '
            f'style="--bar: {grade_colour(row.grade)}"><b>{esc(row.name)}</b><br>'
            f"{grade} · {esc(row.supervision_class)}类监管 · {esc(flags)}<br>"
            f'<span class="gr-wb-muted">未整改 {int(row.hazards_open)} · 逾期 {int(row.hazards_overdue)}'
            f" · 最近检查 {inspected}</span></div>"
        )
        # actions row: the enterprise's file now; "上报隐患" joins it when field reporting lands
        st.page_link("pages/enterprise.py", label="一企一档 ›", query_params={"uscc": row.uscc})
