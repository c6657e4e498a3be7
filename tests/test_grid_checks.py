"""Tests for the grid boundary checks (geo.grid_checks): hand-drawn nested squares with known answers.

Shapes are drawn in metres on a small square district near 117.3°E 32.9°N and turned into lon/lat by
a linear scale (metres per degree from the GRS80 ellipsoid, which CGCS2000 uses), so edges are
straight in lon/lat and shared coordinates are the same floats: the squares nest exactly in lon/lat.
"""

from __future__ import annotations

import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Geod
from shapely.geometry import MultiPolygon, Point, Polygon

from geo.crs import STORAGE_SRID, projected_srid_for_longitude
from geo.demo_grid import generate_demo_grid
from geo.grid_checks import (
    STANDARD_CODE_LENGTHS,
    TOLERABLE_KINDS,
    GridCheckError,
    Tolerances,
    check_grid,
    resolve_hierarchy,
)

DATA = Path(__file__).parent.parent / "data"
LON0, LAT0 = 117.3, 32.9
_GEOD = Geod(ellps="GRS80")  # the CGCS2000 ellipsoid, to well below a millimetre
_SPAN_DEG = 0.01
M_PER_DEG_LON = _GEOD.inv(LON0, LAT0, LON0 + _SPAN_DEG, LAT0)[2] / _SPAN_DEG  # ≈ 93,500 m
M_PER_DEG_LAT = _GEOD.inv(LON0, LAT0, LON0, LAT0 + _SPAN_DEG)[2] / _SPAN_DEG  # ≈ 110,900 m

DISTRICT = "340303"
TOWN_W, TOWN_E = "340303001", "340303002"
VILLAGE_SW, VILLAGE_NW = "340303001001", "340303001002"
CELL_SW1, CELL_SW2 = "340303001001001", "340303001001002"


def _lonlat(xy_m: list[tuple[float, float]]) -> list[tuple[float, float]]:
    return [(LON0 + x / M_PER_DEG_LON, LAT0 + y / M_PER_DEG_LAT) for x, y in xy_m]


def _polygon(*xy_m: tuple[float, float], holes: list[list[tuple[float, float]]] | None = None) -> Polygon:
    return Polygon(_lonlat(list(xy_m)), [_lonlat(h) for h in holes or []])


def _box(x0: float, y0: float, x1: float, y1: float) -> Polygon:
    return _polygon((x0, y0), (x1, y0), (x1, y1), (x0, y1))


def _square_grid(tiers: int = 4) -> gpd.GeoDataFrame:
    """A 400 m district: 2 townships (west, east), 2 villages each (south, north), 2 cells each.

    No tier or parent column: both are implied by the standard codes.
    """
    rows = [(DISTRICT, "测试区", _box(0, 0, 400, 400))]
    for t in range(2):
        town, x = f"{DISTRICT}{t + 1:03d}", 200 * t
        rows.append((town, f"第{t + 1}街道", _box(x, 0, x + 200, 400)))
        for v in range(2):
            village, y = f"{town}{v + 1:03d}", 200 * v
            rows.append((village, f"第{t + 1}-{v + 1}社区", _box(x, y, x + 200, y + 200)))
            if tiers == 4:
                rows.append((f"{village}001", "第1网格", _box(x, y, x + 100, y + 200)))
                rows.append((f"{village}002", "第2网格", _box(x + 100, y, x + 200, y + 200)))
    return gpd.GeoDataFrame(
        {"code": [r[0] for r in rows], "name": [r[1] for r in rows]}, geometry=[r[2] for r in rows], crs=STORAGE_SRID
    )


def _with_geometry(grid: gpd.GeoDataFrame, code: str, geometry) -> gpd.GeoDataFrame:
    changed = grid.copy()
    changed.loc[changed["code"] == code, "geometry"] = gpd.GeoSeries([geometry], crs=STORAGE_SRID).to_numpy()
    return changed


def _position(grid: pd.DataFrame, code: str) -> int:
    return int(np.flatnonzero(grid["code"].to_numpy() == code)[0])


def _kinds(result) -> list[str]:
    return [p.kind for p in result.problems]


# --- a clean grid --------------------------------------------------------------------------------


def test_a_clean_four_tier_grid_has_no_problems():
    grid = _square_grid()
    result = check_grid(grid)
    assert result.problems == []
    assert result.repairs == []
    units = result.units
    assert units["tier"].tolist() == [1, 2, 3, 4, 4, 3, 4, 4, 2, 3, 4, 4, 3, 4, 4]
    assert units.loc[_position(grid, CELL_SW2), "path"] == [DISTRICT, TOWN_W, VILLAGE_SW, CELL_SW2]
    assert units.loc[0, "parent_code"] is None
    assert set(units.geom_type) == {"MultiPolygon"}
    assert units.crs.to_epsg() == STORAGE_SRID
    assert list(units.columns[:5]) == ["code", "name", "tier", "parent_code", "path"]


