"""Load a district outline into tier 1 and neighbouring areas as map context.

The full four-tier boundary loader is its own capability; this loader makes the walking
skeleton real: file → checked geometry in EPSG:4490 → one transaction with an audit row.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import shapely
from sqlalchemy import Connection, Engine, text

from db.scope import Scope, apply_scope
from geo.crs import STORAGE_SRID, projected_srid_for_longitude
from loaders.audit import write_audit
from loaders.errors import LoadRefusedError, Problem
from loaders.vector import read_vector, to_storage_crs

__all__ = ["OutlineResult", "load_outline", "load_context", "pick_column"]

CODE_HEADERS = ("code", "adcode", "编码", "区划代码", "行政区划代码")
NAME_HEADERS = ("name", "名称", "区划名称")


@dataclass(frozen=True)
class OutlineResult:
    district_code: str
    name: str
    code_year: int
    area_km2: float
    audit_id: int


def pick_column(frame: gpd.GeoDataFrame, candidates: tuple[str, ...], given: str | None) -> str | None:
    if given:
        return given if given in frame.columns else None
    lowered = {str(c).strip().lower(): c for c in frame.columns}
    return next((lowered[c] for c in candidates if c in lowered), None)


def _read_units(
    path: Path, *, crs: str | None, code_column: str | None, name_column: str | None
) -> tuple[gpd.GeoDataFrame, list[Problem]]:
    """Units in EPSG:4490 and the row problems found; file-level problems raise at once."""
    frame = read_vector(path)
    problems: list[Problem] = []
    code_col = pick_column(frame, CODE_HEADERS, code_column)
    name_col = pick_column(frame, NAME_HEADERS, name_column)
    if code_col is None:
        problems.append(
            Problem(
                path.name,
                None,
                code_column or "code",
                None,
                "missing_column",
                f"找不到编码列（可用列: {', '.join(map(str, frame.columns))}）；用 --code-column 指定",
            )
        )
    if name_col is None:
        problems.append(
            Problem(
                path.name,
                None,
                name_column or "name",
                None,
                "missing_column",
                f"找不到名称列（可用列: {', '.join(map(str, frame.columns))}）；用 --name-column 指定",
            )
        )
    if problems:
        raise LoadRefusedError(problems)
    frame = to_storage_crs(frame, file_name=path.name, crs=crs)
    out = gpd.GeoDataFrame(
        {"code": frame[code_col].astype(str).str.strip(), "name": frame[name_col].astype(str).str.strip()},
        geometry=frame.geometry.values,
        crs=frame.crs,
    )
    problems = _geometry_problems(out, path.name)
    if problems:
        return out, problems
    return out.set_geometry(_as_multipolygons(out.geometry.values), crs=out.crs), []


def _as_multipolygons(geoms: object) -> object:
    """Every geometry as a MultiPolygon (the column type), vectorised."""
    parts, owner = shapely.get_parts(geoms, return_index=True)
    return shapely.multipolygons(parts, indices=owner)


def _geometry_problems(frame: gpd.GeoDataFrame, file_name: str) -> list[Problem]:
    problems = []
    geoms = frame.geometry.values
    for i in range(len(frame)):
        row, code, geom = i + 1, frame["code"].iat[i], geoms[i]
        if geom is None or geom.is_empty:
            problems.append(Problem(file_name, row, "geometry", code, "empty_geometry", "几何为空"))
        elif geom.geom_type not in ("Polygon", "MultiPolygon"):
            problems.append(
                Problem(
                    file_name,
                    row,
                    "geometry",
                    code,
                    "not_polygon",
                    f"应为面（Polygon/MultiPolygon），收到 {geom.geom_type}",
                )
            )
        elif not geom.is_valid:
            problems.append(
                Problem(
                    file_name, row, "geometry", code, "invalid_geometry", f"几何无效: {shapely.is_valid_reason(geom)}"
                )
            )
    duplicated = frame["code"][frame["code"].duplicated()]
    problems.extend(
        Problem(file_name, int(i) + 1, "code", code, "duplicate_code", "编码重复") for i, code in duplicated.items()
    )
    return problems


def _area_m2(frame: gpd.GeoDataFrame) -> list[float]:
    lon = frame.geometry.union_all().centroid.x
    return frame.to_crs(projected_srid_for_longitude(lon)).area.tolist()


def load_outline(
    engine: Engine,
    path: Path,
    *,
    code_year: int,
    crs: str | None = None,
    code_column: str | None = None,
    name_column: str | None = None,
) -> OutlineResult:
    """Make ``path``'s single district polygon the tier-1 unit of a new current boundary set.

    Replaces the district's current set in one transaction; the previous set stays, by year.
    """
    try:
        units, problems = _read_units(path, crs=crs, code_column=code_column, name_column=name_column)
        if len(units) != 1:
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
            kind="outline",
            path=path,
            status="refused",
            detail={"problems": [p.as_dict() for p in exc.problems]},
        )
        raise
    code, name = units["code"].iat[0], units["name"].iat[0]
    area = _area_m2(units)[0]
    with engine.begin() as conn:
        apply_scope(conn, Scope.whole_district(code))
        set_id = _replace_boundary_set(conn, code, code_year, path.name)
        conn.execute(
            text(
                "INSERT INTO region_unit (boundary_set_id, code, name, tier, parent_code, path, code_year, area_m2, geom) "
                "VALUES (:set_id, :code, :name, 1, NULL, :path, :year, :area, "
                "ST_GeomFromWKB(:wkb, :srid))"
            ),
            {
                "set_id": set_id,
                "code": code,
                "path": [code],
                "name": name,
                "year": code_year,
                "area": area,
                "wkb": units.geometry.iat[0].wkb,
                "srid": STORAGE_SRID,
            },
        )
        audit_id = write_audit(
            conn,
            kind="outline",
            path=path,
            status="loaded",
            counts={"inserted": 1},
            detail={"district_code": code, "code_year": code_year},
        )
    return OutlineResult(code, name, code_year, area / 1e6, audit_id)


def _replace_boundary_set(conn: Connection, district_code: str, code_year: int, source: str) -> int:
    conn.execute(
        text("UPDATE boundary_set SET is_current = false WHERE district_code = :d AND is_current"), {"d": district_code}
    )
    conn.execute(
        text("DELETE FROM boundary_set WHERE district_code = :d AND code_year = :y"),
        {"d": district_code, "y": code_year},
    )
    return conn.execute(
        text(
            "INSERT INTO boundary_set (district_code, code_year, is_current, source_file) "
            "VALUES (:d, :y, true, :src) RETURNING id"
        ),
        {"d": district_code, "y": code_year, "src": source},
    ).scalar_one()


def load_context(engine: Engine, path: Path, *, crs: str | None = None) -> int:
    """Replace the context areas (neighbouring districts drawn dimly) with ``path``'s polygons."""
    try:
        units, problems = _read_units(path, crs=crs, code_column=None, name_column=None)
        if problems:
            raise LoadRefusedError(problems)
    except LoadRefusedError as exc:
        write_audit(
            engine,
            kind="context",
            path=path,
            status="refused",
            detail={"problems": [p.as_dict() for p in exc.problems]},
        )
        raise
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM context_area"))
        conn.execute(
            text("INSERT INTO context_area (code, name, geom) VALUES (:code, :name, ST_GeomFromWKB(:wkb, :srid))"),
            [
                {"code": c, "name": n, "wkb": g.wkb, "srid": STORAGE_SRID}
                for c, n, g in zip(units["code"], units["name"], units.geometry, strict=True)
            ],
        )
        write_audit(conn, kind="context", path=path, status="loaded", counts={"inserted": len(units)})
    return len(units)
