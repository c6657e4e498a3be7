"""Inspection loader (检查记录): who checked which enterprise when, upserted by 检查编号.

Runs on the shared pipeline; each inspection carries its enterprise's ancestry for row-level
security. Linked hazard ids that are not (yet) loaded are kept and flagged, not rejected: hazard
and inspection lists often arrive in either order.
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
from loaders.hazards import known_enterprises
from loaders.pipeline import (
    LoadResult,
    Merge,
    Parsed,
    TabularOptions,
    Upsert,
    as_pg_array,
    run_tabular_load,
)
from loaders.rows import WARN, RowChecks, flag_duplicates, map_unique, parse_dates, parse_number, split_list
from loaders.tabular import RawTable, map_headers

__all__ = [
    "InspectionOptions",
    "HEADERS",
    "parse_inspections",
    "load_inspections",
    "require_columns",
    "flag_duplicates",
]

HEADERS: dict[str, tuple[str, ...]] = {
    "inspection_code": ("检查编号", "检查记录编号", "记录编号", "inspection_id"),
    "uscc": ("统一社会信用代码", "信用代码", "企业信用代码"),
    "inspection_date": ("检查日期", "检查时间", "日期"),
    "unit": ("检查单位", "检查部门", "执法单位"),
    "inspector": ("检查人员", "检查人", "执法人员"),
    "kind": ("检查类型", "检查方式", "类型"),
    "findings_count": ("发现问题数", "问题数", "发现隐患数"),
    "hazard_codes": ("关联隐患编号", "隐患编号", "关联隐患"),
}
REQUIRED = ("inspection_code", "uscc", "inspection_date")
KINDS = {k: k for k in ("日常", "专项", "执法", "专家")} | {
    "日常检查": "日常",
    "专项检查": "专项",
    "执法检查": "执法",
    "专家检查": "专家",
    "专家会诊": "专家",
}
_STAGE_COLUMNS = [
    "source_row",
    "inspection_code",
    "uscc",
    "inspection_date",
    "unit",
    "inspector",
    "kind",
    "findings_count",
    "hazard_codes",
]


@dataclass(frozen=True)
class InspectionOptions(TabularOptions):
    today: dt.date | None = None  # "today" in Asia/Shanghai unless given (tests freeze it)


def require_columns(
    table: RawTable, columns: dict[str, str], required: tuple[str, ...], headers: dict[str, tuple[str, ...]]
) -> None:
    """Refuse the file when a required column is missing, naming it and the fix."""
    missing = [k for k in required if k not in columns]
    if missing:
        raise LoadRefusedError(
            [
                Problem(
                    table.file_name,
                    1,
                    headers[k][0],
                    None,
                    "missing_column",
                    f"缺少必需的列「{headers[k][0]}」（文件的列: {'、'.join(table.frame.columns)}）；可用 --map {k}=列名 指定",
                )
                for k in missing
            ]
        )


def parse_inspections(table: RawTable, options: InspectionOptions, enterprises: set[str], hazards: set[str]) -> Parsed:
    today = options.today or get_settings().today()
    columns = map_headers(list(table.frame.columns), HEADERS, options.columns)
    require_columns(table, columns, REQUIRED, HEADERS)
    checks = RowChecks(table, columns)
    rows = pd.DataFrame(index=table.frame.index)
    rows["inspection_code"] = checks.cell("inspection_code").str.strip()
    checks.flag(rows["inspection_code"] == "", "inspection_code", "missing_inspection_code", "检查编号为空")
    rows["uscc"] = checks.cell("uscc").str.strip().str.upper()
    checks.flag(
        ~rows["uscc"].isin(enterprises),
        "uscc",
        "unknown_enterprise",
        "找不到该统一社会信用代码的企业（请先载入企业名单）",
    )
    rows["inspection_date"] = parse_dates(checks, "inspection_date", today=today, required=True)
    kind_text = checks.cell("kind").str.strip()
    kind = map_unique(kind_text, KINDS)
    checks.flag((kind_text != "") & kind.isna(), "kind", "unknown_kind", "检查类型应为 日常/专项/执法/专家")
    rows["kind"] = kind.where(kind.notna(), None)
    for key in ("unit", "inspector"):
        value = checks.cell(key).str.strip()
        rows[key] = value.where(value != "", None)
    count, bad = parse_number(checks.cell("findings_count"))
    checks.flag(bad, "findings_count", "not_a_number", "发现问题数应为数字")
    checks.flag(
        count.notna() & ((count < 0) | (count != count.round()) | (count > 100_000)),
        "findings_count",
        "out_of_range",
        "发现问题数应为 0 或正整数",
    )
    rows["findings_count"] = count.fillna(0).clip(0, 100_000).round().astype(int)
    linked = map_unique(checks.cell("hazard_codes"), split_list)
    unknown = linked.map(lambda codes: [c for c in codes if c not in hazards])
    checks.flag(
        unknown.map(bool),
        "hazard_codes",
        "unknown_hazard",
        "关联的隐患编号尚未载入（已保留关联，载入隐患后即可对应）",
        severity=WARN,
    )
    rows["hazard_codes"] = linked.map(as_pg_array)
    flag_duplicates(checks, "inspection_code", rows["inspection_code"], "检查编号")
    return Parsed.of(checks, rows)


_STAGE_DDL = """
CREATE TEMP TABLE stage_inspection (
    source_row int, inspection_code text, uscc text, inspection_date date, unit text, inspector text, kind text,
    findings_count int, hazard_codes text[]
) ON COMMIT DROP
"""
_UPSERT = Upsert(
    stage_ddl=_STAGE_DDL,
    stage_columns=_STAGE_COLUMNS,
    merge=Merge(
        stage="stage_inspection",
        target="inspection",
        key="inspection_code",
        values={
            "inspection_code": "s.inspection_code",
            "enterprise_id": "e.id",
            "region_path": "e.region_path",
            **{c: f"s.{c}" for c in _STAGE_COLUMNS if c not in ("source_row", "inspection_code", "uscc")},
        },
        source="stage_inspection s JOIN enterprise e ON e.uscc = s.uscc AND e.district_code = :d",
    ),
    label="检查编号",
)


def _known_hazards(engine: Engine, district: str) -> set[str]:
    with engine.begin() as conn:
        apply_scope(conn, Scope.whole_district(district))
        return set(conn.execute(text("SELECT hazard_code FROM hazard")).scalars())


def load_inspections(
    engine: Engine, path: Path, options: InspectionOptions, *, progress: Progress | None = None
) -> LoadResult:
    """Validate and upsert an inspection list in one transaction (by 检查编号)."""
    enterprises = known_enterprises(engine, options.district_code)
    hazards = _known_hazards(engine, options.district_code)
    return run_tabular_load(
        engine,
        path,
        options,
        kind="inspections",
        progress=progress,
        parse=lambda table: parse_inspections(table, options, enterprises, hazards),
        write=lambda conn, parsed: _UPSERT.write(conn, parsed, options.district_code, path),
    )
