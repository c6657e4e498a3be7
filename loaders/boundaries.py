"""Boundary loader: a district's grid (any of tiers 1-4) from a vector file into a boundary set.

Parsing and validation are separate from I/O: the checks are the pure ``geo.grid_checks``;
this module reads the file, maps its attributes, and writes one transaction that replaces the
district's current set, re-assigns enterprises to cells and writes an audit row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely
from rich.progress import Progress
from sqlalchemy import Connection, Engine, text

from db.scope import Scope, apply_scope
from geo.crs import STORAGE_SRID, projected_srid_for_longitude
from geo.grid_checks import GridProblem, Tolerances, check_grid
from loaders.audit import write_audit
from loaders.errors import LoadRefusedError, Problem
from loaders.pipeline import analyze
from loaders.tabular import map_headers
from loaders.vector import read_vector, to_storage_crs

__all__ = [
    "BoundaryOptions",
    "BoundaryLoadResult",
    "load_boundaries",
    "read_units",
    "reassign_enterprises",
    "sync_hazard_paths",
    "HEADER_SYNONYMS",
]

# Recognised headers, lower-cased; an explicit option always wins.
HEADER_SYNONYMS: dict[str, tuple[str, ...]] = {
    "code": ("code", "adcode", "编码", "区划代码", "行政区划代码", "统计用区划代码", "网格编码", "单位编码", "代码"),
    "name": ("name", "名称", "区划名称", "网格名称", "单位名称"),
    "tier": ("tier", "level", "层级", "级别", "网格层级"),
    "parent_code": ("parent_code", "parent", "parentcode", "上级编码", "上级代码", "父级编码", "上级区划代码"),
}
FIELD_NAMES_ZH = {"code": "编码", "name": "名称", "tier": "层级", "parent_code": "上级编码"}


@dataclass(frozen=True)
class BoundaryOptions:
    code_year: int
    crs: str | None = None
    layer: str | None = None
    encoding: str | None = None
    columns: dict[str, str] = field(default_factory=dict)  # field -> file column, overriding synonyms
    tier: int | None = None  # every feature is of this tier (e.g. an outline file: 1)
    tolerances: Tolerances = Tolerances()
    allow: frozenset[str] = frozenset()
    repair: bool = False
    keep_other_tiers: bool = True  # the file replaces its own tiers; other current tiers are kept
    audit_kind: str = "boundaries"
    expect_single: bool = False  # an outline file: exactly one feature


@dataclass(frozen=True)
class BoundaryLoadResult:
    district_code: str
    district_name: str
    district_area_km2: float
    code_year: int
    boundary_set_id: int
    units_per_tier: dict[int, int]
    bottom_tier: int
    enterprises_moved: int
    repairs: list[GridProblem]
    audit_id: int


def _map_attributes(frame: gpd.GeoDataFrame, path: Path, options: BoundaryOptions) -> gpd.GeoDataFrame:
    problems = []
    found = map_headers([str(c) for c in frame.columns if c != frame.geometry.name], HEADER_SYNONYMS, options.columns)
    picked = {key: found.get(key) for key in HEADER_SYNONYMS}
    for key in HEADER_SYNONYMS:
        required = key in ("code", "name")
        if picked[key] is None and (required or key in options.columns):
            problems.append(
                Problem(
                    path.name,
                    None,
                    options.columns.get(key, key),
                    None,
                    "missing_column",
                    f"找不到{FIELD_NAMES_ZH[key]}列"
                    f"（文件的列: {', '.join(map(str, frame.columns))}）；用 --{key.replace('_', '-')}-column 指定",
                )
            )
    if problems:
        raise LoadRefusedError(problems)
    out = pd.DataFrame(index=frame.index)
    out["code"] = _text(frame[picked["code"]])
    out["name"] = _text(frame[picked["name"]])
    out["tier"] = (
        pd.Series(options.tier, index=frame.index, dtype="Int64")
        if options.tier
        else pd.to_numeric(frame[picked["tier"]], errors="coerce").astype("Int64")
        if picked["tier"]
        else pd.Series(pd.NA, index=frame.index, dtype="Int64")
    )
    out["parent_code"] = (
        _text(frame[picked["parent_code"]])
        if picked["parent_code"]
        else pd.Series(None, index=frame.index, dtype=object)
    )
    return gpd.GeoDataFrame(out, geometry=frame.geometry.values, crs=frame.crs)


def _text(column: pd.Series) -> pd.Series:
    """Codes and names as stripped text; integer-looking floats (340303.0 from a DBF) lose '.0'."""
    as_text = column.astype("string").str.strip()
    as_text = as_text.str.replace(r"^(\d+)\.0$", r"\1", regex=True)
    return as_text.where(as_text.notna() & (as_text != ""), None).astype(object)


def read_units(path: Path, options: BoundaryOptions) -> gpd.GeoDataFrame:
    """The file's features as code/name/tier/parent_code + geometry in EPSG:4490."""
    frame = read_vector(path, layer=options.layer, encoding=options.encoding)
    if frame.empty:
        raise LoadRefusedError([Problem(path.name, None, None, None, "empty_file", "文件中没有任何要素")])
    units = _map_attributes(frame, path, options)
    return to_storage_crs(units, file_name=path.name, crs=options.crs)


