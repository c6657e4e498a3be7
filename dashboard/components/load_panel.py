"""The data administration page's upload panel: the form (the command line's options), the
progress of the background load, its outcome (summary, rejects, warnings) and the load history.

The loads themselves are the loader command's (loaders/jobs.py); this module only draws.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import streamlit as st

from config import get_settings
from dashboard.components.load_jobs import LoadJob, UploadedData, job_registry
from dashboard.components.tables import ExportContext, paged_table
from geo.chinese_crs import parse_coordinate_system
from geo.grading import RULES
from loaders.jobs import JobState, LoadRequest

__all__ = [
    "KIND_NAMES_ZH",
    "Submission",
    "upload_form",
    "job_progress",
    "job_outcome",
    "history_table",
]

KIND_NAMES_ZH = {
    "boundaries": "网格边界",
    "enterprises": "企业名单",
    "hazards": "隐患台账",
    "inspections": "检查记录",
    "staff": "网格人员名册",
    "outline": "区县轮廓",
    "context": "周边区域",
    "demo": "演示数据",
    "demo_shift": "演示数据日期后移",
}
STATUS_NAMES_ZH = {
    "loaded": "已载入",
    "loaded_with_rejects": "已载入（部分行被拒绝）",
    "unchanged": "无变化",
    "refused": "被拒绝",
    "failed": "失败",
    "running": "进行中",
}
TABULAR_TYPES = ["csv", "xlsx", "xls"]
# A shapefile comes as several files; GeoJSON, GeoPackage and a zipped shapefile as one.
VECTOR_MAIN_SUFFIXES = (".geojson", ".json", ".gpkg", ".zip", ".shp")
VECTOR_TYPES = ["geojson", "json", "gpkg", "zip", "shp", "shx", "dbf", "prj", "cpg"]
CRS_CHOICES = {
    "": "按文件",
    "wgs84": "WGS84（GPS）",
    "cgcs2000": "CGCS2000（天地图）",
    "gcj02": "GCJ-02（高德、腾讯）",
    "bd09": "BD-09（百度）",
    "other": "其他（填写 EPSG 代码）",
}
ENCODING_CHOICES = {"": "自动识别", "utf-8": "UTF-8", "gbk": "GBK"}
SHAPEFILE_ENCODING_CHOICES = {"": "按 .cpg 文件", "gbk": "GBK", "utf-8": "UTF-8"}
ALLOW_CHOICES = {"multipart": "多部件要素", "holes": "带洞的面"}
PLACEMENT_ZH = {
    "placed": "落入网格",
    "no_coordinates": "无坐标",
    "outside_district": "区县范围外",
    "no_cell": "不在任何网格",
    "swapped_lonlat": "经纬度疑似颠倒",
}
PROBLEM_COLUMNS = {"row": "行号", "column": "列", "value": "收到的值", "message": "问题说明", "code": "问题代码"}


@dataclass(frozen=True)
class Submission:
    """A validated upload: the command's options, the files, and which file to load."""

    request: LoadRequest
    files: list[UploadedData]
    main: str


# ------------------------------------------------------------------------------ the form


def _headers(kind: str) -> dict[str, tuple[str, ...]]:
    import importlib

    return importlib.import_module(f"loaders.{kind}").HEADERS


def _mapping_help(kind: str) -> str:
    fields = "、".join(f"{key}（{names[0]}）" for key, names in _headers(kind).items())
    return f"文件的列名认不出时填写，每行一个“字段=列名”，如 uscc=信用代码X（同命令行 --map）。字段：{fields}"


def _parse_mapping(kind: str, text: str) -> dict[str, str]:
    """``field=column`` lines; a field may also be named by its standard Chinese header."""
    by_header = {names[0]: key for key, names in _headers(kind).items()}
    mapping = {}
    for line in filter(None, (line.strip() for line in text.splitlines())):
        field, sep, column = line.partition("=")
        field, column = field.strip(), column.strip()
        field = by_header.get(field, field)
        if not sep or not column or field not in by_header.values():
            raise ValueError(f"列名对应“{line}”应写成 字段=列名，字段是 {'、'.join(by_header.values())} 之一")
        mapping[field] = column
    return mapping


