"""Chinese web-map coordinate systems: WGS84/CGCS2000, GCJ-02 (AMap, Tencent) and BD-09 (Baidu).

Enterprise lists usually arrive geocoded by AMap (GCJ-02) or Baidu (BD-09); stored geometry is
CGCS2000 (``geo.crs.STORAGE_SRID``), numerically the same as WGS84 at map scale. A point read in
the wrong system lands 0.5 to 1.3 km away around 蚌埠, i.e. silently in the wrong grid cell, so
every row's system is parsed explicitly (:func:`parse_coordinate_system`) and converted with
:func:`to_storage_lonlat`.

Conventions
-----------
* Longitude first, degrees, like every other module here.
* Scalars in, Python ``float`` out; array-likes in, ``numpy.float64`` arrays out (lon and lat are
  broadcast against each other). Inputs are never modified.
* Outside the rough China bounding box of the published GCJ-02 algorithm the GCJ-02 shift is not
  applied (WGS84 and GCJ-02 coincide there). The BD-09 step on top of GCJ-02 is a separate
  published formula with no such test, so it shifts every point, in China or not.
* The inverses are iterated until the forward transform of the result reproduces the input to
  within ``1e-10`` degrees (about 0.01 mm), far inside the 1 mm the domain brief asks for.

The GCJ-02 and BD-09 formulas are the ones published with the open-source ``eviltransform`` and
``coordtransform`` projects. Their closed-form inverses are approximations (GCJ-02 up to about
5 m off, BD-09 up to about 0.23 m, measured over China), so both inverses here are iterated.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from typing import TypeAlias

import numpy as np
from numpy.typing import ArrayLike, NDArray
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError, ProjError

from geo.crs import STORAGE_SRID, WGS84

__all__ = [
    "UnknownCoordinateSystemError",
    "bd09_to_gcj02",
    "bd09_to_wgs84",
    "gcj02_to_bd09",
    "gcj02_to_wgs84",
    "parse_coordinate_system",
    "to_storage_lonlat",
    "wgs84_to_bd09",
    "wgs84_to_gcj02",
]

# --- GCJ-02 constants (published algorithm) ---------------------------------------------
# The obfuscation is computed on the Krasovsky 1940 ellipsoid, not on WGS84's.
KRASOVSKY_SEMI_MAJOR_AXIS_M = 6378245.0
KRASOVSKY_ECCENTRICITY_SQUARED = 0.00669342162296594323
# The offset polynomials are expanded around this point (degrees).
_GCJ_ORIGIN_LON = 105.0
_GCJ_ORIGIN_LAT = 35.0
# Rough China bounding box of the published algorithm (degrees); outside it no shift is applied.
CHINA_MIN_LON = 72.004
CHINA_MAX_LON = 137.8347
CHINA_MIN_LAT = 0.8293
CHINA_MAX_LAT = 55.8271

# --- BD-09 constants (Baidu's published formula) ------------------------------------------
_BD_X_PI = np.pi * 3000.0 / 180.0  # angular frequency of Baidu's wobble, radians per degree
_BD_RADIUS_WOBBLE = 0.00002  # degrees
_BD_ANGLE_WOBBLE = 0.000003  # radians
_BD_LON_OFFSET = 0.0065  # degrees
_BD_LAT_OFFSET = 0.006  # degrees

# --- inverse iteration --------------------------------------------------------------------
# Each fixed-point step gains about three digits (the shifts change by ~2e-3 degree per degree),
# so the tolerance is reached in 3 to 5 steps; the cap only guards against a bug.
INVERSE_TOLERANCE_DEG = 1e-10  # about 0.01 mm on the ground
INVERSE_MAX_ITERATIONS = 30

# --- coordinate-system names ----------------------------------------------------------------
# What users type, grouped by canonical token. Matching ignores case, width (全角), spaces,
# hyphens, underscores and dots; Chinese names may also end in 坐标 or 坐标系.
_SYSTEM_SYNONYMS: dict[str, tuple[str, ...]] = {
    "wgs84": ("WGS84", "WGS-84", "WGS 1984", "WGS84ll", "GPS", "地球坐标系", "WGS84坐标系"),
    "cgcs2000": (
        "CGCS2000",
        "CGCS",
        "China Geodetic Coordinate System 2000",
        "2000国家大地坐标系",
        "国家2000坐标系",
        "2000坐标系",
        "天地图",
    ),
    "gcj02": (
        "GCJ02",
        "GCJ-02",
        "GCJ02ll",
        "GCJ",
        "高德",
        "高德地图",
        "AMap",
        "AutoNavi",
        "腾讯",
        "腾讯地图",
        "Tencent",
        "火星坐标系",
        "国测局坐标系",
    ),
    "bd09": ("BD09", "BD-09", "BD09ll", "Baidu", "百度", "百度地图"),
}
_CHINESE_NAME_SUFFIXES = ("坐标系", "坐标")
_EPSG_PATTERN = re.compile(r"^(?:epsg:{0,2})?(\d{4,6})$")
# EPSG codes that are exactly the named systems: no pyproj round trip needed.
_EPSG_TOKENS = {WGS84: "wgs84", STORAGE_SRID: "cgcs2000"}
# PROJ names every realisation of WGS84 this way; the project stores WGS84 as CGCS2000 unchanged.
_WGS84_DATUM_PREFIX = "World Geodetic System 1984"


# Scalars in, floats out; array-likes in, float64 arrays out.
LonLat: TypeAlias = tuple[float, float] | tuple[NDArray[np.float64], NDArray[np.float64]]


class UnknownCoordinateSystemError(ValueError):
    """A coordinate-system name or EPSG code that cannot be converted to storage coordinates."""


# ============================================================================================
# GCJ-02
# ============================================================================================


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> LonLat:
    """Shift WGS84 (or CGCS2000) longitude/latitude to GCJ-02, as used by AMap and Tencent.

    Parameters
    ----------
    lon, lat : float or array-like
        WGS84 degrees; broadcast against each other.

    Returns
    -------
    tuple of (float, float) or (numpy.ndarray, numpy.ndarray)
        GCJ-02 degrees. Points outside the China bounding box come back unchanged.

    Examples
    --------
    >>> [round(v, 8) for v in wgs84_to_gcj02(117.3585, 32.8793)]  # 蚌埠
    [117.36429605, 32.87753633]
    >>> wgs84_to_gcj02(2.35, 48.85)  # Paris: outside China, unchanged
    (2.35, 48.85)
    """
    lon_arr, lat_arr, scalar = _as_float_arrays(lon, lat)
    dlon, dlat = _gcj02_offset(lon_arr, lat_arr)
    outside = _outside_china(lon_arr, lat_arr)
    gcj_lon = np.where(outside, lon_arr, lon_arr + dlon)
    gcj_lat = np.where(outside, lat_arr, lat_arr + dlat)
    return _finish(gcj_lon, gcj_lat, scalar)


def gcj02_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> LonLat:
    """Invert :func:`wgs84_to_gcj02` by fixed-point iteration, exact to about 0.01 mm.

    The published inverse is up to about 5 m off; this iterates
    ``wgs -= forward(wgs) - gcj`` for all points together until every point reproduces its input
    to within ``INVERSE_TOLERANCE_DEG``. Whether a point is in China is decided on the GCJ-02
    input, as the published inverse does.

    Parameters
    ----------
    lon, lat : float or array-like
        GCJ-02 degrees; broadcast against each other.

    Returns
    -------
    tuple of (float, float) or (numpy.ndarray, numpy.ndarray)
        WGS84 degrees. Points outside the China bounding box come back unchanged.

    Raises
    ------
    RuntimeError
        If the iteration has not converged after ``INVERSE_MAX_ITERATIONS`` steps (not observed
        for any finite input; it would mean a defect in this module).

    Examples
    --------
    >>> [round(v, 8) for v in gcj02_to_wgs84(117.36429605, 32.87753633)]
    [117.3585, 32.8793]
    """
    lon_arr, lat_arr, scalar = _as_float_arrays(lon, lat)
    inside = ~_outside_china(lon_arr, lat_arr)
    # The raw offset (no bounding-box test) keeps the iteration smooth for points whose WGS84
    # position lies just across the box edge.
    wgs_lon, wgs_lat = _invert(_gcj02_raw, lon_arr[inside], lat_arr[inside])
    out_lon, out_lat = lon_arr.copy(), lat_arr.copy()
    out_lon[inside], out_lat[inside] = wgs_lon, wgs_lat
    return _finish(out_lon, out_lat, scalar)


# ============================================================================================
# BD-09
# ============================================================================================


def gcj02_to_bd09(lon: ArrayLike, lat: ArrayLike) -> LonLat:
    """Shift GCJ-02 longitude/latitude to Baidu's BD-09.

    Parameters
    ----------
    lon, lat : float or array-like
        GCJ-02 degrees; broadcast against each other.

    Returns
    -------
    tuple of (float, float) or (numpy.ndarray, numpy.ndarray)
        BD-09 degrees (every point is shifted, in China or not).

    Examples
    --------
    >>> [round(v, 7) for v in gcj02_to_bd09(117.36429605, 32.87753633)]  # vectors rounded to 1e-8
    [117.3706974, 32.8838789]
    """
    lon_arr, lat_arr, scalar = _as_float_arrays(lon, lat)
    return _finish(*_bd09_forward(lon_arr, lat_arr), scalar)


def bd09_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> LonLat:
    """Invert :func:`gcj02_to_bd09`, exact to about 0.01 mm.

    The published inverse is up to about 0.23 m off; it is used as the starting point
    and refined by the same fixed-point iteration as :func:`gcj02_to_wgs84`.

    Parameters
    ----------
    lon, lat : float or array-like
        BD-09 degrees; broadcast against each other.

    Returns
    -------
    tuple of (float, float) or (numpy.ndarray, numpy.ndarray)
        GCJ-02 degrees.

    Raises
    ------
    RuntimeError
        If the iteration has not converged after ``INVERSE_MAX_ITERATIONS`` steps.

    Examples
    --------
    >>> [round(v, 7) for v in bd09_to_gcj02(117.37069743, 32.88387886)]  # vectors rounded to 1e-8
    [117.3642961, 32.8775363]
    """
    lon_arr, lat_arr, scalar = _as_float_arrays(lon, lat)
    start = _bd09_published_inverse(lon_arr, lat_arr)
    return _finish(*_invert(_bd09_forward, lon_arr, lat_arr, start=start), scalar)


def wgs84_to_bd09(lon: ArrayLike, lat: ArrayLike) -> LonLat:
    """Shift WGS84 (or CGCS2000) longitude/latitude to BD-09 via GCJ-02.

    Parameters
    ----------
    lon, lat : float or array-like
        WGS84 degrees; broadcast against each other.

    Returns
    -------
    tuple of (float, float) or (numpy.ndarray, numpy.ndarray)
        BD-09 degrees.

    Examples
    --------
    >>> [round(v, 8) for v in wgs84_to_bd09(117.3585, 32.8793)]
    [117.37069743, 32.88387886]
    """
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> LonLat:
    """Convert BD-09 longitude/latitude to WGS84 via GCJ-02, exact to about 0.01 mm.

    Parameters
    ----------
    lon, lat : float or array-like
        BD-09 degrees; broadcast against each other.

    Returns
    -------
    tuple of (float, float) or (numpy.ndarray, numpy.ndarray)
        WGS84 degrees.

    Examples
    --------
    >>> [round(v, 8) for v in bd09_to_wgs84(117.37069743, 32.88387886)]
    [117.3585, 32.8793]
    """
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


# ============================================================================================
# Names and dispatch
# ============================================================================================


def parse_coordinate_system(text: str | int) -> str:
    """Normalise a user-supplied coordinate-system name to a canonical token.

    Parameters
    ----------
    text : str or int
        A name such as ``"WGS-84"``, ``"GPS"``, ``"高德"``, ``"火星坐标"``, ``"BD-09"``,
        ``"百度坐标系"``, ``"2000国家大地坐标系"``, or an EPSG code (``"EPSG:4549"``, ``"4549"``,
        ``4549``). Case, full-width characters, spaces, hyphens and underscores are ignored.

    Returns
    -------
    str
        ``"wgs84"``, ``"cgcs2000"``, ``"gcj02"``, ``"bd09"`` or ``"EPSG:<code>"``.
        EPSG:4326 and EPSG:4490 come back as ``"wgs84"`` and ``"cgcs2000"``.

    Raises
    ------
    UnknownCoordinateSystemError
        For an unknown name or EPSG code, for an EPSG code that is not a 2-D geographic or
        projected CRS, and for a CRS whose datum PROJ can only move to CGCS2000 by a
        "ballpark" zero shift (Beijing 1954, Xian 1980: tens to hundreds of metres off).

    Examples
    --------
    >>> parse_coordinate_system("GCJ-02"), parse_coordinate_system("百度")
    ('gcj02', 'bd09')
    >>> parse_coordinate_system("epsg:4549"), parse_coordinate_system("4326")
    ('EPSG:4549', 'wgs84')
    """
    if isinstance(text, int) and not isinstance(text, bool):
        text = str(text)
    if not isinstance(text, str):
        raise UnknownCoordinateSystemError(_unknown_system_message(text))
    key = _normalise_system_name(text)
    token = _SYSTEM_LOOKUP.get(key)
    if token is not None:
        return token
    match = _EPSG_PATTERN.match(key)
    if match is None:
        raise UnknownCoordinateSystemError(_unknown_system_message(text))
    return _epsg_token(int(match.group(1)), text)


def to_storage_lonlat(lon: ArrayLike, lat: ArrayLike, system: str | int) -> LonLat:
    """Convert coordinates in ``system`` to storage longitude/latitude (CGCS2000, EPSG:4490).

    Parameters
    ----------
    lon, lat : float or array-like
        Coordinates in ``system``, x first. For a projected EPSG system these are easting and
        northing in that CRS's unit (pyproj ``always_xy=True`` order).
    system : str or int
        Anything :func:`parse_coordinate_system` accepts.

    Returns
    -------
    tuple of (float, float) or (numpy.ndarray, numpy.ndarray)
        CGCS2000 degrees. WGS84 input is returned unchanged (the frames differ by centimetres,
        see ``geo.crs``).

    Raises
    ------
    UnknownCoordinateSystemError
        If ``system`` is not accepted by :func:`parse_coordinate_system`.

    Examples
    --------
    >>> [round(v, 6) for v in to_storage_lonlat(117.37069743, 32.88387886, "百度")]
    [117.3585, 32.8793]
    >>> [round(v, 6) for v in to_storage_lonlat(500000.0, 3640000.0, "EPSG:4549")]
    [120.0, 32.885053]
    """
    token = parse_coordinate_system(system)
    if token == "gcj02":
        return gcj02_to_wgs84(lon, lat)
    if token == "bd09":
        return bd09_to_wgs84(lon, lat)
    lon_arr, lat_arr, scalar = _as_float_arrays(lon, lat)
    if token in ("wgs84", "cgcs2000"):
        return _finish(lon_arr.copy(), lat_arr.copy(), scalar)
    transformer = Transformer.from_crs(token, f"EPSG:{STORAGE_SRID}", always_xy=True)
    return _finish(*transformer.transform(lon_arr, lat_arr), scalar)


# ============================================================================================
# Private helpers
# ============================================================================================


def _as_float_arrays(lon: ArrayLike, lat: ArrayLike) -> tuple[NDArray, NDArray, bool]:
    """Broadcast lon/lat to fresh float64 arrays and say whether both were scalars."""
    lon_arr = np.asarray(lon, dtype=np.float64)
    lat_arr = np.asarray(lat, dtype=np.float64)
    scalar = lon_arr.ndim == 0 and lat_arr.ndim == 0
    lon_arr, lat_arr = np.broadcast_arrays(lon_arr, lat_arr)
    return np.array(lon_arr, copy=True), np.array(lat_arr, copy=True), scalar


def _finish(lon: NDArray, lat: NDArray, scalar: bool) -> LonLat:
    """Return floats for scalar input, float64 arrays otherwise."""
    if scalar:
        return float(lon), float(lat)
    return np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)


def _outside_china(lon: NDArray, lat: NDArray) -> NDArray:
    """The published algorithm's bounding-box test (NaN counts as inside and stays NaN)."""
    outside_lon = (lon < CHINA_MIN_LON) | (lon > CHINA_MAX_LON)
    outside_lat = (lat < CHINA_MIN_LAT) | (lat > CHINA_MAX_LAT)
    return outside_lon | outside_lat


