"""The demo district: 蚌山区, generated as files and loaded through the bureau's own commands.

Tier 1 is the real outline; tiers 2-4 are generated (geo.demo_grid) with the real names and
2023 codes, written as a GeoPackage under .data/demo/ and loaded by the boundary loader.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import geopandas as gpd
import pandas as pd
from rich.console import Console
from sqlalchemy import Engine, text

from config import get_settings
from config.settings import PROJECT_ROOT
from db.grading import refresh_grades, refresh_if_stale
from db.scope import Scope, apply_scope
from geo.demo_enterprises import PROFILE_FILES, EnterpriseProfile, demo_enterprise_list
from geo.demo_grid import generate_demo_grid
from geo.demo_hazards import (
    HAZARD_PROFILE_FILES,
    HazardProfile,
    generate_demo_hazards,
    generate_demo_inspections,
    generate_demo_staff,
)
from loaders.audit import write_audit
from loaders.boundaries import BoundaryOptions, load_boundaries
from loaders.demo_accounts import ensure_demo_accounts
from loaders.enterprises import EnterpriseOptions, load_enterprises
from loaders.hazards import HazardOptions, load_hazards
from loaders.inspections import InspectionOptions, load_inspections
from loaders.outline import load_context
from loaders.staff import StaffOptions, load_staff

__all__ = [
    "load_demo",
    "shift_demo_dates",
    "write_demo_grid",
    "write_demo_enterprises",
    "DEMO_CODE_YEAR",
    "OUTLINE_FILE",
    "CONTEXT_FILE",
    "DEMO_OUTPUT",
]

BOUNDARIES = PROJECT_ROOT / "data" / "boundaries"
TABLES = PROJECT_ROOT / "data" / "demo"
DEMO_OUTPUT = PROJECT_ROOT / ".data" / "demo"
DEMO_CODE_YEAR = 2023  # the year of the names and codes in streets/villages_340303.csv
DEMO_SEED = 340303
DEMO_DISTRICT = "340303"
OUTLINE_FILE = BOUNDARIES / "340303_bengshan_district.geojson"
CONTEXT_FILE = BOUNDARIES / "3403_bengbu_context_districts.geojson"
TIER2_FILE = TABLES / "tier2_anchors_340303.csv"
TIER3_FILE = BOUNDARIES / "villages_340303.csv"


def read_grid_inputs(
    outline_file: Path = OUTLINE_FILE, tier2_file: Path = TIER2_FILE, tier3_file: Path = TIER3_FILE
) -> tuple[gpd.GeoDataFrame, pd.DataFrame, pd.DataFrame]:
    """The generator's inputs: the outline, the tier-2 anchor/density table, the tier-3 names."""
    outline = gpd.read_file(outline_file)
    tier2 = pd.read_csv(tier2_file, dtype={"code": str})
    villages = pd.read_csv(tier3_file, dtype=str)
    tier3 = villages.rename(columns={"streetCode": "parent_code"})[["code", "name", "parent_code"]]
    return outline, tier2, tier3


def write_demo_grid(
    out: Path,
    *,
    outline_file: Path = OUTLINE_FILE,
    tier2_file: Path = TIER2_FILE,
    tier3_file: Path = TIER3_FILE,
    seed: int = DEMO_SEED,
    target_cells: int = 1900,
) -> Path:
    """Generate a four-tier grid inside ``outline_file`` and write it as a GeoPackage layer "grid".

    ``tier2_file``: code,name,anchor_lon,anchor_lat,expected_enterprises; ``tier3_file``:
    code,name and the parent code as ``streetCode`` or ``parent_code``.
    """
    outline, tier2, tier3 = read_grid_inputs(outline_file, tier2_file, tier3_file)
    grid = generate_demo_grid(outline, tier2, tier3, tier2, seed=seed, target_cells=target_cells)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp.gpkg")
    grid.to_file(tmp, layer="grid", engine="pyogrio")
    tmp.replace(out)  # a killed generation never leaves a half-written file behind
    return out


def demo_enterprise_table(grid_file: Path, *, today: dt.date, seed: int = DEMO_SEED, n: int = 20000):
    """The demo enterprise list (Chinese headers) and its deliberate bad rows, in memory."""
    grid = gpd.read_file(grid_file, layer="grid")
    tier2 = pd.read_csv(TIER2_FILE, dtype={"code": str})
    tables = {key: pd.read_csv(TABLES / name, dtype=str, keep_default_na=False) for key, name in PROFILE_FILES.items()}
    return demo_enterprise_list(grid, tier2, EnterpriseProfile.from_tables(tables), seed=seed, n=n, today=today)