def _to_problem(path: Path, problem: GridProblem) -> Problem:
    column = (
        "geometry"
        if problem.kind
        not in (
            "duplicate_code",
            "missing_code",
            "missing_tier",
            "tier_code_mismatch",
            "bad_tier",
            "orphan",
            "parent_tier_mismatch",
            "cycle",
        )
        else "code"
    )
    row = None if problem.index is None else problem.index + 1
    return Problem(
        path.name, row, column, problem.code, problem.kind, f"{problem.name or ''} {problem.message}".strip()
    )


_KNOWN_SQL = text(
    """
    SELECT u.code, u.name, u.tier, u.parent_code, u.path, u.geom
    FROM region_unit u JOIN boundary_set s ON s.id = u.boundary_set_id AND s.is_current
    """
)


def _known_units(engine: Engine) -> gpd.GeoDataFrame:
    with engine.connect() as conn:
        return gpd.read_postgis(_KNOWN_SQL, conn, geom_col="geom").rename_geometry("geometry")


def _combined_set(units: gpd.GeoDataFrame, known: gpd.GeoDataFrame, district: str) -> gpd.GeoDataFrame:
    """The new set: the file's units, plus the district's current units of tiers the file lacks."""
    if known.empty:
        return units
    in_district = known[known["path"].map(lambda p: p[0] == district).astype(bool)]
    kept = in_district[~in_district["tier"].isin(set(units["tier"]))]
    columns = ["code", "name", "tier", "parent_code", "path", "geometry"]
    combined = pd.concat([units[columns], kept[columns]], ignore_index=True)
    return gpd.GeoDataFrame(combined, geometry="geometry", crs=STORAGE_SRID)


def _areas_m2(frame: gpd.GeoDataFrame) -> pd.Series:
    lon = float(shapely.centroid(shapely.union_all(frame.geometry.values)).x)
    return frame.to_crs(projected_srid_for_longitude(lon)).area