def _gcj02_offset(lon: NDArray, lat: NDArray) -> tuple[NDArray, NDArray]:
    """GCJ-02 minus WGS84 in degrees at a WGS84 point, without the bounding-box test."""
    x = lon - _GCJ_ORIGIN_LON
    y = lat - _GCJ_ORIGIN_LAT
    dlat_m = _gcj02_lat_polynomial(x, y)
    dlon_m = _gcj02_lon_polynomial(x, y)
    rad_lat = np.radians(lat)
    magic = 1.0 - KRASOVSKY_ECCENTRICITY_SQUARED * np.sin(rad_lat) ** 2
    sqrt_magic = np.sqrt(magic)
    # Metres to degrees on the Krasovsky ellipsoid: meridian and prime-vertical radii.
    meridian_radius = KRASOVSKY_SEMI_MAJOR_AXIS_M * (1.0 - KRASOVSKY_ECCENTRICITY_SQUARED) / (magic * sqrt_magic)
    parallel_radius = KRASOVSKY_SEMI_MAJOR_AXIS_M / sqrt_magic * np.cos(rad_lat)
    dlat = dlat_m * 180.0 / (meridian_radius * np.pi)
    dlon = dlon_m * 180.0 / (parallel_radius * np.pi)
    return dlon, dlat