def write_demo_enterprises(
    grid_file: Path, out_dir: Path, *, today: dt.date, seed: int = DEMO_SEED, n: int = 20000
) -> tuple[Path, Path, pd.DataFrame]:
    """Write the demo enterprise list as a bureau receives it: Excel and CSV, Chinese headers,
    part GCJ-02 and part BD-09, with a handful of realistic bad rows. Returns both paths and
    the bad rows (row numbers, kinds, what the loader should do with them)."""
    listing = demo_enterprise_table(grid_file, today=today, seed=seed, n=n)
    xlsx, csv = out_dir / f"企业名单_蚌山区_{today:%Y%m%d}.xlsx", out_dir / f"企业名单_蚌山区_{today:%Y%m%d}.csv"
    _write_files(listing.table, ((xlsx, _write_xlsx), (csv, _write_csv)))
    return xlsx, csv, listing.bad_rows


def write_demo_records(grid_file: Path, out_dir: Path, *, today: dt.date, seed: int = DEMO_SEED) -> dict[str, Path]:
    """Two years of hazards, the inspections and the staff roster, as CSV exports (dated by ``today``)."""
    listing = demo_enterprise_table(grid_file, today=today, seed=seed)
    tables = {k: pd.read_csv(TABLES / f, dtype=str, keep_default_na=False) for k, f in HAZARD_PROFILE_FILES.items()}
    profile = HazardProfile.from_tables(tables)
    hazards = generate_demo_hazards(listing.table, profile, today=today, seed=seed)
    inspections = generate_demo_inspections(listing.table, hazards, profile, today=today, seed=seed)
    staff = generate_demo_staff(gpd.read_file(grid_file, layer="grid"), seed=seed)
    paths = {
        "staff": out_dir / "网格人员名册_蚌山区.csv",
        "hazards": out_dir / f"隐患台账_蚌山区_{today:%Y%m%d}.csv",
        "inspections": out_dir / f"检查记录_蚌山区_{today:%Y%m%d}.csv",
    }
    for key, frame in (("staff", staff), ("hazards", hazards), ("inspections", inspections)):
        _write_files(frame, ((paths[key], _write_csv),))
    return paths


def _write_files(frame: pd.DataFrame, targets) -> None:
    for target, write in targets:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.tmp")
        write(frame, tmp)
        tmp.replace(target)  # a killed generation never leaves a half-written file behind


def _write_xlsx(table: pd.DataFrame, path: Path) -> None:
    with pd.ExcelWriter(path, engine="xlsxwriter", date_format="yyyy-mm-dd") as writer:
        table.to_excel(writer, sheet_name="企业名单", index=False)
        sheet = writer.sheets["企业名单"]
        sheet.freeze_panes(1, 0)
        sheet.set_column(0, len(table.columns) - 1, 14)


def _write_csv(table: pd.DataFrame, path: Path) -> None:
    table.to_csv(path, index=False, encoding="utf-8-sig")


def demo_grid_path(seed: int = DEMO_SEED) -> Path:
    return DEMO_OUTPUT / f"340303_grid_{DEMO_CODE_YEAR}_seed{seed}.gpkg"


def _exists(engine: Engine, sql: str) -> bool:
    with engine.begin() as conn:
        apply_scope(conn, Scope.whole_district(DEMO_DISTRICT))
        return bool(conn.execute(text(sql)).scalar_one())


def _has_grid(engine: Engine) -> bool:
    """True when the demo district already has a current grid below tier 1."""
    return _exists(
        engine,
        "SELECT EXISTS (SELECT 1 FROM boundary_set s JOIN region_unit u ON u.boundary_set_id = s.id "
        "WHERE s.district_code = '340303' AND s.is_current AND u.tier > 1)",
    )


