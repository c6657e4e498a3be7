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
from db.scope import Scope, apply_scope
from geo.demo_enterprises import PROFILE_FILES, EnterpriseProfile, demo_enterprise_list
from geo.demo_grid import generate_demo_grid
from loaders.boundaries import BoundaryOptions, load_boundaries
from loaders.enterprises import EnterpriseOptions, load_enterprises
from loaders.outline import load_context

__all__ = [
    "load_demo",
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


def write_demo_enterprises(
    grid_file: Path, out_dir: Path, *, today: dt.date, seed: int = DEMO_SEED, n: int = 20000
) -> tuple[Path, Path, pd.DataFrame]:
    """Write the demo enterprise list as a bureau receives it: Excel and CSV, Chinese headers,
    part GCJ-02 and part BD-09, with a handful of realistic bad rows. Returns both paths and
    the bad rows (row numbers, kinds, what the loader should do with them)."""
    grid = gpd.read_file(grid_file, layer="grid")
    tier2 = pd.read_csv(TIER2_FILE, dtype={"code": str})
    tables = {key: pd.read_csv(TABLES / name, dtype=str, keep_default_na=False) for key, name in PROFILE_FILES.items()}
    listing = demo_enterprise_list(grid, tier2, EnterpriseProfile.from_tables(tables), seed=seed, n=n, today=today)
    out_dir.mkdir(parents=True, exist_ok=True)
    xlsx, csv = out_dir / f"企业名单_蚌山区_{today:%Y%m%d}.xlsx", out_dir / f"企业名单_蚌山区_{today:%Y%m%d}.csv"
    for target, write in ((xlsx, _write_xlsx), (csv, _write_csv)):
        tmp = target.with_name(f".{target.name}.tmp")
        write(listing.table, tmp)
        tmp.replace(target)
    return xlsx, csv, listing.bad_rows


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


def _has_enterprises(engine: Engine) -> bool:
    with engine.begin() as conn:
        apply_scope(conn, Scope.whole_district("340303"))
        return conn.execute(
            text("SELECT EXISTS (SELECT 1 FROM enterprise WHERE district_code = '340303')")
        ).scalar_one()


def _has_grid(engine: Engine) -> bool:
    """True when the demo district already has a current grid below tier 1."""
    with engine.connect() as conn:
        return conn.execute(
            text(
                "SELECT EXISTS (SELECT 1 FROM boundary_set s JOIN region_unit u ON u.boundary_set_id = s.id "
                "WHERE s.district_code = '340303' AND s.is_current AND u.tier > 1)"
            )
        ).scalar_one()


def load_demo(engine: Engine, *, if_empty: bool = False, console: Console | None = None) -> bool:
    """Load the demo data; with ``if_empty`` only what the database does not hold yet."""
    say = (console or Console(stderr=True)).print
    loaded = False
    grid_file = demo_grid_path()
    if not (if_empty and _has_grid(engine)):
        if not grid_file.exists():
            say("生成演示网格（合成的乡镇/街道、社区/村、网格边界）…")
            write_demo_grid(grid_file)
        result = load_boundaries(engine, grid_file, BoundaryOptions(code_year=DEMO_CODE_YEAR))
        tiers = "、".join(f"{t}级 {n} 个" for t, n in result.units_per_tier.items())
        say(f"网格边界: {tiers}")
        say(f"周边区域: {load_context(engine, CONTEXT_FILE)} 个")
        loaded = True
    if not (if_empty and _has_enterprises(engine)):
        settings = get_settings()
        today = dt.datetime.now(settings.tz).date()
        xlsx = DEMO_OUTPUT / f"企业名单_蚌山区_{today:%Y%m%d}.xlsx"
        if not xlsx.exists():  # generated once a day, dated relative to the day it is made
            xlsx, _, _ = write_demo_enterprises(grid_file, DEMO_OUTPUT, today=today)
        result = load_enterprises(engine, xlsx, EnterpriseOptions(district_code="340303"))
        say(
            f"企业: 新增 {result.inserted}，更新 {result.updated}，拒绝 {result.rejected}（见 {result.rejects_file}），"
            f"落点 {result.placement}"
        )
        loaded = True
    return loaded
