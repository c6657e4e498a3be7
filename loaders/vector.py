"""Reading vector boundary files and bringing them to the storage CRS.

A CRS is checked, never assumed: a file with no CRS and no ``--crs`` is refused; coordinates
that look projected or swapped are called out.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import shapely
from pyproj import CRS

from geo.crs import STORAGE_SRID
from loaders.errors import LoadRefusedError, Problem

__all__ = ["read_vector", "to_storage_crs", "CRS_HELP"]

CRS_HELP = "用 --crs 指定坐标系: wgs84、cgcs2000、gcj02（高德）、bd09（百度）或 EPSG 代码（如 4549）"

# Rough bounding box of China in lon/lat degrees, to call out projected or swapped coordinates.
_CHINA_LON = (73.0, 136.0)
_CHINA_LAT = (3.0, 54.0)


def read_vector(path: Path, *, layer: str | None = None, encoding: str | None = None) -> gpd.GeoDataFrame:
    """Read a GeoJSON / Shapefile / GeoPackage / zipped shapefile with pyogrio."""
    if not path.exists():
        raise LoadRefusedError([Problem(str(path), None, None, None, "file_not_found", "文件不存在")])
    source = f"/vsizip/{path}" if path.suffix.lower() == ".zip" else str(path)
    try:
        return gpd.read_file(source, layer=layer, encoding=encoding, engine="pyogrio")
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, ValueError) as exc:
        raise LoadRefusedError(
            [
                Problem(
                    path.name,
                    None,
                    None,
                    None,
                    "unreadable_file",
                    f"无法读取为矢量文件（GeoJSON、Shapefile、GeoPackage 或含 Shapefile 的 zip）: {exc}",
                )
            ]
        ) from exc


def _coordinate_problems(frame: gpd.GeoDataFrame, file_name: str) -> list[Problem]:
    minx, miny, maxx, maxy = frame.total_bounds
    if not np.isfinite([minx, miny, maxx, maxy]).all():
        return [Problem(file_name, None, "geometry", None, "empty_geometry", "文件中没有可用的几何图形")]
    if _CHINA_LAT[0] <= minx and maxx <= _CHINA_LAT[1] and _CHINA_LON[0] <= miny and maxy <= _CHINA_LON[1]:
        return [
            Problem(
                file_name,
                None,
                "geometry",
                f"x {minx:.4f}..{maxx:.4f}, y {miny:.4f}..{maxy:.4f}",
                "swapped_lonlat",
                "坐标疑似经纬度颠倒（x 像纬度、y 像经度），请检查坐标顺序",
            )
        ]
    if max(abs(minx), abs(maxx)) > 180 or max(abs(miny), abs(maxy)) > 90:
        return [
            Problem(
                file_name,
                None,
                "geometry",
                f"x {minx:.1f}..{maxx:.1f}, y {miny:.1f}..{maxy:.1f}",
                "projected_coordinates",
                f"坐标像投影坐标（米），但指定的是经纬度坐标系。{CRS_HELP}",
            )
        ]
    return []


def to_storage_crs(frame: gpd.GeoDataFrame, *, file_name: str, crs: str | None = None) -> gpd.GeoDataFrame:
    """Return a copy of ``frame`` in the storage CRS (EPSG:4490).

    ``crs`` overrides the file's own CRS: ``wgs84``, ``cgcs2000``, ``gcj02``, ``bd09`` or an EPSG
    code. GCJ-02 and BD-09 are not EPSG systems: the file's coordinates are taken as such and
    converted exactly (geo.chinese_crs).
    """
    system = _resolve_system(frame, file_name, crs)
    lonlat_systems = ("wgs84", "cgcs2000", "gcj02", "bd09")
    if system in lonlat_systems or CRS.from_user_input(system).is_geographic:
        problems = _coordinate_problems(frame, file_name)
        if problems:
            raise LoadRefusedError(problems)
    out = frame.copy()
    if system in ("gcj02", "bd09"):
        from geo.chinese_crs import to_storage_lonlat

        def _convert(coords: np.ndarray) -> np.ndarray:
            lon, lat = to_storage_lonlat(coords[:, 0], coords[:, 1], system)
            return np.column_stack([lon, lat])

        out = out.set_geometry(shapely.transform(out.geometry.values, _convert), crs=None)
        return out.set_crs(STORAGE_SRID, allow_override=True)
    if system in ("wgs84", "cgcs2000"):
        # WGS84 and CGCS2000 agree to centimetres: relabel, no datum shift (geo/crs.py).
        return out.set_crs(STORAGE_SRID, allow_override=True)
    out = out.set_crs(system, allow_override=True)
    if out.crs.is_geographic and out.crs.to_epsg() in (4326, STORAGE_SRID):
        return out.set_crs(STORAGE_SRID, allow_override=True)
    converted = out.to_crs(STORAGE_SRID)
    problems = _coordinate_problems(converted, file_name)
    if problems:
        raise LoadRefusedError(problems)
    return converted


def _resolve_system(frame: gpd.GeoDataFrame, file_name: str, crs: str | None) -> str:
    if crs:
        from geo.chinese_crs import UnknownCoordinateSystemError, parse_coordinate_system

        try:
            return parse_coordinate_system(crs)
        except UnknownCoordinateSystemError as exc:
            raise LoadRefusedError(
                [Problem(file_name, None, "--crs", crs, "unknown_crs", f"无法识别的坐标系。{CRS_HELP}")]
            ) from exc
    if frame.crs is None:
        raise LoadRefusedError(
            [
                Problem(
                    file_name,
                    None,
                    None,
                    None,
                    "no_crs",
                    f"文件没有坐标系信息（缺少 .prj 或 crs），无法判断坐标含义。{CRS_HELP}",
                )
            ]
        )
    epsg = frame.crs.to_epsg()
    if epsg in (4326, 4490):
        return "wgs84" if epsg == 4326 else "cgcs2000"
    return f"EPSG:{epsg}" if epsg else frame.crs.to_wkt()
