"""Grid staff loader (网格员/网格长): who answers for which cells, upserted by phone number.

Phone numbers are personal data: each row carries the union of its cells' ancestries, so
row-level security shows it only to users whose scope covers one of its cells.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
from rich.progress import Progress
from sqlalchemy import Engine, text

from loaders.inspections import require_columns
from loaders.pipeline import (
    LoadResult,
    Merge,
    Parsed,
    TabularOptions,
    Upsert,
    as_pg_array,
    run_tabular_load,
)
from loaders.rows import RowChecks, flag_duplicates, map_unique, split_list
from loaders.tabular import RawTable, map_headers

__all__ = ["HEADERS", "StaffOptions", "parse_staff", "load_staff"]

HEADERS: dict[str, tuple[str, ...]] = {
    "name": ("姓名", "名字", "人员姓名", "name"),
    "role": ("角色", "职务", "岗位", "role"),
    "phone": ("手机号码", "手机号", "联系电话", "电话", "phone"),
    "cell_codes": ("负责网格", "网格编码", "所属网格", "网格", "cells"),
}
REQUIRED = ("name", "role", "phone", "cell_codes")
ROLES = {"网格员": "网格员", "专职网格员": "网格员", "兼职网格员": "网格员", "网格长": "网格长"}
# Mainland mobile (11 digits, 13x-19x) or a landline with area code (0xx-xxxxxxx[x]).
_PHONE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$")
_STAGE_COLUMNS = ["source_row", "phone", "name", "role", "cell_codes", "region_path"]
StaffOptions = TabularOptions


def _units(engine: Engine, district: str) -> dict[str, list[str]]:
    """Current unit code → its path, for the district."""
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT u.code, u.path FROM region_unit u JOIN boundary_set s ON s.id = u.boundary_set_id "
                "AND s.is_current WHERE s.district_code = :d"
            ),
            {"d": district},
        ).all()
    return {code: list(path) for code, path in rows}


def parse_staff(table: RawTable, options: TabularOptions, units: dict[str, list[str]]) -> Parsed:
    columns = map_headers(list(table.frame.columns), HEADERS, options.columns)
    require_columns(table, columns, REQUIRED, HEADERS)
    checks = RowChecks(table, columns)
    rows = pd.DataFrame(index=table.frame.index)
    rows["name"] = checks.cell("name").str.strip()
    checks.flag(rows["name"] == "", "name", "missing_name", "姓名为空")
    role_text = checks.cell("role").str.strip()
    role = map_unique(role_text, ROLES)
    checks.flag(role.isna(), "role", "unknown_role", "角色应为 网格员 或 网格长")
    rows["role"] = role
    phone = checks.cell("phone").str.replace(r"[\s\u3000]", "", regex=True)
    checks.flag(~phone.str.match(_PHONE), "phone", "bad_phone", "不是有效的电话号码（手机 11 位，或带区号的固定电话）")
    rows["phone"] = phone
    cells = map_unique(checks.cell("cell_codes"), split_list)
    checks.flag(cells.map(len) == 0, "cell_codes", "missing_cells", "没有填写负责的网格")
    unknown = cells.map(lambda codes: [c for c in codes if c not in units])
    checks.flag(
        unknown.map(bool),
        "cell_codes",
        "unknown_cell",
        lambda v: f"网格编码不在当前网格中: {'、'.join(c for c in split_list(v) if c not in units)}",
    )
    rows["cell_codes"] = cells.map(as_pg_array)
    # The cells' ancestries united, district first (row-level security keys on it).
    rows["region_path"] = cells.map(
        lambda codes: as_pg_array(list(dict.fromkeys(a for c in codes if c in units for a in units[c])))
    )
    flag_duplicates(checks, "phone", phone, "电话号码")
    return Parsed.of(checks, rows)


_STAGE_DDL = """
CREATE TEMP TABLE stage_staff (
    source_row int, phone text, name text, role text, cell_codes text[], region_path text[]
) ON COMMIT DROP
"""
_UPSERT = Upsert(
    stage_ddl=_STAGE_DDL,
    stage_columns=_STAGE_COLUMNS,
    merge=Merge(
        stage="stage_staff",
        target="grid_staff",
        key="phone",
        values={
            "phone": "s.phone",
            "name": "s.name",
            "role": "s.role",
            "cell_codes": "s.cell_codes",
            "region_path": "s.region_path",
            "district_code": ":d",
        },
        source="stage_staff s",
    ),
    label="电话号码",
)


def load_staff(engine: Engine, path: Path, options: TabularOptions, *, progress: Progress | None = None) -> LoadResult:
    """Validate and upsert a staff roster in one transaction (by phone number)."""
    units = _units(engine, options.district_code)
    return run_tabular_load(
        engine,
        path,
        options,
        kind="staff",
        progress=progress,
        parse=lambda table: parse_staff(table, options, units),
        write=lambda conn, parsed: _UPSERT.write(conn, parsed, options.district_code, path),
    )
