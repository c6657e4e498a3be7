"""Tests for the synthetic demo grid generator (geo.demo_grid)."""

from __future__ import annotations

import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import Polygon

from geo.crs import STORAGE_SRID, projected_srid_for_longitude
from geo.demo_grid import (
    GRID_COLUMNS,
    DemoGridError,
    expected_enterprises_by_cell,
    generate_demo_grid,
)

DATA = Path(__file__).parent.parent / "data"
BENGSHAN_SRID = projected_srid_for_longitude(117.36)  # EPSG:4548, CGCS2000 GK CM 117E
MIN_POLSBY_POPPER = 0.2
MIN_WIDTH_M = 30.0


# --- inputs -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bengshan() -> tuple[gpd.GeoDataFrame, pd.DataFrame, pd.DataFrame]:
    from loaders.demo import read_grid_inputs

    return read_grid_inputs()


@pytest.fixture(scope="module")
def grid(bengshan) -> gpd.GeoDataFrame:
    outline, tier2, tier3 = bengshan
    return generate_demo_grid(outline, tier2, tier3, tier2)


def _synthetic_district() -> tuple[gpd.GeoDataFrame, pd.DataFrame, pd.DataFrame]:
    """A made-up 10 km x 6 km district near 30N 118E with a notch, 3 tier-2 and 7 tier-3 units."""
    lon0, lat0 = 118.0, 30.0
    dlon = 10_000 / (111_320 * math.cos(math.radians(lat0)))
    dlat = 6_000 / 110_574
    outline = Polygon(
        [
            (lon0, lat0),
            (lon0 + dlon, lat0),
            (lon0 + dlon, lat0 + dlat),
            (lon0 + 0.55 * dlon, lat0 + dlat),
            (lon0 + 0.5 * dlon, lat0 + 0.7 * dlat),  # notch: a concave corner to cut around
            (lon0 + 0.45 * dlon, lat0 + dlat),
            (lon0, lat0 + dlat),
        ]
    )
    frame = gpd.GeoDataFrame({"code": ["999901"], "name": ["测试区"]}, geometry=[outline], crs=STORAGE_SRID)
    tier2 = pd.DataFrame(
        {
            "code": ["999901001", "999901002", "999901200"],
            "name": ["东街道", "西街道", "南乡"],
            "anchor_lon": [lon0 + 0.8 * dlon, lon0 + 0.2 * dlon, lon0 + 0.5 * dlon],
            "anchor_lat": [lat0 + 0.7 * dlat, lat0 + 0.7 * dlat, lat0 + 0.2 * dlat],
            "expected_enterprises": [900, 800, 300],
        }
    )
    tier3 = pd.DataFrame(
        {
            "code": [
                "999901001001",
                "999901001002",
                "999901001003",
                "999901002001",
                "999901002002",
                "999901200201",
                "999901200202",
            ],
            "name": ["甲社区", "乙社区", "丙社区", "丁社区", "戊社区", "己村", "庚村"],
            "parent_code": ["999901001"] * 3 + ["999901002"] * 2 + ["999901200"] * 2,
        }
    )
    return frame, tier2, tier3


# --- shared checks ----------------------------------------------------------------------------


def _polsby_popper(geoms: gpd.GeoSeries) -> np.ndarray:
    return (4 * math.pi * geoms.area / geoms.length**2).to_numpy()


def _assert_partitions(grid: gpd.GeoDataFrame, srid: int) -> None:
    """Every tier exactly partitions its parent tier: no gaps, no overlaps, nothing outside."""
    projected = grid.to_crs(srid)
    geometry = dict(zip(grid["code"], grid.geometry, strict=True))
    area = dict(zip(grid["code"], projected.area, strict=True))
    for tier in sorted(set(grid["tier"]) - {1}):
        children = grid[grid["tier"] == tier]
        parents = np.array([geometry[p] for p in children["parent_code"]])
        # Nothing outside: exact predicate, possible only because edges share their vertices.
        assert shapely.covered_by(children.geometry.to_numpy(), parents).all()
        # Edges match vertex for vertex across the whole tier, not only between siblings.
        assert shapely.coverage_is_valid(children.geometry.to_numpy())
        child_area = projected.loc[children.index].area.groupby(children["parent_code"]).sum()
        for parent_code, total in child_area.items():
            assert total == pytest.approx(area[parent_code], rel=1e-6)
            union = shapely.coverage_union_all(
                projected.geometry.loc[children.index[children["parent_code"] == parent_code]].to_numpy()
            )
            parent = projected.geometry[grid["code"] == parent_code].iloc[0]
            assert union.symmetric_difference(parent).area < 1.0  # m²
        tier_geoms = projected.loc[children.index].geometry.to_numpy()
        left, right = shapely.STRtree(tier_geoms).query(tier_geoms, predicate="intersects")
        pair = left < right
        overlap = shapely.area(shapely.intersection(tier_geoms[left[pair]], tier_geoms[right[pair]]))
        assert overlap.sum() < 1e-6  # m²