def test_a_three_tier_grid_has_no_problems():
    result = check_grid(_square_grid(tiers=3))
    assert result.problems == []
    assert set(result.units["tier"]) == {1, 2, 3}


def test_the_input_frame_is_not_mutated():
    grid = _with_geometry(_square_grid(), CELL_SW1, _polygon((0, 0), (100, 200), (100, 0), (0, 200)))
    before = grid.copy()
    check_grid(grid, repair=True)
    pd.testing.assert_frame_equal(grid, before)
    assert list(grid.columns) == ["code", "name", "geometry"]


# --- nesting -------------------------------------------------------------------------------------


def test_a_child_poking_out_of_its_parent_is_reported_with_the_distance():
    grid = _with_geometry(_square_grid(), CELL_SW1, _box(-2, 0, 100, 200))
    result = check_grid(grid)
    assert _kinds(result) == ["outside_parent"]
    problem = result.problems[0]
    assert (problem.index, problem.code, problem.name) == (_position(grid, CELL_SW1), CELL_SW1, "第1网格")
    assert problem.measure == pytest.approx(2.0, abs=0.02)
    assert "子单元超出上级单元 2.0 m（容差 0.5 m）" in problem.message
    assert not problem.tolerable


def test_poking_out_less_than_the_tolerance_passes():
    grid = _with_geometry(_square_grid(), CELL_SW1, _box(-0.3, 0, 100, 200))
    assert check_grid(grid).problems == []
    assert _kinds(check_grid(grid, tolerances=Tolerances(outside_m=0.1))) == ["outside_parent"]


def test_a_one_square_metre_sibling_overlap_is_reported_once_naming_both():
    notch = _polygon((0, 0), (101, 0), (101, 1), (100, 1), (100, 200), (0, 200))  # 1 m × 1 m into its sibling
    grid = _with_geometry(_square_grid(), CELL_SW1, notch)
    result = check_grid(grid)
    assert _kinds(result) == ["sibling_overlap"]
    problem = result.problems[0]
    assert problem.code == CELL_SW1
    assert problem.measure == pytest.approx(1.0, rel=0.01)
    assert f"与 {CELL_SW2} 重叠 1.0 m²（容差 0.5 m²）" in problem.message


def test_a_gap_is_reported_on_the_parent_with_its_area():
    corner_cut = _polygon((100, 0), (200, 0), (200, 196), (195, 196), (195, 200), (100, 200))  # 5 m × 4 m missing
    grid = _with_geometry(_square_grid(), CELL_SW2, corner_cut)
    result = check_grid(grid)
    assert _kinds(result) == ["gap"]
    problem = result.problems[0]
    assert (problem.index, problem.code) == (_position(grid, VILLAGE_SW), VILLAGE_SW)
    assert problem.measure == pytest.approx(20.0, rel=0.01)
    assert "上级单元有 20.0 m² 未被下级单元覆盖（容差 0.5 m²）" in problem.message


def test_an_exactly_nested_grid_with_twenty_kilometre_straight_edges_passes():
    """Edges straight in lon/lat bow metres off their chord in Gauss-Kruger: measure, never overlay, there."""
    size, half = 20_000.0, 10_000.0
    left, right = 0.3 * size, 0.7 * size  # a diagonal township boundary, meeting the outline mid-edge
    middle = (0.5 * size, half)  # on the diagonal in lon/lat, up to rounding: a vertex of the villages only
    west = _polygon((0, 0), (left, 0), (right, size), (0, size))
    east = _polygon((left, 0), (size, 0), (size, size), (right, size))
    villages = [
        _polygon((0, 0), (left, 0), middle, (0, half)),
        _polygon((0, half), middle, (right, size), (0, size)),
        _polygon((left, 0), (size, 0), (size, half), middle),
        _polygon(middle, (size, half), (size, size), (right, size)),
    ]
    district = _box(0, 0, size, size)  # four vertices only: every child vertex on it lies mid-edge
    grid = gpd.GeoDataFrame(
        {
            "code": [DISTRICT, TOWN_W, TOWN_E, VILLAGE_SW, VILLAGE_NW, "340303002001", "340303002002"],
            "name": ["区", "西", "东", "西南", "西北", "东南", "东北"],
        },
        geometry=[district, west, east, *villages],
        crs=STORAGE_SRID,
    )
    assert check_grid(grid).problems == []
    # The same file checked in a projected CRS shows slivers well above the tolerances.
    projected = grid.to_crs(projected_srid_for_longitude(LON0)).geometry
    sliver = projected.iloc[0].difference(shapely.union_all(projected.iloc[1:3].to_numpy()))
    assert sliver.area > 1_000 * Tolerances().gap_m2  # measured: about 42,600 m², 4.3 m wide