def _gcj02_lat_polynomial(x: NDArray, y: NDArray) -> NDArray:
    """Published latitude offset in metres, around (105E, 35N)."""
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    return ret


def _gcj02_lon_polynomial(x: NDArray, y: NDArray) -> NDArray:
    """Published longitude offset in metres, around (105E, 35N)."""
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    return ret


def _gcj02_raw(lon: NDArray, lat: NDArray) -> tuple[NDArray, NDArray]:
    """WGS84 to GCJ-02 without the bounding-box test (the smooth map the inverse iterates on)."""
    dlon, dlat = _gcj02_offset(lon, lat)
    return lon + dlon, lat + dlat


def _bd09_forward(lon: NDArray, lat: NDArray) -> tuple[NDArray, NDArray]:
    """Baidu's GCJ-02 to BD-09 formula."""
    radius = np.hypot(lon, lat) + _BD_RADIUS_WOBBLE * np.sin(lat * _BD_X_PI)
    angle = np.arctan2(lat, lon) + _BD_ANGLE_WOBBLE * np.cos(lon * _BD_X_PI)
    return radius * np.cos(angle) + _BD_LON_OFFSET, radius * np.sin(angle) + _BD_LAT_OFFSET


def _bd09_published_inverse(lon: NDArray, lat: NDArray) -> tuple[NDArray, NDArray]:
    """The published approximate BD-09 to GCJ-02 formula: the iteration's starting point."""
    x = lon - _BD_LON_OFFSET
    y = lat - _BD_LAT_OFFSET
    radius = np.hypot(x, y) - _BD_RADIUS_WOBBLE * np.sin(y * _BD_X_PI)
    angle = np.arctan2(y, x) - _BD_ANGLE_WOBBLE * np.cos(x * _BD_X_PI)
    return radius * np.cos(angle), radius * np.sin(angle)


