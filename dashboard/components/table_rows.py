"""The rows of the shared tables, in the UI's Chinese column names: pure, no Streamlit, no DB.

One builder per kind of table (enterprises, hazards, inspections), used by every page, so a
column means the same thing wherever it appears and in every export. Values stay typed:
counts are integers, dates are datetime64 (Excel gets real dates), text is text.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from geo.enterprise_file import HAZARD_STAGES_ZH, hazard_loop
from geo.grading import hazard_state
from geo.palette import GRADE_NAMES_ZH

__all__ = [
    "USCC_COLUMN",
    "ENTERPRISE_DEFAULT_COLUMNS",
    "enterprise_rows",
    "hazard_rows",
    "inspection_rows",
    "HAZARD_GRADES_ZH",
    "grade_text",
]

USCC_COLUMN = "统一社会信用代码"  # the column every table links to the enterprise file
HAZARD_GRADES_ZH = {1: "重大隐患", 2: "一般隐患"}


# Ordered categories: a table sorted by grade or state reads 重大 → 低, not by character code.
GRADE_ORDER = pd.CategoricalDtype([*GRADE_NAMES_ZH.values(), "未定级"], ordered=True)
HAZARD_GRADE_ORDER = pd.CategoricalDtype(list(HAZARD_GRADES_ZH.values()), ordered=True)
STAGE_ORDER = pd.CategoricalDtype(list(HAZARD_STAGES_ZH.values()), ordered=True)


def grade_text(grade: object) -> str:
    return GRADE_NAMES_ZH.get(int(grade), "未定级") if grade is not None and not pd.isna(grade) else "未定级"


def _names(codes: pd.Series, names: pd.Series, missing: str) -> pd.Series:
    return codes.map(lambda code: names.get(code, missing) if isinstance(code, str) else missing)


def enterprise_rows(
    enterprises: pd.DataFrame, hazards: pd.DataFrame, unit_names: pd.Series, as_of: dt.date
) -> pd.DataFrame:
    """One row per enterprise with its open and overdue hazards on ``as_of``.

    ``enterprises``: db.analysis.scope_enterprises rows; ``hazards``: their hazards (any
    filter already applied); ``unit_names``: unit name by code (for the cell).
    """
    status = hazard_state(hazards, as_of)
    counts = hazards.assign(open=status["open"], overdue=status["overdue"]).groupby("enterprise_id")[
        ["open", "overdue"]
    ]
    frame = enterprises.join(counts.sum(), on="id")
    paths = frame["region_path"].map(lambda path: list(path) if path is not None else [])
    return pd.DataFrame(
        {
            "企业名称": frame["name"],
            USCC_COLUMN: frame["uscc"],
            "行业领域": frame["sector"],
            "风险等级": frame["grade"].map(grade_text).astype(GRADE_ORDER),
            "监管分类": frame["supervision_class"],
            "特殊标签": frame["special_flags"].map(lambda flags: "、".join(flags)),
            "乡镇/街道": _names(paths.map(lambda p: p[1] if len(p) > 2 else None), unit_names, ""),
            "社区/村": _names(paths.map(lambda p: p[2] if len(p) > 3 else None), unit_names, ""),
            "所在网格": _names(frame["cell_code"], unit_names, "未落格"),
            "地址": frame["address"],
            "从业人数": pd.array(frame["employees"], dtype="Int64"),
            "未整改隐患": frame["open"].fillna(0).astype(int),
            "逾期隐患": frame["overdue"].fillna(0).astype(int),
            "状态": frame["status"],
        }
    ).reset_index(drop=True)


ENTERPRISE_DEFAULT_COLUMNS = (
    "企业名称",
    USCC_COLUMN,
    "行业领域",
    "风险等级",
    "监管分类",
    "特殊标签",
    "社区/村",
    "所在网格",
    "未整改隐患",
    "逾期隐患",
    "状态",
)


def hazard_rows(hazards: pd.DataFrame, enterprises: pd.DataFrame | None, as_of: dt.date) -> pd.DataFrame:
    """One row per hazard, its closed loop on ``as_of`` (geo.enterprise_file.hazard_loop),
    open items first. With ``enterprises`` (id, name, uscc) each row names its enterprise;
    without (the enterprise file) the enterprise columns are left out."""
    loop = hazard_loop(hazards, as_of)
    columns: dict[str, object] = {}
    if enterprises is not None:
        names = enterprises.set_index("id")[["name", "uscc"]]
        joined = loop.join(names, on="enterprise_id")
        columns["企业名称"] = joined["name"]
        columns[USCC_COLUMN] = joined["uscc"]
    columns.update(
        {
            "隐患编号": loop["hazard_code"],
            "隐患等级": loop["hazard_grade"].map(HAZARD_GRADES_ZH).astype(HAZARD_GRADE_ORDER),
            "状态": loop["stage_zh"].astype(STAGE_ORDER),
            "发现日期": pd.to_datetime(loop["found_date"]),
            "来源": loop["source"],
            "场所类型": loop["place_type"],
            "整改期限": pd.to_datetime(loop["deadline_date"]),
            "整改完成": pd.to_datetime(loop["rectified_date"]),
            "验收销号": pd.to_datetime(loop["closed_date"]),
            "逾期天数": loop["overdue_days"],
            "挂牌督办": loop["listed_level"].fillna(""),
        }
    )
    for optional, label in (("description", "隐患描述"), ("judgement_basis", "判定依据")):
        if optional in loop.columns:
            columns[label] = loop[optional]
    return pd.DataFrame(columns).reset_index(drop=True)


def inspection_rows(inspections: pd.DataFrame, enterprises: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per inspection, newest first; with ``enterprises`` (id, name, uscc) it names them."""
    frame = inspections.sort_values(["inspection_date", "inspection_code"], ascending=[False, True])
    columns: dict[str, object] = {}
    if enterprises is not None:
        joined = frame.join(enterprises.set_index("id")[["name", "uscc"]], on="enterprise_id")
        columns["企业名称"] = joined["name"]
        columns[USCC_COLUMN] = joined["uscc"]
    columns.update(
        {
            "检查编号": frame["inspection_code"],
            "检查日期": pd.to_datetime(frame["inspection_date"]),
            "检查类型": frame["kind"],
            "检查单位": frame["unit"],
            "检查人员": frame["inspector"],
            "发现隐患数": frame["findings_count"].astype(int),
            "隐患编号": frame["hazard_codes"].map(lambda codes: "、".join(codes or ())),
        }
    )
    return pd.DataFrame(columns).reset_index(drop=True)