def load_demo(engine: Engine, *, if_empty: bool = False, console: Console | None = None) -> bool:
    """Load the demo data through the bureau's own loaders; with ``if_empty`` only what the
    database does not hold yet, and shift an older demo's dates forward to today. The demo's
    accounts (one per role, loaders/demo_accounts.py) are created when missing."""
    say = (console or Console(stderr=True)).print
    today = get_settings().today()
    grid_file = demo_grid_path()
    loaded = False
    if not (if_empty and _has_grid(engine)):
        if not grid_file.exists():
            say("生成演示网格（合成的乡镇/街道、社区/村、网格边界）…")
            write_demo_grid(grid_file)
        result = load_boundaries(engine, grid_file, BoundaryOptions(code_year=DEMO_CODE_YEAR))
        say("网格边界: " + "、".join(f"{t}级 {n} 个" for t, n in result.units_per_tier.items()))
        say(f"周边区域: {load_context(engine, CONTEXT_FILE)} 个")
        loaded = True
    if not (if_empty and _exists(engine, "SELECT EXISTS (SELECT 1 FROM enterprise WHERE district_code = '340303')")):
        xlsx = DEMO_OUTPUT / f"企业名单_蚌山区_{today:%Y%m%d}.xlsx"
        if not xlsx.exists():  # generated once a day, dated relative to the day it is made
            xlsx, _, _ = write_demo_enterprises(grid_file, DEMO_OUTPUT, today=today)
        result = load_enterprises(engine, xlsx, EnterpriseOptions(district_code=DEMO_DISTRICT))
        say(
            f"企业: 新增 {result.inserted}，拒绝 {result.rejected}（演示名单中故意放入的错误行，见 {result.rejects_file}）"
        )
        loaded = True
    if not (if_empty and _exists(engine, "SELECT EXISTS (SELECT 1 FROM hazard)")):
        _load_records(engine, grid_file, today, say)
        loaded = True
    elif shift_demo_dates(engine, today, say):
        loaded = True
    ensure_demo_accounts(engine, DEMO_DISTRICT, console=console)
    with engine.begin() as conn:
        if loaded:
            refresh_grades(conn, DEMO_DISTRICT, as_of=today)
        elif not refresh_if_stale(conn, DEMO_DISTRICT, today=today):
            return loaded
    say(f"风险等级已按 {today} 重新计算")
    return loaded


def _load_records(engine: Engine, grid_file: Path, today: dt.date, say) -> None:
    say("生成两年的演示隐患、检查记录和网格人员名册…")
    paths = write_demo_records(grid_file, DEMO_OUTPUT, today=today)
    for kind, loader, options in (
        ("staff", load_staff, StaffOptions(district_code=DEMO_DISTRICT)),
        ("hazards", load_hazards, HazardOptions(district_code=DEMO_DISTRICT, today=today)),
        ("inspections", load_inspections, InspectionOptions(district_code=DEMO_DISTRICT, today=today)),
    ):
        result = loader(engine, paths[kind], options)
        say(f"{paths[kind].name}: 新增 {result.inserted}，拒绝 {result.rejected}")
    write_audit(engine, kind="demo", path=None, status="loaded", detail={"as_of": today.isoformat()})


# Every date of the demo's records, shifted together so "this month" and "overdue" stay true.
_SHIFT_SQL = (
    "UPDATE hazard SET found_date = found_date + :days, deadline_date = deadline_date + :days, "
    "rectified_date = rectified_date + :days, closed_date = closed_date + :days, updated_at = now()",
    "UPDATE inspection SET inspection_date = inspection_date + :days, updated_at = now()",
)


def shift_demo_dates(engine: Engine, today: dt.date, say) -> bool:
    """Move an older demo's dates forward to ``today`` in one audited transaction."""
    with engine.begin() as conn:
        as_of = conn.execute(
            text(
                "SELECT detail ->> 'as_of' FROM load_audit WHERE kind IN ('demo', 'demo_shift') ORDER BY id DESC LIMIT 1"
            )
        ).scalar()
        if as_of is None or not get_settings().demo:
            return False
        days = (today - dt.date.fromisoformat(as_of)).days
        if days < 1:
            return False
        apply_scope(conn, Scope.whole_district(DEMO_DISTRICT))
        for statement in _SHIFT_SQL:
            conn.execute(text(statement), {"days": days})
        write_audit(
            conn,
            kind="demo_shift",
            path=None,
            status="loaded",
            detail={"as_of": today.isoformat(), "shifted_days": days, "previous_as_of": as_of},
        )
    say(f"演示数据的日期已整体后移 {days} 天（至 {today}）")
    return True