def _invert(
    forward: Callable[[NDArray, NDArray], tuple[NDArray, NDArray]],
    target_lon: NDArray,
    target_lat: NDArray,
    *,
    start: tuple[NDArray, NDArray] | None = None,
) -> tuple[NDArray, NDArray]:
    """Solve ``forward(lon, lat) == target`` by fixed-point iteration over all points at once.

    ``forward`` is the identity plus a small, slowly varying shift, so subtracting the residual
    is a contraction. Non-finite points never converge numerically and are left as NaN.
    """
    lon, lat = (target_lon.copy(), target_lat.copy()) if start is None else start
    for _ in range(INVERSE_MAX_ITERATIONS):
        fwd_lon, fwd_lat = forward(lon, lat)
        res_lon = fwd_lon - target_lon
        res_lat = fwd_lat - target_lat
        lon = lon - res_lon
        lat = lat - res_lat
        worst = _largest_finite(np.abs(res_lon), np.abs(res_lat))
        if worst <= INVERSE_TOLERANCE_DEG:
            return lon, lat
    raise RuntimeError(
        f"inverse coordinate shift did not converge in {INVERSE_MAX_ITERATIONS} iterations "
        f"(worst residual {worst:.3g} degrees, tolerance {INVERSE_TOLERANCE_DEG:g}); "
        "this is a defect in geo.chinese_crs, please report the input coordinates"
    )