# --- single features ----------------------------------------------------------------------------


def test_a_bowtie_is_invalid_and_repair_fixes_it_and_reports_the_area_change():
    bowtie = _polygon((0, 0), (100, 200), (100, 0), (0, 200))  # two triangles crossing at (50, 100)
    grid = _with_geometry(_square_grid(), CELL_SW1, bowtie)
    plain = check_grid(grid)
    invalid = [p for p in plain.problems if p.kind == "invalid_geometry"]
    assert len(invalid) == 1
    assert "Self-intersection" in invalid[0].message
    assert "gap" in _kinds(plain)  # nesting is still checked, on the repaired shape
    assert not plain.units.geometry.iloc[_position(grid, CELL_SW1)].is_valid

    repaired = check_grid(grid, repair=True)
    assert "invalid_geometry" not in _kinds(repaired)
    assert [r.kind for r in repaired.repairs] == ["repaired"]
    # The bowtie's signed area cancels to 0; the repaired two triangles hold 10,000 m².
    assert repaired.repairs[0].measure == pytest.approx(10_000, rel=0.005)
    assert repaired.repairs[0].code == CELL_SW1
    geometry = repaired.units.geometry.iloc[_position(grid, CELL_SW1)]
    assert geometry.is_valid and geometry.geom_type == "MultiPolygon" and len(geometry.geoms) == 2
    assert sorted(_kinds(repaired)) == ["gap", "multipart"]


def test_overlapping_parts_are_repaired_into_their_union():
    halves = MultiPolygon([_box(0, 0, 60, 200), _box(40, 0, 100, 200)])  # 20 m × 200 m drawn twice
    grid = _with_geometry(_square_grid(), CELL_SW1, halves)
    assert _kinds(check_grid(grid)) == ["invalid_geometry"]
    repaired = check_grid(grid, repair=True)
    assert repaired.problems == []
    assert repaired.repairs[0].measure == pytest.approx(-4_000, rel=0.005)
    assert repaired.units.geometry.iloc[_position(grid, CELL_SW1)].equals(MultiPolygon([_box(0, 0, 100, 200)]))


def test_empty_and_point_geometry_are_reported():
    grid = _with_geometry(_square_grid(), CELL_SW1, Polygon())
    grid = _with_geometry(grid, CELL_SW2, Point(_lonlat([(150, 100)])[0]))
    result = check_grid(grid)
    by_code = {p.code: p.kind for p in result.problems}
    assert by_code == {CELL_SW1: "empty_geometry", CELL_SW2: "not_polygon", VILLAGE_SW: "gap"}
    assert "Point" in next(p.message for p in result.problems if p.kind == "not_polygon")
    assert result.units.geometry.iloc[[_position(grid, CELL_SW1), _position(grid, CELL_SW2)]].isna().all()


def test_a_multipart_unit_is_reported_unless_allowed():
    # The two cells of a village as a checkerboard: each is two squares meeting at a point.
    one = MultiPolygon([_box(0, 0, 100, 100), _box(100, 100, 200, 200)])
    two = MultiPolygon([_box(100, 0, 200, 100), _box(0, 100, 100, 200)])
    grid = _with_geometry(_with_geometry(_square_grid(), CELL_SW1, one), CELL_SW2, two)
    result = check_grid(grid)
    assert _kinds(result) == ["multipart", "multipart"]
    assert all(p.tolerable for p in result.problems)
    assert result.problems[0].measure == pytest.approx(10_000, rel=0.005)
    assert check_grid(grid, allow=frozenset({"multipart"})).problems == []


