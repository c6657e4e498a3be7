"""Tests for geo.chinese_crs: WGS84 / GCJ-02 / BD-09 conversions and coordinate-system names."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Geod, Transformer

from geo import chinese_crs
from geo.chinese_crs import (
    UnknownCoordinateSystemError,
    bd09_to_gcj02,
    bd09_to_wgs84,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    parse_coordinate_system,
    to_storage_lonlat,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)

# Reference vectors from DOMAIN.md §5 (蚌埠), published rounded to 1e-8 degrees.
WGS_REF = (117.3585, 32.8793)
GCJ_REF = (117.36429605, 32.87753633)
BD_REF = (117.37069743, 32.88387886)
REF_TOLERANCE_DEG = 1e-8  # the vectors' own rounding

ROUND_TRIP_LIMIT_MM = 1.0  # DOMAIN.md §5: the inverse is exact to < 1 mm
# China's land and sea extent, about 50-100 km inside the algorithm's bounding box on every side:
# within the box's edge strip a WGS84 point and its GCJ-02 image can fall on different sides.
CHINA_LON = (73.0, 135.5)
CHINA_LAT = (3.0, 54.0)

_GEOD = Geod(ellps="WGS84")


def _distance_mm(lon1, lat1, lon2, lat2) -> np.ndarray:
    """Geodesic distance in millimetres, elementwise."""
    points = np.broadcast_arrays(*(np.asarray(v, float) for v in (lon1, lat1, lon2, lat2)))
    _, _, metres = _GEOD.inv(*points)
    return np.asarray(metres) * 1000.0


china_lon = st.floats(*CHINA_LON, allow_nan=False)
china_lat = st.floats(*CHINA_LAT, allow_nan=False)


# --- reference vectors -----------------------------------------------------------------------


def test_wgs84_to_gcj02_matches_reference():
    assert wgs84_to_gcj02(*WGS_REF) == pytest.approx(GCJ_REF, abs=REF_TOLERANCE_DEG)


def test_gcj02_to_bd09_matches_reference():
    assert gcj02_to_bd09(*GCJ_REF) == pytest.approx(BD_REF, abs=REF_TOLERANCE_DEG)


def test_wgs84_to_bd09_matches_reference():
    assert wgs84_to_bd09(*WGS_REF) == pytest.approx(BD_REF, abs=REF_TOLERANCE_DEG)


def test_gcj02_to_wgs84_matches_reference():
    assert gcj02_to_wgs84(*GCJ_REF) == pytest.approx(WGS_REF, abs=REF_TOLERANCE_DEG)


def test_bd09_to_gcj02_matches_reference():
    assert bd09_to_gcj02(*BD_REF) == pytest.approx(GCJ_REF, abs=REF_TOLERANCE_DEG)


def test_bd09_to_wgs84_matches_reference():
    assert bd09_to_wgs84(*BD_REF) == pytest.approx(WGS_REF, abs=REF_TOLERANCE_DEG)


def test_reference_shift_sizes_match_domain_brief():
    # DOMAIN.md §5: GCJ-02 is about 500-580 m off around 蚌埠, BD-09 about 1.1-1.3 km.
    assert 500_000 < _distance_mm(*WGS_REF, *GCJ_REF) < 580_000
    assert 1_100_000 < _distance_mm(*WGS_REF, *BD_REF) < 1_300_000


# --- round trips -----------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(lon=china_lon, lat=china_lat)
def test_gcj02_round_trip_under_1mm(lon, lat):
    back = gcj02_to_wgs84(*wgs84_to_gcj02(lon, lat))
    assert _distance_mm(lon, lat, *back) < ROUND_TRIP_LIMIT_MM


@settings(max_examples=300, deadline=None)
@given(lon=china_lon, lat=china_lat)
def test_bd09_round_trip_under_1mm(lon, lat):
    back = bd09_to_wgs84(*wgs84_to_bd09(lon, lat))
    assert _distance_mm(lon, lat, *back) < ROUND_TRIP_LIMIT_MM


@settings(max_examples=200, deadline=None)
@given(lon=china_lon, lat=china_lat)
def test_inverse_then_forward_reproduces_input(lon, lat):
    # The inverse is defined by its forward image, so check that direction too.
    via_wgs = wgs84_to_gcj02(*gcj02_to_wgs84(lon, lat))
    via_gcj = gcj02_to_bd09(*bd09_to_gcj02(lon, lat))
    assert _distance_mm(lon, lat, *via_wgs) < ROUND_TRIP_LIMIT_MM
    assert _distance_mm(lon, lat, *via_gcj) < ROUND_TRIP_LIMIT_MM


@pytest.fixture(scope="module")
def china_points() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(20240601)
    return rng.uniform(*CHINA_LON, 10_000), rng.uniform(*CHINA_LAT, 10_000)


@pytest.mark.parametrize(
    ("forward", "inverse"),
    [(wgs84_to_gcj02, gcj02_to_wgs84), (wgs84_to_bd09, bd09_to_wgs84)],
    ids=["gcj02", "bd09"],
)
def test_vectorised_round_trip_under_1mm(china_points, forward, inverse):
    lon, lat = china_points
    back_lon, back_lat = inverse(*forward(lon, lat))
    error_mm = _distance_mm(lon, lat, back_lon, back_lat)
    assert back_lon.shape == lon.shape
    assert error_mm.max() < ROUND_TRIP_LIMIT_MM


def test_vectorised_matches_scalar(china_points):
    lon, lat = (values[:20] for values in china_points)
    arr_lon, arr_lat = gcj02_to_wgs84(lon, lat)
    for i in range(len(lon)):
        assert (arr_lon[i], arr_lat[i]) == pytest.approx(gcj02_to_wgs84(lon[i], lat[i]), abs=1e-12)


def test_every_shifted_point_is_actually_moved(china_points):
    lon, lat = china_points
    assert (_distance_mm(lon, lat, *wgs84_to_gcj02(lon, lat)) > 1_000).all()


# --- outside China ---------------------------------------------------------------------------

OUTSIDE = {
    "paris": (2.3522, 48.8566),
    "tokyo": (139.6917, 35.6895),  # east of the box
    "singapore": (103.8198, 0.5),  # south of the box
    "moscow": (37.6173, 55.7558),
}


@pytest.mark.parametrize("point", OUTSIDE.values(), ids=OUTSIDE.keys())
def test_gcj02_leaves_points_outside_china_unshifted(point):
    assert wgs84_to_gcj02(*point) == point
    assert gcj02_to_wgs84(*point) == point


@pytest.mark.parametrize("point", OUTSIDE.values(), ids=OUTSIDE.keys())
def test_bd09_outside_china_is_the_bd_step_alone(point):
    # The published BD-09 step has no bounding-box test: GCJ-02 is skipped, BD-09 still applies.
    assert wgs84_to_bd09(*point) == gcj02_to_bd09(*point)
    assert _distance_mm(*point, *bd09_to_wgs84(*wgs84_to_bd09(*point))) < ROUND_TRIP_LIMIT_MM


def test_mixed_array_shifts_only_points_in_china():
    lon = np.array([WGS_REF[0], OUTSIDE["paris"][0]])
    lat = np.array([WGS_REF[1], OUTSIDE["paris"][1]])
    gcj_lon, gcj_lat = wgs84_to_gcj02(lon, lat)
    assert (gcj_lon[0], gcj_lat[0]) == pytest.approx(GCJ_REF, abs=REF_TOLERANCE_DEG)
    assert (gcj_lon[1], gcj_lat[1]) == OUTSIDE["paris"]
    back_lon, back_lat = gcj02_to_wgs84(gcj_lon, gcj_lat)
    assert _distance_mm(lon, lat, back_lon, back_lat).max() < ROUND_TRIP_LIMIT_MM


# --- input and output types ------------------------------------------------------------------


def test_scalar_input_gives_floats():
    lon, lat = gcj02_to_wgs84(*GCJ_REF)
    assert type(lon) is float
    assert type(lat) is float


def test_array_input_keeps_shape_and_is_not_modified():
    lon = np.full((2, 3), GCJ_REF[0])
    lat = np.full((2, 3), GCJ_REF[1])
    lon_before, lat_before = lon.copy(), lat.copy()
    out_lon, out_lat = bd09_to_wgs84(lon, lat)
    assert out_lon.shape == (2, 3)
    assert out_lon.dtype == np.float64
    np.testing.assert_array_equal(lon, lon_before)
    np.testing.assert_array_equal(lat, lat_before)


def test_lists_and_broadcasting():
    out_lon, out_lat = wgs84_to_gcj02([WGS_REF[0], WGS_REF[0]], WGS_REF[1])
    assert isinstance(out_lon, np.ndarray)
    assert out_lat.shape == (2,)
    assert out_lon[1] == pytest.approx(GCJ_REF[0], abs=REF_TOLERANCE_DEG)


def test_empty_arrays():
    out_lon, out_lat = bd09_to_wgs84(np.array([]), np.array([]))
    assert out_lon.shape == (0,)
    assert out_lat.shape == (0,)


def test_nan_propagates_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        lon, lat = bd09_to_wgs84(np.array([np.nan, BD_REF[0]]), np.array([np.nan, BD_REF[1]]))
    assert np.isnan(lon[0])
    assert np.isnan(lat[0])
    assert (lon[1], lat[1]) == pytest.approx(WGS_REF, abs=REF_TOLERANCE_DEG)


def test_inverse_converges_within_a_few_iterations(monkeypatch):
    monkeypatch.setattr(chinese_crs, "INVERSE_MAX_ITERATIONS", 6)
    gcj02_to_wgs84(*GCJ_REF)
    bd09_to_gcj02(*BD_REF)


def test_non_convergence_raises(monkeypatch):
    monkeypatch.setattr(chinese_crs, "INVERSE_MAX_ITERATIONS", 1)
    with pytest.raises(RuntimeError, match="did not converge"):
        gcj02_to_wgs84(*GCJ_REF)


# --- coordinate-system names -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("WGS84", "wgs84"),
        ("wgs-84", "wgs84"),
        ("WGS 84", "wgs84"),
        ("wgs_1984", "wgs84"),
        ("GPS", "wgs84"),
        ("地球坐标系", "wgs84"),
        ("4326", "wgs84"),
        ("EPSG:4326", "wgs84"),
        ("CGCS2000", "cgcs2000"),
        ("cgcs 2000", "cgcs2000"),
        ("2000国家大地坐标系", "cgcs2000"),
        ("2000坐标系", "cgcs2000"),
        ("EPSG:4490", "cgcs2000"),
        ("epsg4490", "cgcs2000"),
        ("天地图", "cgcs2000"),
        ("gcj02", "gcj02"),
        ("GCJ-02", "gcj02"),
        (" gcj_02 ", "gcj02"),
        ("ＧＣＪ－０２", "gcj02"),  # full-width, as typed with a Chinese input method
        ("高德", "gcj02"),
        ("高德坐标", "gcj02"),
        ("AMap", "gcj02"),
        ("腾讯地图", "gcj02"),
        ("火星坐标", "gcj02"),
        ("火星坐标系", "gcj02"),
        ("火星", "gcj02"),
        ("国测局坐标系", "gcj02"),
        ("bd09", "bd09"),
        ("BD-09", "bd09"),
        ("bd09ll", "bd09"),
        ("百度", "bd09"),
        ("百度坐标系", "bd09"),
        ("Baidu", "bd09"),
        ("EPSG:4549", "EPSG:4549"),
        ("epsg::4549", "EPSG:4549"),
        ("4549", "EPSG:4549"),
        (4549, "EPSG:4549"),
        ("EPSG:32650", "EPSG:32650"),  # WGS 84 / UTM 50N: WGS84 datum, stored unchanged
    ],
)
def test_parse_coordinate_system_accepts_synonyms(text, expected):
    assert parse_coordinate_system(text) == expected


@pytest.mark.parametrize("text", ["bd09mc", "mercator", "", "   ", "gcj03", None, 4326.0, True])
def test_parse_coordinate_system_rejects_unknown(text):
    with pytest.raises(UnknownCoordinateSystemError) as excinfo:
        parse_coordinate_system(text)
    message = str(excinfo.value)
    assert repr(text) in message
    for token in ("wgs84", "cgcs2000", "gcj02", "bd09", "EPSG:4549"):
        assert token in message


def test_unknown_coordinate_system_error_is_a_value_error():
    with pytest.raises(ValueError, match="'mars'"):
        parse_coordinate_system("mars")


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("EPSG:99999", "not in PROJ's EPSG database"),
        ("EPSG:5773", "not a 2-D geographic or projected CRS"),  # EGM96 height
        ("EPSG:4214", "Beijing 1954"),  # only a ballpark (zero) shift to CGCS2000
        ("EPSG:2435", "ballpark"),  # Beijing 1954 / Gauss-Kruger
        ("EPSG:4610", "Xian 1980"),
    ],
)
def test_parse_coordinate_system_rejects_unusable_epsg(text, fragment):
    with pytest.raises(UnknownCoordinateSystemError, match=fragment) as excinfo:
        parse_coordinate_system(text)
    assert repr(text) in str(excinfo.value)


# --- dispatcher ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("point", "system"),
    [
        (WGS_REF, "wgs84"),
        (WGS_REF, "CGCS2000"),
        (WGS_REF, "EPSG:4326"),
        (GCJ_REF, "GCJ02"),
        (GCJ_REF, "高德"),
        (BD_REF, "BD09"),
        (BD_REF, "百度坐标系"),
    ],
)
def test_to_storage_lonlat_by_named_system(point, system):
    assert to_storage_lonlat(*point, system) == pytest.approx(WGS_REF, abs=REF_TOLERANCE_DEG)


def test_to_storage_lonlat_from_projected_epsg_matches_pyproj():
    easting = np.array([500_000.0, 512_345.6])
    northing = np.array([3_640_000.0, 3_650_000.0])
    transformer = Transformer.from_crs("EPSG:4549", "EPSG:4490", always_xy=True)
    expected = transformer.transform(easting, northing)
    lon, lat = to_storage_lonlat(easting, northing, "4549")
    np.testing.assert_allclose(lon, expected[0], atol=1e-12)
    np.testing.assert_allclose(lat, expected[1], atol=1e-12)


def test_to_storage_lonlat_from_utm_on_wgs84():
    to_utm = Transformer.from_crs("EPSG:4326", "EPSG:32650", always_xy=True)
    easting, northing = to_utm.transform(*WGS_REF)
    assert to_storage_lonlat(easting, northing, "EPSG:32650") == pytest.approx(WGS_REF, abs=1e-9)


def test_to_storage_lonlat_returns_copies_for_wgs84():
    lon = np.array([WGS_REF[0]])
    out_lon, _ = to_storage_lonlat(lon, np.array([WGS_REF[1]]), "wgs84")
    out_lon[0] = 0.0
    assert lon[0] == WGS_REF[0]


def test_to_storage_lonlat_rejects_unknown_system():
    with pytest.raises(UnknownCoordinateSystemError, match="'sogou'"):
        to_storage_lonlat(*WGS_REF, "sogou")