def _assert_shapes(grid: gpd.GeoDataFrame, srid: int) -> None:
    """Compact, at least 30 m wide everywhere (no neck), single part, valid."""
    projected = grid.to_crs(srid).geometry
    assert grid.is_valid.all()
    pp = _polsby_popper(projected)
    assert pp.min() >= MIN_POLSBY_POPPER, grid.loc[pp < MIN_POLSBY_POPPER, "code"].tolist()
    eroded = projected.buffer(-MIN_WIDTH_M / 2)
    assert not eroded.is_empty.any(), grid.loc[eroded.is_empty, "code"].tolist()
    necked = shapely.get_num_geometries(eroded.to_numpy()) > 1
    assert not necked.any(), grid.loc[necked, "code"].tolist()
    assert (shapely.get_num_geometries(grid.geometry.to_numpy()) == 1).all()


def _assert_anchors_inside(grid: gpd.GeoDataFrame, tier2: pd.DataFrame) -> None:
    polygons = grid[grid["tier"] == 2].set_index("code").geometry
    anchors = shapely.points(tier2[["anchor_lon", "anchor_lat"]].to_numpy(dtype=float))
    assert shapely.contains(polygons.loc[tier2["code"]].to_numpy(), anchors).all()


# --- 蚌山区 -------------------------------------------------------------------------------------


def test_frame_has_the_grid_columns_and_crs(grid):
    assert list(grid.columns) == GRID_COLUMNS
    assert grid.crs.to_epsg() == STORAGE_SRID
    assert set(grid.geom_type) == {"MultiPolygon"}
    assert grid["tier"].tolist() == sorted(grid["tier"])


def test_tier_counts(grid):
    counts = grid.groupby("tier").size()
    assert counts.loc[[1, 2, 3]].tolist() == [1, 11, 77]
    assert 0.9 * 1900 <= counts.loc[4] <= 1.1 * 1900


def test_codes_names_and_parents_follow_the_input_tables(grid, bengshan):
    outline, tier2, tier3 = bengshan
    district = grid[grid["tier"] == 1].iloc[0]
    assert (district["code"], district["name"], district["parent_code"]) == (
        "340303",
        "蚌山区",
        None,
    )
    streets = grid[grid["tier"] == 2].set_index("code")
    assert streets["name"].to_dict() == dict(zip(tier2["code"], tier2["name"], strict=True))
    assert (streets["parent_code"] == "340303").all()
    villages = grid[grid["tier"] == 3].set_index("code")
    expected = tier3.set_index("code")
    assert villages["name"].to_dict() == expected["name"].to_dict()
    assert villages["parent_code"].to_dict() == expected["parent_code"].to_dict()


def test_cells_are_numbered_within_their_village(grid):
    cells = grid[grid["tier"] == 4]
    assert cells["code"].str.fullmatch(r"\d{15}").all()
    assert (cells["code"].str[:12] == cells["parent_code"]).all()
    assert set(cells["parent_code"]) == set(grid.loc[grid["tier"] == 3, "code"])
    sequence = cells["code"].str[12:].astype(int)
    assert (cells["name"] == "第" + sequence.astype(str) + "网格").all()
    for _, numbers in sequence.groupby(cells["parent_code"]):
        assert sorted(numbers) == list(range(1, len(numbers) + 1))


def test_each_tier_partitions_its_parent(grid):
    _assert_partitions(grid, BENGSHAN_SRID)


def test_tier1_is_the_outline(grid, bengshan):
    outline = bengshan[0].geometry.iloc[0]
    district = grid.geometry[grid["tier"] == 1].iloc[0]
    # Extra vertices where cut lines meet the outline lie within a snap step (~0.01 mm) of it.
    # Densify before projecting: a straight lon/lat edge bends after projection.
    difference = shapely.segmentize(outline.symmetric_difference(district), 1e-4)
    assert gpd.GeoSeries([difference], crs=STORAGE_SRID).to_crs(BENGSHAN_SRID).area[0] < 1.0
    original = {tuple(xy) for xy in shapely.get_coordinates(outline)}
    assert original <= {tuple(xy) for xy in shapely.get_coordinates(district)}


def test_anchors_lie_inside_their_tier2_polygon(grid, bengshan):
    _assert_anchors_inside(grid, bengshan[1])


def test_every_polygon_is_compact_and_wide_enough(grid):
    _assert_shapes(grid, BENGSHAN_SRID)