def load_boundaries(
    engine: Engine, path: Path, options: BoundaryOptions, *, progress: Progress | None = None
) -> BoundaryLoadResult:
    """Validate ``path`` and make it (with the district's other current tiers) the current set.

    Every problem is reported at once (:class:`LoadRefusedError`); nothing is written then
    except the audit row of the refusal.
    """
    step = _Steps(progress, total=4)
    try:
        known = _known_units(engine)
        units = read_units(path, options)
        step.advance("检查几何与层级")
        checked = check_grid(
            units, known=known, tolerances=options.tolerances, allow=options.allow, repair=options.repair
        )
        problems = [_to_problem(path, p) for p in checked.problems]
        if options.expect_single and len(units) != 1:
            problems.append(
                Problem(
                    path.name,
                    None,
                    None,
                    str(len(units)),
                    "not_one_district",
                    "区县轮廓文件应只含一个面要素（一个区县）",
                )
            )
        if problems:
            raise LoadRefusedError(problems)
    except LoadRefusedError as exc:
        write_audit(
            engine,
            kind=options.audit_kind,
            path=path,
            status="refused",
            detail={"problems": [p.as_dict() for p in exc.problems]},
        )
        raise
    step.advance("写入数据库")
    district = checked.units["path"].iat[0][0]
    grid = _combined_set(checked.units, known, district) if options.keep_other_tiers else checked.units
    with engine.begin() as conn:
        apply_scope(conn, Scope.whole_district(district))
        set_id, bottom, district_name, district_m2 = _write_set(conn, grid, district, options.code_year, path.name)
        step.advance("重新分配企业到网格")
        analyze(conn, ("boundary_set", "region_unit"))  # the new set is what the placement joins read
        moved = reassign_enterprises(conn, district)
        per_tier = {int(t): int(n) for t, n in grid["tier"].value_counts().sort_index().items()}
        audit_id = write_audit(
            conn,
            kind=options.audit_kind,
            path=path,
            status="loaded",
            counts={"inserted": len(grid)},
            detail={
                "district_code": district,
                "code_year": options.code_year,
                "units_per_tier": per_tier,
                "enterprises_moved": moved,
                "repairs": [r.message for r in checked.repairs],
            },
        )
    step.advance("完成")
    return BoundaryLoadResult(
        district,
        district_name,
        district_m2 / 1e6,
        options.code_year,
        set_id,
        per_tier,
        bottom,
        moved,
        checked.repairs,
        audit_id,
    )


def _write_set(
    conn: Connection, grid: gpd.GeoDataFrame, district: str, code_year: int, source: str
) -> tuple[int, int, str, float]:
    """Insert the set and its units; returns (set id, bottom tier, district name, district m²)."""
    bottom = int(grid["tier"].max())
    conn.execute(
        text("UPDATE boundary_set SET is_current = false WHERE district_code = :d AND is_current"), {"d": district}
    )
    conn.execute(
        text("DELETE FROM boundary_set WHERE district_code = :d AND code_year = :y"), {"d": district, "y": code_year}
    )
    set_id = conn.execute(
        text(
            "INSERT INTO boundary_set (district_code, code_year, is_current, bottom_tier, source_file) "
            "VALUES (:d, :y, true, :b, :src) RETURNING id"
        ),
        {"d": district, "y": code_year, "b": bottom, "src": source},
    ).scalar_one()
    areas = _areas_m2(grid)
    conn.execute(
        text(
            "INSERT INTO region_unit (boundary_set_id, code, name, tier, parent_code, path, code_year, area_m2, geom) "
            "VALUES (:s, :code, :name, :tier, :parent, :path, :year, :area, ST_GeomFromWKB(:wkb, :srid))"
        ),
        [
            {
                "s": set_id,
                "code": code,
                "name": name,
                "tier": int(tier),
                "parent": parent,
                "path": list(path),
                "year": code_year,
                "area": float(area),
                "wkb": shapely.to_wkb(geom),
                "srid": STORAGE_SRID,
            }
            for code, name, tier, parent, path, area, geom in zip(
                grid["code"],
                grid["name"],
                grid["tier"],
                grid["parent_code"],
                grid["path"],
                areas,
                grid.geometry,
                strict=True,
            )
        ],
    )
    top = grid["code"] == district
    return set_id, bottom, str(grid.loc[top, "name"].iat[0]), float(areas[top].iat[0])


