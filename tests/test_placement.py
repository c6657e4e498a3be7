"""The point → cell rule on hand-drawn cells: lowest code on shared edges and vertices, gaps
told from the outside, missing points left alone."""

import numpy as np
import pandas as pd
from shapely import box

from geo.placement import NO_CELL, OUTSIDE_DISTRICT, PLACED, place_points

# Four unit cells in a 2 × 2 block with a hole at (1..2, 1..2): codes deliberately not in
# drawing order, so "lowest code" is not "first drawn".
CELLS = pd.Series(
    [box(0, 0, 1, 1), box(1, 0, 2, 1), box(0, 1, 1, 2)],
    index=["c3", "c1", "c2"],
)
OUTLINE = box(0, 0, 2, 2)


def _place(*points):
    lon = np.array([p[0] if p else np.nan for p in points])
    lat = np.array([p[1] if p else np.nan for p in points])
    return place_points(lon, lat, CELLS, OUTLINE)


def test_a_point_inside_one_cell_gets_it_and_its_position():
    found = _place((0.5, 0.5), (1.5, 0.5), (0.5, 1.5))
    assert found.cell_code.tolist() == ["c3", "c1", "c2"]
    assert found.cell_index.tolist() == [0, 1, 2]
    assert found.placement.tolist() == [PLACED] * 3


def test_shared_edges_and_vertices_go_to_the_lowest_code():
    # (1, 0.5): edge c3|c1; (0.5, 1): edge c3|c2; (1, 1): vertex of all three; (0, 0): corner of c3 only
    found = _place((1, 0.5), (0.5, 1), (1, 1), (0, 0))
    assert found.cell_code.tolist() == ["c1", "c2", "c1", "c3"]


def test_a_gap_inside_the_outline_is_no_cell_and_a_point_beyond_it_is_outside():
    found = _place((1.5, 1.5), (5, 5), (2, 2))
    assert found.cell_code.tolist() == [None, None, None]
    assert found.cell_index.tolist() == [-1, -1, -1]
    assert found.placement.tolist() == [NO_CELL, OUTSIDE_DISTRICT, NO_CELL]  # (2, 2): on the outline


def test_missing_points_are_not_placed_and_an_unknown_outline_makes_every_miss_outside():
    found = _place(None, (0.5, 0.5))
    assert found.cell_code.tolist() == [None, "c3"] and found.placement.tolist() == [None, PLACED]
    lonely = place_points(np.array([1.5]), np.array([1.5]), CELLS, None)
    assert lonely.placement.tolist() == [OUTSIDE_DISTRICT]


def test_no_cells_places_nothing():
    found = place_points(np.array([0.5]), np.array([0.5]), pd.Series([], dtype=object), OUTLINE)
    assert found.cell_code.tolist() == [None] and found.placement.tolist() == [NO_CELL]