def test_urban_streets_are_small_and_rural_townships_large(grid):
    units = grid[grid["tier"] == 2].set_index("code").to_crs(BENGSHAN_SRID)
    suffix = units.index.str[6:].astype(int)
    area = units.area
    streets, townships, centres = area[suffix < 100], area[suffix.isin([200, 201])], area[suffix >= 400]
    assert streets.max() < centres.min()
    assert centres.max() < townships.min()


def test_cells_hold_two_to_forty_enterprises(grid, bengshan):
    tier2 = bengshan[1]
    expected = expected_enterprises_by_cell(grid, tier2)
    assert expected.sum() == pytest.approx(tier2["expected_enterprises"].sum())
    # Place the enterprises as an enterprise generator would: uniformly inside each unit.
    rng = np.random.default_rng(0)
    placed = rng.poisson(expected.to_numpy())
    share_ok = ((placed >= 2) & (placed <= 40)).mean()
    assert share_ok >= 0.9
    assert 9 <= expected.mean() <= 12


def test_same_seed_gives_identical_geometry(grid, bengshan):
    outline, tier2, tier3 = bengshan
    again = generate_demo_grid(outline, tier2, tier3, tier2)
    assert again.drop(columns="geometry").equals(grid.drop(columns="geometry"))
    assert (again.geometry.to_wkb() == grid.geometry.to_wkb()).all()


def test_inputs_are_not_mutated(bengshan):
    outline, tier2, tier3 = bengshan
    before = (outline.copy(), tier2.copy(), tier3.copy())
    generate_demo_grid(outline, tier2, tier3, tier2, target_cells=200)
    for frame, copy in zip((outline, tier2, tier3), before, strict=True):
        pd.testing.assert_frame_equal(frame, copy)


@settings(
    max_examples=4,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(seed=st.integers(min_value=0, max_value=2**32 - 1))
def test_any_seed_gives_a_valid_grid(bengshan, seed):
    outline, tier2, tier3 = bengshan
    grid = generate_demo_grid(outline, tier2, tier3, tier2, seed=seed, target_cells=300)
    assert (grid["tier"] == 4).sum() == 300
    _assert_partitions(grid, BENGSHAN_SRID)
    _assert_shapes(grid, BENGSHAN_SRID)
    _assert_anchors_inside(grid, tier2)


def test_different_seeds_give_different_cells(bengshan):
    outline, tier2, tier3 = bengshan
    one = generate_demo_grid(outline, tier2, tier3, tier2, seed=1, target_cells=200)
    two = generate_demo_grid(outline, tier2, tier3, tier2, seed=2, target_cells=200)
    assert not (one.geometry.to_wkb() == two.geometry.to_wkb()).all()


# --- another district: nothing is wired to 蚌山区 -----------------------------------------------


def test_another_district():
    outline, tier2, tier3 = _synthetic_district()
    grid = generate_demo_grid(outline, tier2, tier3, tier2, seed=7, target_cells=200)
    assert grid.groupby("tier").size().tolist() == [1, 3, 7, 200]
    assert grid.iloc[0][["code", "name"]].tolist() == ["999901", "测试区"]
    srid = projected_srid_for_longitude(118.0)
    _assert_partitions(grid, srid)
    _assert_shapes(grid, srid)
    _assert_anchors_inside(grid, tier2)
    # Cells follow density: the sparse township gets few, large cells.
    cells = grid[grid["tier"] == 4].to_crs(srid)
    unit = cells["parent_code"].str[:9]
    assert cells.area.groupby(unit).mean().idxmax() == "999901200"


def test_separate_density_table_and_wgs84_outline():
    outline, tier2, tier3 = _synthetic_district()
    density = tier2[["code", "expected_enterprises"]]
    anchors = tier2.drop(columns="expected_enterprises")
    grid = generate_demo_grid(outline.set_crs(4326, allow_override=True), anchors, tier3, density, target_cells=50)
    assert grid.crs.to_epsg() == STORAGE_SRID
    assert (grid["tier"] == 4).sum() == 50


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda t2, t3, d: (t2, t3.assign(parent_code="999901999"), d), "999901999"),
        (lambda t2, t3, d: (t2, t3, d.iloc[:2]), "999901200"),
        (lambda t2, t3, d: (t2.assign(anchor_lon=119.0), t3, d), "outside the outline"),
        (lambda t2, t3, d: (t2.drop(columns="anchor_lat"), t3, d), "anchor_lat"),
    ],
)
def test_bad_tables_are_reported(change, message):
    outline, tier2, tier3 = _synthetic_district()
    tier2, tier3, density = change(tier2, tier3, tier2)
    with pytest.raises(DemoGridError, match=message):
        generate_demo_grid(outline, tier2, tier3, density, target_cells=50)


def test_too_few_cells_for_the_villages_is_reported():
    outline, tier2, tier3 = _synthetic_district()
    with pytest.raises(DemoGridError, match="target_cells=5"):
        generate_demo_grid(outline, tier2, tier3, tier2, target_cells=5)
