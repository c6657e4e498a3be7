"""A district outline (tier 1 alone) and the neighbouring areas drawn as map context."""

from __future__ import annotations

from pathlib import Path

import shapely
from sqlalchemy import Engine, text

from geo.crs import STORAGE_SRID
from loaders.audit import write_audit
from loaders.boundaries import BoundaryLoadResult, BoundaryOptions, load_boundaries, read_units
from loaders.errors import LoadRefusedError, Problem

__all__ = ["load_outline", "load_context"]


def load_outline(
    engine: Engine, path: Path, *, code_year: int, crs: str | None = None, columns: dict[str, str] | None = None
) -> BoundaryLoadResult:
    """Make ``path``'s single polygon the tier-1 unit of a new current set of its own.

    The previous set stays, by year; lower tiers come with the boundary loader.
    """
    options = BoundaryOptions(
        code_year=code_year,
        crs=crs,
        columns=columns or {},
        tier=1,
        keep_other_tiers=False,
        expect_single=True,
        audit_kind="outline",
    )
    return load_boundaries(engine, path, options)


def load_context(engine: Engine, path: Path, *, crs: str | None = None) -> int:
    """Replace the context areas (neighbouring districts drawn dimly) with ``path``'s polygons."""
    try:
        units = read_units(path, BoundaryOptions(code_year=0, crs=crs, tier=1))
        invalid = ~shapely.is_valid(units.geometry.values) | ~units.geom_type.isin(["Polygon", "MultiPolygon"])
        if invalid.any():
            raise LoadRefusedError(
                [
                    Problem(path.name, int(i) + 1, "geometry", units["code"].iat[i], "invalid_geometry", "应为有效的面")
                    for i in invalid.nonzero()[0]
                ]
            )
    except LoadRefusedError as exc:
        write_audit(
            engine,
            kind="context",
            path=path,
            status="refused",
            detail={"problems": [p.as_dict() for p in exc.problems]},
        )
        raise
    parts, owner = shapely.get_parts(units.geometry.values, return_index=True)
    multipolygons = shapely.multipolygons(parts, indices=owner)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM context_area"))
        conn.execute(
            text("INSERT INTO context_area (code, name, geom) VALUES (:code, :name, ST_GeomFromWKB(:wkb, :srid))"),
            [
                {"code": c, "name": n, "wkb": shapely.to_wkb(g), "srid": STORAGE_SRID}
                for c, n, g in zip(units["code"], units["name"], multipolygons, strict=True)
            ],
        )
        write_audit(conn, kind="context", path=path, status="loaded", counts={"inserted": len(units)})
    return len(units)