def _crs_input(kind: str) -> tuple[str, str]:
    labels = dict(CRS_CHOICES)
    if kind == "enterprises":
        labels[""] = "按每行的“坐标系”列"
    left, right = st.columns(2)
    choice = left.selectbox(
        "坐标系", list(labels), format_func=labels.get, key=f"adm_crs_{kind}", help="同命令行 --crs"
    )
    other = right.text_input("EPSG 代码（选“其他”时）", key=f"adm_epsg_{kind}", placeholder="如 4549")
    return choice, other


def _resolve_crs(choice: str, other: str) -> str | None:
    if choice != "other":
        return choice or None
    if not other.strip():
        raise ValueError("选了“其他”坐标系，请填写 EPSG 代码（如 4549）")
    return parse_coordinate_system(other.strip())  # names the problem when unknown


def _tabular_options(kind: str) -> dict[str, object]:
    crs = _crs_input(kind) if kind == "enterprises" else ("", "")
    left, right = st.columns(2)
    sheet = left.text_input("工作表（Excel）", key=f"adm_sheet_{kind}", placeholder="默认第一个工作表")
    encoding = right.selectbox(
        "文字编码（CSV）", list(ENCODING_CHOICES), format_func=ENCODING_CHOICES.get, key=f"adm_enc_{kind}"
    )
    strict = st.checkbox("严格模式：有任何问题就拒绝整个文件（--strict）", key=f"adm_strict_{kind}")
    mapping = st.text_area("列名对应（可选）", key=f"adm_map_{kind}", height=80, help=_mapping_help(kind))
    return {"crs": crs, "sheet": sheet.strip() or None, "encoding": encoding or None, "strict": strict, "map": mapping}


def _boundary_options(today: dt.date) -> dict[str, object]:
    left, right = st.columns(2)
    code_year = left.number_input(
        "区划代码年份", min_value=1980, max_value=2100, value=today.year, step=1, key="adm_code_year"
    )
    encoding = right.selectbox(
        "Shapefile 编码",
        list(SHAPEFILE_ENCODING_CHOICES),
        format_func=SHAPEFILE_ENCODING_CHOICES.get,
        key="adm_enc_boundaries",
    )
    crs = _crs_input("boundaries")
    with st.expander("更多选项：列名、图层、修复与容差"):
        layer = st.text_input("GeoPackage 图层", key="adm_layer", placeholder="默认第一个图层")
        names = st.columns(4)
        columns = {
            key: names[i].text_input(label, key=f"adm_col_{key}").strip()
            for i, (key, label) in enumerate(
                (("code", "编码列"), ("name", "名称列"), ("tier", "层级列"), ("parent", "上级编码列"))
            )
        }
        repair = st.checkbox("修复无效几何（make_valid，并报告改动）", key="adm_repair")
        allow = st.multiselect("允许", list(ALLOW_CHOICES), format_func=ALLOW_CHOICES.get, key="adm_allow")
        tol = st.columns(3)
        tolerances = {
            "outside_m": tol[0].number_input("超出上级容差（米）", min_value=0.0, value=0.5, key="adm_outside_m"),
            "overlap_m2": tol[1].number_input("相互重叠容差（m²）", min_value=0.0, value=0.5, key="adm_overlap_m2"),
            "gap_m2": tol[2].number_input("未覆盖容差（m²）", min_value=0.0, value=0.5, key="adm_gap_m2"),
        }
    return {
        "code_year": int(code_year),
        "encoding": encoding or None,
        "crs": crs,
        "layer": layer.strip() or None,
        "columns": {k: v for k, v in columns.items() if v},
        "repair": repair,
        "allow": tuple(allow),
        "tolerances": tolerances,
    }


def _main_file(kind: str, files: list[UploadedData]) -> str:
    """The file to load: the only one for tabular kinds; for boundaries the one vector file
    (a shapefile's .shx and .dbf must come with it)."""
    if kind != "boundaries":
        if len(files) != 1:
            raise ValueError("请只选择一个文件")
        return files[0].name
    mains = [f.name for f in files if f.name.lower().endswith(VECTOR_MAIN_SUFFIXES)]
    if len(mains) != 1:
        raise ValueError(
            "请选择一个边界文件：GeoJSON、GeoPackage、含 Shapefile 的 zip，或 Shapefile 的 .shp 连同 .shx、.dbf"
        )
    main = mains[0]
    if main.lower().endswith(".shp"):
        stem = Path(main).stem
        missing = [s for s in (".shx", ".dbf") if not any(f.name == f"{stem}{s}" for f in files)]
        if missing:
            raise ValueError(
                f"Shapefile 还缺少 {'、'.join(stem + s for s in missing)}（也可以把整套文件打成 zip 上传）"
            )
    return main