# Row-level security keeps PostGIS's (non-leakproof) index operators from running before the
# policy, so a spatial join on enterprise itself cannot use its GiST index (35 s for 20,000
# points). The district's points are copied to a temp table (policy applied once), indexed,
# and joined there.
_REASSIGN_POINTS_SQL = """
CREATE TEMP TABLE reassign_points ON COMMIT DROP AS
SELECT id, cell_code, region_path, placement, geom FROM enterprise
WHERE district_code = :d AND geom IS NOT NULL AND placement <> 'swapped_lonlat';
CREATE INDEX ON reassign_points USING gist (geom);
ANALYZE reassign_points (geom)
"""

# The point → cell rule of gridrisk_cell_for_point for all of them at once: the intersecting
# bottom-tier cell with the lowest code, cells outer against the points' index (revision 0005).
_REASSIGN_SQL = text(
    """
    WITH bottom AS MATERIALIZED (SELECT * FROM gridrisk_bottom_cells(:d)),
    cells AS MATERIALIZED (
        SELECT DISTINCT ON (p.id) p.id, c.code AS new_cell
        FROM bottom c JOIN reassign_points p ON ST_Intersects(c.geom, p.geom)
        ORDER BY p.id, c.code
    ),
    units AS MATERIALIZED (
        SELECT u.code, u.path, u.tier, u.geom FROM region_unit u
        JOIN boundary_set s ON s.id = u.boundary_set_id AND s.is_current AND s.district_code = :d
    ),
    target AS (
        SELECT p.id, p.cell_code AS old_cell, c.new_cell,
               coalesce(u.path, ARRAY[CAST(:d AS text)]) AS region_path,
               CASE WHEN c.new_cell IS NOT NULL THEN 'placed'
                    WHEN EXISTS (SELECT 1 FROM units t WHERE t.tier = 1 AND ST_Intersects(t.geom, p.geom))
                    THEN 'no_cell'
                    ELSE 'outside_district' END AS placement
        FROM reassign_points p
        LEFT JOIN cells c ON c.id = p.id
        LEFT JOIN units u ON u.code = c.new_cell
    )
    UPDATE enterprise e
    SET cell_code = t.new_cell, region_path = t.region_path, placement = t.placement, updated_at = now()
    FROM target t
    WHERE e.id = t.id AND (e.cell_code IS DISTINCT FROM t.new_cell OR e.region_path <> t.region_path
                           OR e.placement <> t.placement)
    RETURNING t.old_cell IS DISTINCT FROM t.new_cell
    """
)


def reassign_enterprises(conn: Connection, district: str) -> int:
    """Place the district's enterprises in the current cells; returns how many changed cell.

    Hazards follow their enterprise's ancestry (row-level security keys on it).
    """
    for statement in _REASSIGN_POINTS_SQL.split(";"):
        conn.execute(text(statement), {"d": district})
    moved = sum(1 for (changed,) in conn.execute(_REASSIGN_SQL, {"d": district}) if changed)
    conn.execute(text("DROP TABLE reassign_points"))
    sync_hazard_paths(conn, district)
    return moved


def sync_hazard_paths(conn: Connection, district: str) -> None:
    """Hazards and inspections carry their enterprise's ancestry (row-level security keys on it)."""
    for table in ("hazard", "inspection"):  # constants, not input
        conn.execute(
            text(
                f"UPDATE {table} r SET region_path = e.region_path FROM enterprise e "
                "WHERE r.enterprise_id = e.id AND e.district_code = :d AND r.region_path <> e.region_path"
            ),
            {"d": district},
        )


class _Steps:
    """A progress bar over the load's steps (no-op without a rich Progress)."""

    def __init__(self, progress: Progress | None, total: int):
        self.progress = progress
        self.task = progress.add_task("读取边界文件", total=total) if progress else None

    def advance(self, description: str) -> None:
        if self.progress is not None:
            self.progress.update(self.task, advance=1, description=description)