def test_a_hole_holding_an_enclave_is_reported_unless_allowed():
    holed = _polygon((100, 0), (200, 0), (200, 200), (100, 200), holes=[[(140, 90), (150, 90), (150, 100), (140, 100)]])
    grid = _with_geometry(_square_grid(), CELL_SW2, holed)
    enclave = gpd.GeoDataFrame(
        {"code": ["340303001001003"], "name": ["第3网格"]}, geometry=[_box(140, 90, 150, 100)], crs=STORAGE_SRID
    )
    grid = pd.concat([grid, enclave], ignore_index=True)
    result = check_grid(grid)
    assert _kinds(result) == ["holes"]
    assert result.problems[0].code == CELL_SW2 and result.problems[0].tolerable
    assert result.problems[0].measure == pytest.approx(100.0, rel=0.01)
    assert check_grid(grid, allow=frozenset({"holes"})).problems == []
    # Without the enclave the hole is also a gap in the village.
    assert sorted(_kinds(check_grid(grid.iloc[:-1]))) == ["gap", "holes"]


def test_only_tolerable_kinds_can_be_allowed():
    assert frozenset({"multipart", "holes"}) == TOLERABLE_KINDS
    with pytest.raises(GridCheckError, match="gap"):
        check_grid(_square_grid(), allow=frozenset({"gap"}))


def test_a_projected_or_missing_crs_is_refused():
    with pytest.raises(GridCheckError, match="to_crs"):
        check_grid(_square_grid().to_crs(4548))
    with pytest.raises(GridCheckError, match="set_crs"):
        check_grid(_square_grid().set_crs(None, allow_override=True))


# --- hierarchy ----------------------------------------------------------------------------------


def test_tier_and_parent_are_implied_by_standard_codes():
    units = pd.DataFrame({"code": ["340303", "340303001", "340303001001", "340303001001007"], "name": list("abcd")})
    resolved, problems = resolve_hierarchy(units)
    assert problems == []
    assert resolved["tier"].tolist() == [1, 2, 3, 4]
    assert resolved["parent_code"].tolist() == [None, "340303", "340303001", "340303001001"]
    assert resolved["path"].iloc[3] == ["340303", "340303001", "340303001001", "340303001001007"]
    assert STANDARD_CODE_LENGTHS == {6: 1, 9: 2, 12: 3, 15: 4}


def test_numbers_read_as_floats_are_codes():
    units = pd.DataFrame({"code": [340303.0, 340303001.0], "tier": ["1", 2.0]})
    resolved, problems = resolve_hierarchy(units)
    assert problems == []
    assert resolved["code"].tolist() == ["340303", "340303001"]


@pytest.mark.parametrize(
    ("code", "tier", "parent", "kind"),
    [
        ("340303001001", 2, "340303", "tier_code_mismatch"),
        ("340303001", 5, None, "bad_tier"),
        ("340303001", "乡", None, "bad_tier"),
        ("BS-01", None, "340303", "missing_tier"),
        ("340303001001001", 4, "340303", "parent_tier_mismatch"),
        ("340303009001", None, None, "orphan"),
        ("BS-02", 2, None, "orphan"),
        (None, 2, "340303", "missing_code"),
    ],
)
def test_hierarchy_problems(code, tier, parent, kind):
    units = pd.DataFrame(
        {"code": ["340303", code], "name": ["区", "单元"], "tier": [1, tier], "parent_code": [None, parent]}
    )
    resolved, problems = resolve_hierarchy(units)
    assert [(p.index, p.kind) for p in problems] == [(1, kind)]
    assert problems[0].message


def test_an_orphan_names_the_missing_parent():
    units = pd.DataFrame({"code": ["340303", "340303009001"], "name": ["区", "某村"]})
    resolved, problems = resolve_hierarchy(units)
    assert problems[0].message.startswith("上级编码 340303009 在文件和已载入数据中都不存在")
    assert resolved["path"].iloc[1] is None


def test_duplicate_codes_are_reported_on_the_second_occurrence():
    grid = _square_grid()
    grid = pd.concat([grid, grid.iloc[[3]]], ignore_index=True)
    result = check_grid(grid)
    assert [(p.index, p.kind, p.code) for p in result.problems] == [(len(grid) - 1, "duplicate_code", CELL_SW1)]


def test_a_loop_of_parents_is_reported_once():
    units = pd.DataFrame(
        {
            "code": ["340303", "A", "B", "C", "D"],
            "tier": [1, 2, 2, 2, 3],
            "parent_code": [None, "B", "C", "A", "C"],
        }
    )
    resolved, problems = resolve_hierarchy(units)
    cycles = [p for p in problems if p.kind == "cycle"]
    assert len(cycles) == 1 and cycles[0].index == 1
    assert "A → B → C → A" in cycles[0].message
    assert resolved["path"].tolist() == [["340303"], None, None, None, None]