def _request(kind: str, options: dict[str, object]) -> LoadRequest:
    crs = _resolve_crs(*options.pop("crs"))
    if kind == "boundaries":
        return LoadRequest(kind, crs=crs, **options)
    mapping = _parse_mapping(kind, str(options.pop("map")))
    return LoadRequest(kind, crs=crs, columns=mapping, **options)


def upload_form(kind: str, *, disabled: bool, today: dt.date) -> Submission | None:
    """The upload form for ``kind``; the validated submission when 开始载入 was pressed."""
    with st.form(f"adm_form_{kind}", border=True):
        uploaded = st.file_uploader(
            f"上传{KIND_NAMES_ZH[kind]}文件",
            type=VECTOR_TYPES if kind == "boundaries" else TABULAR_TYPES,
            accept_multiple_files=kind == "boundaries",
            key=f"adm_file_{kind}",
            help="GeoJSON、GeoPackage、含 Shapefile 的 zip，或 Shapefile 的 .shp/.shx/.dbf/.prj/.cpg 一起选"
            if kind == "boundaries"
            else "CSV（UTF-8、带 BOM 的 UTF-8 或 GBK）或 Excel（xlsx/xls）",
        )
        options = _boundary_options(today) if kind == "boundaries" else _tabular_options(kind)
        submitted = st.form_submit_button("开始载入", type="primary", disabled=disabled)
    if not submitted:
        return None
    chosen = uploaded if isinstance(uploaded, list) else [uploaded] if uploaded else []
    files = [UploadedData(f.name, f.getvalue()) for f in chosen]
    if not files:
        st.error("请先选择要上传的文件。")
        return None
    try:
        return Submission(_request(kind, options), files, _main_file(kind, files))
    except ValueError as exc:
        st.error(str(exc))
        return None


# ------------------------------------------------------------------------------ the job


def _progress_text(job: LoadJob, state: JobState) -> str:
    step = state.stage or state.description
    return f"正在载入{KIND_NAMES_ZH[job.request.kind]} {job.file_name}：{step}"


@st.fragment(run_every=1.0)
def job_progress(job_id: str) -> None:
    """The running load's progress bar, redrawn every second without rerunning the page; the
    whole page reruns once when the load has ended (its outcome and the history then show)."""
    job = job_registry().get(job_id)
    if job is None:
        return
    state = job.state()
    if not state.running:
        st.rerun(scope="app")
    st.progress(state.fraction, text=_progress_text(job, state))
    started = job.started_at.strftime("%H:%M:%S")
    st.caption(f"开始于 {started}；载入在后台进行，离开或刷新页面不会中断它，结果会记入载入记录。")


def _problems_frame(problems: list[dict[str, object]]) -> pd.DataFrame:
    frame = pd.DataFrame(problems, columns=["file", *PROBLEM_COLUMNS])
    frame = frame.drop(columns="file").rename(columns=PROBLEM_COLUMNS)
    frame["行号"] = frame["行号"].astype("Int64")
    return frame


def _problems_block(job: LoadJob, problems: list[dict[str, object]], *, what: str, stem: str, key: str) -> None:
    paged_table(
        _problems_frame(problems),
        key=f"{key}_{job.id}",
        export=ExportContext(
            title=f"{job.file_name} {what}",
            filters=f"文件：{job.file_name}；{KIND_NAMES_ZH[job.request.kind]}",
            data_time=job.started_at,
            stem=f"{Path(job.file_name).stem}.{stem}",
        ),
    )


def _summary(result: dict[str, object]) -> None:
    figures = st.columns(6)
    warnings = result.get("warnings") or []
    for column, (label, value) in zip(
        figures,
        (
            ("行数", result["total_rows"]),
            ("新增", result["inserted"]),
            ("更新", result["updated"]),
            ("未变", result["unchanged"]),
            ("拒绝", result["rejected"]),
            ("警告", len(warnings)),
        ),
        strict=True,
    ):
        column.metric(label, f"{value:,}")
    placement = result.get("placement") or {}
    if placement:
        st.caption("落点：" + "，".join(f"{PLACEMENT_ZH.get(k, k)} {v}" for k, v in sorted(placement.items())))


