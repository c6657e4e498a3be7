"""Hazard loader (事故隐患): a hazard list into PostGIS, upserted by hazard id (DOMAIN.md §3).

Runs on the shared pipeline (loaders.pipeline): every row checked at once, one transaction,
rejects/warnings reports, audit. Each hazard carries its enterprise's ancestry for row-level
security.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from rich.progress import Progress
from sqlalchemy import Engine, text

from config import get_settings
from db.scope import Scope, apply_scope
from loaders.errors import LoadRefusedError, Problem
from loaders.pipeline import (
    LoadResult,
    Merge,
    Parsed,
    TabularOptions,
    Upsert,
    run_tabular_load,
)
from loaders.rows import RowChecks, flag_duplicates, map_unique, parse_dates
from loaders.tabular import RawTable, map_headers

__all__ = ["HazardOptions", "HEADERS", "parse_hazards", "load_hazards", "known_enterprises"]

HEADERS: dict[str, tuple[str, ...]] = {
    "hazard_code": ("隐患编号", "隐患ID", "编号", "hazard_id"),
    "uscc": ("统一社会信用代码", "信用代码", "企业信用代码"),
    "found_date": ("发现日期", "排查日期", "检查日期", "found_date"),
    "source": ("隐患来源", "来源", "发现方式"),
    "description": ("隐患描述", "隐患内容", "描述", "问题描述"),
    "hazard_grade": ("隐患等级", "隐患级别", "等级"),
    "judgement_basis": ("判定依据", "重大隐患判定依据", "依据"),
    "place_type": ("场所类型", "隐患部位", "部位"),
    "deadline_date": ("整改期限", "整改时限", "限期", "deadline"),
    "rectified_date": ("整改完成日期", "整改日期", "完成整改日期"),
    "closed_date": ("验收销号日期", "销号日期", "验收日期"),
    "listed_level": ("挂牌督办", "挂牌督办级别", "督办级别"),
}
REQUIRED = ("hazard_code", "uscc", "found_date", "hazard_grade")
SOURCES = {s: s for s in ("自查", "检查", "专家", "举报")} | {
    "企业自查": "自查",
    "执法检查": "检查",
    "专家会诊": "专家",
    "群众举报": "举报",
}
GRADES = {"一般": 2, "一般隐患": 2, "重大": 1, "重大隐患": 1}
LISTED = {s: s for s in ("省级", "市级", "区级", "县级")} | {"省": "省级", "市": "市级", "区": "区级", "县": "县级"}
_STAGE_COLUMNS = [
    "source_row",
    "hazard_code",
    "uscc",
    "found_date",
    "source",
    "description",
    "hazard_grade",
    "judgement_basis",
    "place_type",
    "deadline_date",
    "rectified_date",
    "closed_date",
    "listed_level",
]


@dataclass(frozen=True)
class HazardOptions(TabularOptions):
    today: dt.date | None = None  # "today" in Asia/Shanghai unless given (tests freeze it)


def known_enterprises(engine: Engine, district: str) -> set[str]:
    """USCCs of the district's enterprises (under a whole-district scope)."""
    with engine.begin() as conn:
        apply_scope(conn, Scope.whole_district(district))
        return set(
            conn.execute(text("SELECT uscc FROM enterprise WHERE district_code = :d"), {"d": district}).scalars()
        )