def test_bureau_codes_with_explicit_parents():
    grid = gpd.GeoDataFrame(
        {
            "code": [DISTRICT, "BS-01", "BS-02", "BS-01-1", "BS-01-2"],
            "name": ["区", "一片", "二片", "一片甲", "一片乙"],
            "tier": [1, 2, 2, 3, 3],
            "parent_code": [None, DISTRICT, DISTRICT, "BS-01", "BS-01"],
        },
        geometry=[
            _box(0, 0, 400, 400),
            _box(0, 0, 200, 400),
            _box(200, 0, 400, 400),
            _box(0, 0, 200, 150),
            _box(0, 150, 200, 400),
        ],
        crs=STORAGE_SRID,
    )
    result = check_grid(grid)
    assert result.problems == []
    assert result.units["path"].iloc[3] == [DISTRICT, "BS-01", "BS-01-1"]


def test_a_file_of_cells_whose_parents_are_stored():
    full = check_grid(_square_grid()).units
    known = full[full["tier"] < 4]
    cells = _square_grid()[full["tier"].to_numpy() == 4].reset_index(drop=True)
    result = check_grid(cells, known=known)
    assert result.problems == []
    assert result.units["path"].iloc[0] == [DISTRICT, TOWN_W, VILLAGE_SW, CELL_SW1]
    # A missing cell leaves its stored village uncovered: reported against the stored parent.
    gaps = check_grid(cells.iloc[1:], known=known).problems
    assert [(p.index, p.kind, p.code) for p in gaps] == [(None, "gap", VILLAGE_SW)]
    assert gaps[0].measure == pytest.approx(20_000, rel=0.005)
    # Without the stored units every cell is an orphan.
    assert set(_kinds(check_grid(cells))) == {"orphan"}


def test_the_file_replaces_a_stored_unit_of_the_same_code():
    full = check_grid(_square_grid()).units
    known = full[full["tier"] < 4].copy()
    known.loc[known["code"] == VILLAGE_SW, "geometry"] = gpd.GeoSeries(
        [_box(0, 0, 50, 50)], crs=STORAGE_SRID
    ).to_numpy()
    assert check_grid(_square_grid(), known=known).problems == []


# --- everything at once, and the demo grid ------------------------------------------------------


def test_a_file_with_five_problems_reports_all_five():
    grid = _with_geometry(_square_grid(), CELL_SW1, _box(-2, 0, 100, 200))  # outside_parent
    notch = _polygon((0, 200), (101, 200), (101, 201), (100, 201), (100, 400), (0, 400))
    grid = _with_geometry(grid, "340303001002001", notch)  # sibling_overlap
    grid = _with_geometry(grid, "340303002001002", _box(300, 0, 390, 200))  # gap of 1,800 m²
    extra = gpd.GeoDataFrame(
        {"code": ["340303009001", CELL_SW2], "name": ["孤村", "重复"]},
        geometry=[_box(500, 0, 600, 100), _box(100, 0, 200, 200)],
        crs=STORAGE_SRID,
    )  # orphan, duplicate_code
    grid = pd.concat([grid, extra], ignore_index=True)
    result = check_grid(grid)
    assert sorted(_kinds(result)) == sorted(["outside_parent", "sibling_overlap", "gap", "orphan", "duplicate_code"])
    assert [p.index for p in result.problems] == sorted(p.index for p in result.problems)


@pytest.fixture(scope="module")
def demo_grid() -> gpd.GeoDataFrame:
    outline = gpd.read_file(DATA / "boundaries" / "340303_bengshan_district.geojson")
    tier2 = pd.read_csv(DATA / "demo" / "tier2_anchors_340303.csv", dtype={"code": str})
    villages = pd.read_csv(DATA / "boundaries" / "villages_340303.csv", dtype={"code": str, "streetCode": str})
    tier3 = villages.rename(columns={"streetCode": "parent_code"})[["code", "name", "parent_code"]]
    return generate_demo_grid(outline, tier2, tier3, tier2, target_cells=1900)


def test_the_demo_grid_checks_clean_and_fast(demo_grid):
    timings = []
    for _ in range(2):
        start = time.perf_counter()
        result = check_grid(demo_grid)
        timings.append(time.perf_counter() - start)
    assert result.problems == []
    assert result.units["path"].map(len).tolist() == demo_grid["tier"].tolist()
    # Budget from the brief: well under 1.5 s for ~1,900 cells (measured about 0.2 s on 2 cores).
    assert min(timings) < 1.5


def test_the_demo_cells_check_clean_against_stored_tiers(demo_grid):
    stored = check_grid(demo_grid[demo_grid["tier"] < 4]).units
    cells = demo_grid[demo_grid["tier"] == 4].drop(columns=["tier", "parent_code"])
    assert check_grid(cells, known=stored).problems == []
