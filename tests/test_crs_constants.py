import pytest
from pyproj import CRS

from geo.crs import CGCS2000, STORAGE_SRID, WGS84, projected_srid_for_longitude


def test_storage_srid_is_cgcs2000_lonlat():
    crs = CRS.from_epsg(STORAGE_SRID)
    assert STORAGE_SRID == CGCS2000 == 4490
    assert crs.is_geographic
    assert "China Geodetic Coordinate System 2000" in crs.name
    assert WGS84 == 4326


def test_projected_crs_for_bengbu_is_gauss_kruger_117e_in_metres():
    srid = projected_srid_for_longitude(117.36)
    crs = CRS.from_epsg(srid)
    assert srid == 4548
    assert crs.is_projected
    assert crs.axis_info[0].unit_name == "metre"
    assert "CM 117E" in crs.name


@pytest.mark.parametrize(("lon", "central"), [(73.6, 75), (108.9, 108), (121.4, 120), (134.9, 135)])
def test_nearest_central_meridian(lon, central):
    assert f"CM {central}E" in CRS.from_epsg(projected_srid_for_longitude(lon)).name


def test_longitude_outside_china_is_refused():
    with pytest.raises(ValueError, match="outside China"):
        projected_srid_for_longitude(2.35)