def _largest_finite(*arrays: NDArray) -> float:
    """Largest finite value over the arrays, 0.0 if there is none (NaN input stays NaN)."""
    values = np.concatenate([a.ravel() for a in arrays])
    values = values[np.isfinite(values)]
    return float(values.max()) if values.size else 0.0


def _normalise_system_name(text: str) -> str:
    """Fold width and case and drop separators, so "ＧＣＪ－０２" and "gcj 02" compare equal."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return re.sub(r"[\s\-_./]+", "", folded)


def _name_variants(name: str) -> tuple[str, ...]:
    """A normalised name with and without a trailing 坐标/坐标系 ("火星坐标系" -> "火星", "火星坐标").

    A bare number is never produced: "2000坐标系" must not turn into "2000", which is an EPSG code.
    """
    key = _normalise_system_name(name)
    stem = key
    for suffix in _CHINESE_NAME_SUFFIXES:
        stem = stem.removesuffix(suffix)
    if stem.isdigit():
        return (key,)
    return (stem, *(stem + suffix for suffix in _CHINESE_NAME_SUFFIXES))


def _build_system_lookup() -> dict[str, str]:
    """Map every normalised synonym and its 坐标/坐标系 variants to its canonical token."""
    lookup: dict[str, str] = {}
    for token, names in _SYSTEM_SYNONYMS.items():
        for name in (token, *names):
            lookup.update(dict.fromkeys(_name_variants(name), token))
    return lookup


_SYSTEM_LOOKUP = _build_system_lookup()


def _epsg_token(code: int, received: object) -> str:
    """Validate an EPSG code against PROJ's database and return its token."""
    if code in _EPSG_TOKENS:
        return _EPSG_TOKENS[code]
    try:
        crs = CRS.from_epsg(code)
    except CRSError:
        raise UnknownCoordinateSystemError(
            f"coordinate system {received!r}: EPSG:{code} is not in PROJ's EPSG database; "
            "check the code (e.g. EPSG:4549 is CGCS2000 / 3-degree Gauss-Kruger CM 120E)"
        ) from None
    if not (crs.is_geographic or crs.is_projected) or len(crs.axis_info) != 2:
        raise UnknownCoordinateSystemError(
            f"coordinate system {received!r}: EPSG:{code} ({crs.name}) is not a 2-D geographic "
            "or projected CRS, so it cannot locate a point on the map"
        )
    if not _has_accurate_path_to_storage(crs):
        raise UnknownCoordinateSystemError(
            f"coordinate system {received!r}: EPSG:{code} ({crs.name}) has no accurate datum "
            f"transformation to CGCS2000 (EPSG:{STORAGE_SRID}) in PROJ's database, only a zero "
            "'ballpark' shift that can be tens to hundreds of metres off; convert the "
            "coordinates to CGCS2000 with the surveying office's parameters first"
        )
    return f"EPSG:{code}"


def _has_accurate_path_to_storage(crs: CRS) -> bool:
    """True if PROJ knows a real transformation, or the datum is WGS84 (stored unchanged)."""
    datum = crs.geodetic_crs.datum if crs.geodetic_crs is not None else None
    if datum is not None and datum.name.startswith(_WGS84_DATUM_PREFIX):
        return True
    try:
        Transformer.from_crs(crs, f"EPSG:{STORAGE_SRID}", always_xy=True, allow_ballpark=False)
    except ProjError:
        return False
    return True


def _unknown_system_message(received: object) -> str:
    """Name the value received, list every accepted spelling and say how to fix it."""
    accepted = "; ".join(f"{token} ({', '.join(names)})" for token, names in _SYSTEM_SYNONYMS.items())
    return (
        f"unknown coordinate system {received!r}; accepted: {accepted}; Chinese names may end in "
        "坐标 or 坐标系; or an EPSG code such as 'EPSG:4549'. Name the system the coordinates "
        "were captured in (AMap/高德 and Tencent: gcj02, Baidu/百度: bd09, GPS: wgs84)"
    )