def parse_hazards(table: RawTable, options: HazardOptions, enterprises: set[str]) -> Parsed:
    today = options.today or get_settings().today()
    columns = map_headers(list(table.frame.columns), HEADERS, options.columns)
    missing = [k for k in REQUIRED if k not in columns]
    if missing:
        raise LoadRefusedError(
            [
                Problem(
                    table.file_name,
                    1,
                    HEADERS[k][0],
                    None,
                    "missing_column",
                    f"缺少必需的列「{HEADERS[k][0]}」（文件的列: {'、'.join(table.frame.columns)}）；可用 --map {k}=列名 指定",
                )
                for k in missing
            ]
        )
    checks = RowChecks(table, columns)
    rows = pd.DataFrame(index=table.frame.index)
    code = checks.cell("hazard_code").str.strip()
    checks.flag(code == "", "hazard_code", "missing_hazard_code", "隐患编号为空")
    rows["hazard_code"] = code
    uscc = checks.cell("uscc").str.strip().str.upper()
    checks.flag(
        # as objects: Arrow-backed isin converts the 20,000 known codes one by one (3× the time)
        ~uscc.astype(object).isin(enterprises),
        "uscc",
        "unknown_enterprise",
        "找不到该统一社会信用代码的企业（请先载入企业名单）",
    )
    rows["uscc"] = uscc
    for key, mapping, code_name, message in (
        ("source", SOURCES, "unknown_source", "隐患来源应为 自查/检查/专家/举报"),
        ("hazard_grade", GRADES, "unknown_grade", "隐患等级应为 一般 或 重大"),
        ("listed_level", LISTED, "unknown_listed_level", "挂牌督办应为空或 省级/市级/区级"),
    ):
        raw = checks.cell(key).str.strip()
        mapped = map_unique(raw, mapping)
        checks.flag((raw != "") & mapped.isna(), key, code_name, message)
        rows[key] = mapped.where(mapped.notna(), None)
    checks.flag(checks.cell("hazard_grade").str.strip() == "", "hazard_grade", "missing_grade", "隐患等级为空")
    for key in ("description", "judgement_basis", "place_type"):
        value = checks.cell(key).str.strip()
        rows[key] = value.where(value != "", None)
    major = rows["hazard_grade"] == 1
    checks.flag(
        major & rows["judgement_basis"].isna(),
        "judgement_basis",
        "major_without_basis",
        "重大隐患须填写判定依据（如 应急管理部令第10号 (2023) 第X条）",
    )
    _dates(checks, rows, today)
    flag_duplicates(checks, "hazard_code", rows["hazard_code"], "隐患编号")  # last: copies of rejected rows stay
    rows["hazard_grade"] = pd.array(rows["hazard_grade"].tolist(), dtype="Int64")
    return Parsed.of(checks, rows)


def _dates(checks: RowChecks, rows: pd.DataFrame, today: dt.date) -> None:
    """The closed loop's order: found ≤ deadline; found ≤ rectified ≤ closed; none in the future."""
    found = parse_dates(checks, "found_date", today=today, required=True)
    rectified = parse_dates(checks, "rectified_date", today=today)
    closed = parse_dates(checks, "closed_date", today=today)
    # A deadline may lie ahead: only its format and its order are checked.
    deadline = parse_dates(checks, "deadline_date", today=None)
    both = found.notna() & deadline.notna()
    checks.flag(both & (deadline < found), "deadline_date", "deadline_before_found", "整改期限早于发现日期")
    both = found.notna() & rectified.notna()
    checks.flag(both & (rectified < found), "rectified_date", "rectified_before_found", "整改完成日期早于发现日期")
    checks.flag(
        closed.notna() & rectified.isna(), "closed_date", "closed_without_rectified", "已验收销号但没有整改完成日期"
    )
    both = closed.notna() & rectified.notna()
    checks.flag(both & (closed < rectified), "closed_date", "closed_before_rectified", "验收销号日期早于整改完成日期")
    rows["found_date"], rows["deadline_date"] = found, deadline
    rows["rectified_date"], rows["closed_date"] = rectified, closed


_STAGE_DDL = """
CREATE TEMP TABLE stage_hazard (
    source_row int, hazard_code text, uscc text, found_date date, source text, description text,
    hazard_grade smallint, judgement_basis text, place_type text, deadline_date date, rectified_date date,
    closed_date date, listed_level text
) ON COMMIT DROP
"""
_UPSERT = Upsert(
    stage_ddl=_STAGE_DDL,
    stage_columns=_STAGE_COLUMNS,
    merge=Merge(
        stage="stage_hazard",
        target="hazard",
        key="hazard_code",
        values={
            "hazard_code": "s.hazard_code",
            "enterprise_id": "e.id",
            "region_path": "e.region_path",
            **{c: f"s.{c}" for c in _STAGE_COLUMNS if c not in ("source_row", "hazard_code", "uscc")},
        },
        source="stage_hazard s JOIN enterprise e ON e.uscc = s.uscc AND e.district_code = :d",
    ),
    label="隐患编号",
)


def load_hazards(engine: Engine, path: Path, options: HazardOptions, *, progress: Progress | None = None) -> LoadResult:
    """Validate and upsert a hazard list in one transaction (by 隐患编号)."""
    enterprises = known_enterprises(engine, options.district_code)
    return run_tabular_load(
        engine,
        path,
        options,
        kind="hazards",
        progress=progress,
        parse=lambda table: parse_hazards(table, options, enterprises),
        write=lambda conn, parsed: _UPSERT.write(conn, parsed, options.district_code, path),
    )
