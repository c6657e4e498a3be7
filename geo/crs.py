"""Coordinate reference systems used by the product.

Stored geometry has one canonical SRID; areas and distances are measured in a projected
CRS chosen from the district's longitude, never in degrees.
"""

from __future__ import annotations

__all__ = [
    "STORAGE_SRID",
    "WGS84",
    "CGCS2000",
    "projected_srid_for_longitude",
]

WGS84 = 4326  # lon/lat degrees, GPS and OSM
CGCS2000 = 4490  # lon/lat degrees, China's national geodetic system (天地图, official surveying)
# Stored geometry is CGCS2000: the national system, numerically the same as WGS84 at map scale
# (the two frames differ by centimetres), so WGS84 input is stored without a datum shift.
STORAGE_SRID = CGCS2000

# CGCS2000 / 3-degree Gauss-Kruger CM 75E is EPSG:4534; each following code moves the central
# meridian 3 degrees east, up to CM 135E (EPSG:4554). These "CM" variants carry no zone prefix
# in the false easting, so metres stay small numbers.
_GK3_FIRST_SRID = 4534
_GK3_FIRST_CM = 75
_GK3_LAST_CM = 135


def projected_srid_for_longitude(longitude: float) -> int:
    """Return the CGCS2000 3-degree Gauss-Kruger SRID whose central meridian is nearest.

    Parameters
    ----------
    longitude : float
        Longitude in degrees east (China spans about 73.5 to 135).

    Examples
    --------
    >>> projected_srid_for_longitude(117.36)  # 蚌埠, CM 117E
    4548
    """
    if not 72.0 <= longitude <= 136.5:
        raise ValueError(
            f"longitude {longitude!r} is outside China (72 to 136.5 degrees east); "
            "a projected CRS for area and distance cannot be chosen from it"
        )
    central = round(longitude / 3) * 3
    central = min(max(central, _GK3_FIRST_CM), _GK3_LAST_CM)
    return _GK3_FIRST_SRID + (central - _GK3_FIRST_CM) // 3