def _boundary_summary(result: dict[str, object]) -> None:
    tiers = result["units_per_tier"]
    figures = st.columns(len(tiers) + 1)
    for column, (tier, n) in zip(figures, tiers.items(), strict=False):
        column.metric(f"{tier}级单元", f"{n:,}")
    figures[-1].metric("企业重新分配", f"{result['enterprises_moved']:,}")
    st.caption(f"{result['district_name']}（{result['district_code']}），{result['code_year']} 年代码")
    for repair in result.get("repairs") or []:
        st.caption(f"已修复：{repair}")


def job_outcome(job: LoadJob) -> None:
    """A finished load: what it did, what was refused and why, the rows to correct."""
    state = job.state()
    st.subheader(f"{KIND_NAMES_ZH[job.request.kind]}：{job.file_name}")
    if state.outcome == "failed":
        st.error("载入失败，未写入任何数据。")
        st.code(state.error or "", language=None)
        return
    if state.outcome == "refused":
        problems = state.problems or []
        st.error(f"载入被拒绝，未写入任何数据（{len(problems)} 个问题）。请改正文件后重新上传。")
        _problems_block(job, problems, what="的问题", stem="problems", key="adm_refused")
        return
    result = state.result or {}
    message = f"{STATUS_NAMES_ZH.get(state.outcome, state.outcome)}：{job.file_name}"
    (st.warning if state.outcome == "loaded_with_rejects" else st.success)(message)
    if job.request.kind == "boundaries":
        _boundary_summary(result)
    else:
        _summary(result)
    if state.regraded:
        units = "、".join(
            f"{RULES[rule].label if rule in RULES else rule} {n} 个单元" for rule, n in state.regraded["units"].items()
        )
        st.caption(f"风险等级已重新计算（{state.regraded['as_of']}）：{units}")
    _rejects(job, result)


def _rejects(job: LoadJob, result: dict[str, object]) -> None:
    rejections = result.get("rejections") or []
    if rejections:
        st.markdown(f"**被拒绝的行（{result['rejected']}）**：这些行没有载入。")
        _problems_block(job, rejections, what="被拒绝的行", stem="rejects", key="adm_rejects")
        rejects_file = result.get("rejects_file")
        if rejects_file and Path(str(rejects_file)).is_file():
            st.download_button(
                "下载拒绝行原文（改正后可直接重新上传）",
                Path(str(rejects_file)).read_bytes(),
                file_name=Path(str(rejects_file)).name,
                mime="text/csv",
                key=f"adm_rejects_file_{job.id}",
                on_click="ignore",
            )
    warnings = result.get("warnings") or []
    if warnings:
        with st.expander(f"警告（{len(warnings)}）：已载入，但需要核实"):
            _problems_block(job, warnings, what="的警告", stem="warnings", key="adm_warnings")


# ------------------------------------------------------------------------------ history


def history_table(loads: pd.DataFrame, uploads: pd.DataFrame) -> pd.DataFrame:
    """The load_audit rows for people: Chinese names, local times, and who uploaded each file
    through the page (from the audit trail's data_upload_finished rows; else the database role)."""
    tz = get_settings().tz
    by_audit_id = {}
    for actor, detail in zip(uploads.get("actor", []), uploads.get("detail", []), strict=False):
        if isinstance(detail, dict) and detail.get("load_audit_id") is not None:
            by_audit_id[int(detail["load_audit_id"])] = actor
    out = pd.DataFrame(
        {
            "编号": loads["id"],
            "类型": loads["kind"].map(lambda k: KIND_NAMES_ZH.get(k, k)),
            "文件": loads["file_name"],
            "结果": loads["status"].map(lambda s: STATUS_NAMES_ZH.get(s, s)),
            "新增": loads["inserted"],
            "更新": loads["updated"],
            "未变": loads["unchanged"],
            "拒绝": loads["rejected"],
            "操作人": [
                by_audit_id.get(int(i), f"命令行（{a}）") for i, a in zip(loads["id"], loads["actor"], strict=True)
            ],
            "开始时间": pd.to_datetime(loads["started_at"], utc=True)
            .dt.tz_convert(tz)
            .dt.strftime("%Y-%m-%d %H:%M:%S"),
            "完成时间": pd.to_datetime(loads["finished_at"], utc=True)
            .dt.tz_convert(tz)
            .dt.strftime("%Y-%m-%d %H:%M:%S"),
        }
    )
    return out
