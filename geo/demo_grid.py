"""Synthetic four-tier demo grid: a real district outline cut into nested, generated units.

No public source publishes township (乡镇/街道) or village (社区/村) polygons, so the demo cuts the
real district outline (tier 1) into tier-2, tier-3 and tier-4 polygons that carry the real names and
codes of tiers 2 and 3. Each tier is made by subdividing its parents, never drawn on its own:

1. tier 2: the Voronoi diagram of hand-placed anchor points (one per unit) clipped to the outline;
2. tier 3: Lloyd-relaxed random seeds inside each tier-2 unit, one per village;
3. tier 4: Lloyd-relaxed seeds inside each village, as many as the unit's expected enterprise count
   asks for (about ten enterprises a cell), so cells are small where enterprises are dense.

Diagrams are computed on a local plane (longitude scaled by cos(latitude)) so cells are not
stretched; their edges are mapped back to lon/lat and noded with the parent's boundary, and the faces
are grouped per seed. A final pass nodes all cell boundaries together once and rebuilds every tier
from the same faces, so neighbours and parent/child share edges vertex for vertex in lon/lat.

The result is synthetic: the geometry of tiers 2-4 is not the real administrative geometry.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from geo.crs import STORAGE_SRID, WGS84, projected_srid_for_longitude

__all__ = [
    "DemoGridError",
    "GRID_COLUMNS",
    "expected_enterprises_by_cell",
    "generate_demo_grid",
]

GRID_COLUMNS = ["code", "name", "tier", "parent_code", "geometry"]

# Snap-rounding grid of the final noding, in degrees: 1e-10 degree is about 0.01 mm, far below map
# precision, yet a million times the floating-point noise (about 1e-16 degree) between edges cut
# separately, so GEOS OverlayNG snap-rounding merges every such pair and all tiers are built from
# one shared set of vertices. New nodes on the outline move it by at most half a grid step.
SNAP_GRID_DEG = 1e-10
# Local plane for diagrams: metres per degree of latitude and of longitude at the equator (WGS84/
# CGCS2000 ellipsoid, mid-latitudes); only ratios matter, so the small latitude dependence is ignored.
METRES_PER_DEG_LAT = 110_574.0
METRES_PER_DEG_LON_EQUATOR = 111_320.0
# Lloyd iterations: measured on 蚌山区, shape quality stops improving visibly after about 12.
LLOYD_ITERATIONS_TIER3 = 12
LLOYD_ITERATIONS_TIER4 = 14
# Shape targets every piece is checked against (a draw failing them is retried): Polsby-Popper
# 4*pi*A/P^2 and a minimum width in metres, so each polygon can be read and labelled on a map.
MIN_POLSBY_POPPER = 0.2
MIN_WIDTH_M = 30.0
# Checked on the local plane, whose scale differs from EPSG:45xx by well under 1 %: keep a margin.
WIDTH_MARGIN = 1.15
MAX_ATTEMPTS = 8
# Tier-4 codes add a 3-digit sequence to the 12-digit village code (DOMAIN.md §1).
MAX_CELLS_PER_VILLAGE = 999
_SEED_SALT = "demo-grid"


class DemoGridError(ValueError):
    """Raised when the inputs of :func:`generate_demo_grid` cannot make a consistent grid."""


@dataclass(frozen=True)
class _LocalPlane:
    """Equirectangular plane around a reference point, in approximate metres."""

    lon0: float
    lat0: float

    @property
    def _kx(self) -> float:
        return METRES_PER_DEG_LON_EQUATOR * math.cos(math.radians(self.lat0))

    def to_xy(self, lonlat: np.ndarray) -> np.ndarray:
        out = np.empty_like(lonlat, dtype=float)
        out[:, 0] = (lonlat[:, 0] - self.lon0) * self._kx
        out[:, 1] = (lonlat[:, 1] - self.lat0) * METRES_PER_DEG_LAT
        return out

    def to_lonlat(self, xy: np.ndarray) -> np.ndarray:
        out = np.empty_like(xy, dtype=float)
        out[:, 0] = xy[:, 0] / self._kx + self.lon0
        out[:, 1] = xy[:, 1] / METRES_PER_DEG_LAT + self.lat0
        return out


@dataclass(frozen=True)
class _Unit:
    """One generated polygon before the final noding pass."""

    code: str
    name: str
    tier: int
    parent_code: str | None
    geometry: BaseGeometry


def generate_demo_grid(
    outline: gpd.GeoDataFrame,
    tier2: pd.DataFrame,
    tier3: pd.DataFrame,
    density: pd.DataFrame,
    *,
    seed: int = 340303,
    target_cells: int = 1900,
) -> gpd.GeoDataFrame:
    """Cut a district outline into a nested, synthetic four-tier grid.

    Parameters
    ----------
    outline : GeoDataFrame
        One row: the district (tier 1), with ``adcode`` (or ``code``) and ``name`` columns and a
        geographic CRS (EPSG:4490, or EPSG:4326 which is taken as the same numbers).
    tier2 : DataFrame
        Columns ``code``, ``name``, ``anchor_lon``, ``anchor_lat``: one row a 乡镇/街道, with a point
        inside the district near where the unit lies; each generated tier-2 polygon contains it.
    tier3 : DataFrame
        Columns ``code``, ``name``, ``parent_code`` (a tier-2 code): one row a 社区/村.
    density : DataFrame
        Columns ``code`` (tier-2 code) and ``expected_enterprises`` (> 0). May be ``tier2`` itself.
        Tier-4 cells are sized so each holds about the same share of its unit's enterprises;
        :func:`expected_enterprises_by_cell` turns the same table into per-cell expectations.
    seed : int, default 340303
        Random seed; the same inputs and seed give an identical grid.
    target_cells : int, default 1900
        Number of tier-4 cells to make (exactly, when every village can hold its share).

    Returns
    -------
    GeoDataFrame
        Columns ``code``, ``name``, ``tier`` (1..4), ``parent_code`` (None for tier 1) and
        ``geometry`` (MultiPolygon), CRS EPSG:4490, ordered by tier then code. Each tier exactly
        partitions its parents and shares edges with them vertex for vertex. Tier 1 is the
        outline with a vertex added wherever a cut line meets it (each within half of
        ``SNAP_GRID_DEG``, about 0.005 mm, of the original edge); tier-4 cells are numbered
        along a Hilbert curve inside their village, so consecutive numbers are neighbours.

    Raises
    ------
    DemoGridError
        When the tables do not match (unknown parents, missing densities, anchors outside the
        outline, too many cells for a village code).

    Examples
    --------
    >>> from shapely.geometry import box
    >>> outline = gpd.GeoDataFrame({"adcode": ["999999"], "name": ["示例区"]},
    ...     geometry=[box(118.0, 30.0, 118.1, 30.05)], crs=4490)
    >>> tier2 = pd.DataFrame({"code": ["999999001", "999999200"], "name": ["甲街道", "乙乡"],
    ...     "anchor_lon": [118.02, 118.08], "anchor_lat": [30.03, 30.02],
    ...     "expected_enterprises": [300, 100]})
    >>> tier3 = pd.DataFrame({"code": ["999999001001", "999999200201", "999999200202"],
    ...     "name": ["一社区", "二村", "三村"],
    ...     "parent_code": ["999999001", "999999200", "999999200"]})
    >>> grid = generate_demo_grid(outline, tier2, tier3, tier2, target_cells=40)
    >>> grid.groupby("tier").size().tolist()
    [1, 2, 3, 40]
    """
    outline_ll, district_code, district_name = _check_outline(outline)
    tier2, tier3, expected = _check_tables(tier2, tier3, density, outline_ll)
    cells_per_unit = _allocate_cells(tier2, tier3, expected, target_cells)
    plane = _plane_for(outline_ll)
    units = _build_provisional(outline_ll, district_code, district_name, tier2, tier3, cells_per_unit, plane, seed)
    return _conform(units)


def expected_enterprises_by_cell(grid: gpd.GeoDataFrame, density: pd.DataFrame) -> pd.Series:
    """Share each tier-2 unit's expected enterprises among its tier-4 cells by cell area.

    The enterprise density inside a tier-2 unit is uniform in this model, which is also how
    :func:`generate_demo_grid` sizes cells; placing enterprises uniformly at random inside each
    unit therefore puts about ten in each cell.

    Parameters
    ----------
    grid : GeoDataFrame
        Output of :func:`generate_demo_grid`.
    density : DataFrame
        Columns ``code`` (tier-2 code) and ``expected_enterprises``.

    Returns
    -------
    Series
        Float ``expected_enterprises`` on the index of the grid's tier-4 rows.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> whole, west, east = box(117, 32, 117.02, 32.01), box(117, 32, 117.01, 32.01), box(117.01, 32, 117.02, 32.01)
    >>> grid = gpd.GeoDataFrame({"code": ["1", "1001", "1001001", "1001001001", "1001001002"],
    ...     "name": ["d", "s", "v", "c1", "c2"], "tier": [1, 2, 3, 4, 4],
    ...     "parent_code": [None, "1", "1001", "1001001", "1001001"]},
    ...     geometry=[whole, whole, whole, west, east], crs=4490)
    >>> expected_enterprises_by_cell(grid, pd.DataFrame({"code": ["1001"],
    ...     "expected_enterprises": [20]})).round(1).tolist()
    [10.0, 10.0]
    """
    parents = dict(zip(grid["code"], grid["parent_code"], strict=True))
    cells = grid[grid["tier"] == 4]
    unit_of_cell = cells["parent_code"].map(parents)
    area = cells.geometry.to_crs(_projected_srid(grid)).area
    unit_area = area.groupby(unit_of_cell).transform("sum")
    per_unit = density.assign(code=density["code"].astype(str)).set_index("code")
    unit_total = unit_of_cell.map(per_unit["expected_enterprises"]).astype(float)
    return (unit_total * area / unit_area).rename("expected_enterprises")


# --- validation -------------------------------------------------------------------------------


def _check_outline(outline: gpd.GeoDataFrame) -> tuple[BaseGeometry, str, str]:
    if len(outline) != 1:
        raise DemoGridError(
            f"outline has {len(outline)} rows; expected exactly one row, the district (tier 1). "
            "Dissolve the parts into one row first."
        )
    if outline.crs is None:
        raise DemoGridError(
            "outline has no CRS; expected EPSG:4490 (CGCS2000) or EPSG:4326 lon/lat. "
            "Use set_crs() with the CRS the coordinates are really in."
        )
    if outline.crs.to_epsg() not in (STORAGE_SRID, WGS84):
        outline = outline.to_crs(STORAGE_SRID)
    code_column = "adcode" if "adcode" in outline.columns else "code"
    missing = {code_column, "name"} - set(outline.columns)
    if missing:
        raise DemoGridError(f"outline lacks column(s) {sorted(missing)}; expected 'adcode' (or 'code') and 'name'.")
    geometry = outline.geometry.iloc[0]
    if geometry is None or geometry.is_empty or geometry.geom_type not in ("Polygon", "MultiPolygon"):
        raise DemoGridError(f"outline geometry is {geometry!r}; expected a (Multi)Polygon.")
    geometry = shapely.make_valid(geometry) if not geometry.is_valid else geometry
    row = outline.iloc[0]
    return geometry, str(row[code_column]), str(row["name"])


def _require_columns(frame: pd.DataFrame, label: str, columns: list[str]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DemoGridError(f"{label} lacks column(s) {missing}; it has {list(frame.columns)}, expected {columns}.")


def _check_tables(
    tier2: pd.DataFrame, tier3: pd.DataFrame, density: pd.DataFrame, outline: BaseGeometry
) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series]:
    _require_columns(tier2, "tier2", ["code", "name", "anchor_lon", "anchor_lat"])
    _require_columns(tier3, "tier3", ["code", "name", "parent_code"])
    _require_columns(density, "density", ["code", "expected_enterprises"])
    tier2 = tier2.assign(code=tier2["code"].astype(str)).sort_values("code", ignore_index=True)
    tier3 = tier3.assign(code=tier3["code"].astype(str), parent_code=tier3["parent_code"].astype(str)).sort_values(
        "code", ignore_index=True
    )
    problems = []
    for label, frame in (("tier2", tier2), ("tier3", tier3)):
        duplicated = sorted(frame.loc[frame["code"].duplicated(), "code"])
        if duplicated:
            problems.append(f"{label} repeats code(s) {duplicated}")
    orphans = sorted(set(tier3["parent_code"]) - set(tier2["code"]))
    if orphans:
        problems.append(f"tier3 parent_code(s) {orphans} are not tier2 codes")
    childless = sorted(set(tier2["code"]) - set(tier3["parent_code"]))
    if childless:
        problems.append(f"tier2 unit(s) {childless} have no tier3 rows (each needs at least one)")
    expected = density.assign(code=density["code"].astype(str)).groupby("code")["expected_enterprises"].sum()
    expected = expected.reindex(tier2["code"])
    bad = sorted(expected.index[~(expected > 0)])
    if bad:
        problems.append(f"density has no positive expected_enterprises for tier2 code(s) {bad}")
    anchors = shapely.points(tier2[["anchor_lon", "anchor_lat"]].to_numpy(dtype=float))
    outside = sorted(tier2.loc[~shapely.contains(outline, anchors), "code"])
    if outside:
        problems.append(f"anchor(s) of tier2 code(s) {outside} lie outside the outline")
    if len(set(zip(tier2["anchor_lon"], tier2["anchor_lat"], strict=True))) < len(tier2):
        problems.append("two tier2 units share the same anchor point")
    if problems:
        raise DemoGridError("cannot build the demo grid: " + "; ".join(problems) + ". Fix the input tables.")
    return tier2, tier3, expected


# --- planning ---------------------------------------------------------------------------------


def _allocate(total: int, weights: np.ndarray, minimum: np.ndarray) -> np.ndarray:
    """Split ``total`` into integers proportional to ``weights``, each at least ``minimum``.

    Largest-remainder rounding, so the parts sum to ``total`` exactly.
    """
    weights = np.asarray(weights, dtype=float)
    minimum = np.asarray(minimum, dtype=int)
    spare = total - int(minimum.sum())
    if spare < 0:
        return minimum.copy()
    # Give each part its minimum, then share what is left over by weight beyond the minimum.
    ideal = total * weights / weights.sum()
    extra_weight = np.maximum(ideal - minimum, 0.0)
    if extra_weight.sum() <= 0:
        extra_weight = np.ones_like(extra_weight)
    share = spare * extra_weight / extra_weight.sum()
    counts = np.floor(share).astype(int)
    remainder = spare - int(counts.sum())
    order = np.lexsort((np.arange(len(share)), -(share - counts)))
    counts[order[:remainder]] += 1
    return minimum + counts


def _allocate_cells(tier2: pd.DataFrame, tier3: pd.DataFrame, expected: pd.Series, target_cells: int) -> dict[str, int]:
    villages = tier3.groupby("parent_code").size().reindex(tier2["code"]).to_numpy()
    if target_cells < villages.sum():
        raise DemoGridError(
            f"target_cells={target_cells} is below the {int(villages.sum())} tier3 units; "
            "each village needs at least one cell."
        )
    counts = _allocate(target_cells, expected.to_numpy(dtype=float), villages)
    return dict(zip(tier2["code"], counts.tolist(), strict=True))


def _plane_for(geometry: BaseGeometry) -> _LocalPlane:
    centre = geometry.centroid
    return _LocalPlane(lon0=centre.x, lat0=centre.y)


def _projected_srid(frame: gpd.GeoDataFrame) -> int:
    lon = float(np.mean(frame.total_bounds[[0, 2]]))
    return projected_srid_for_longitude(lon)


def _rng_for(seed: int, code: str) -> np.random.Generator:
    # One stream per parent, so a unit's subdivision does not depend on the order parents are cut.
    return np.random.default_rng([seed & 0xFFFFFFFF, zlib.crc32(f"{_SEED_SALT}:{code}".encode())])


# --- geometry helpers -------------------------------------------------------------------------


def _random_points(parent_xy: BaseGeometry, n: int, rng: np.random.Generator) -> np.ndarray:
    """Uniform random points strictly inside ``parent_xy``."""
    minx, miny, maxx, maxy = parent_xy.bounds
    shapely.prepare(parent_xy)
    found: list[np.ndarray] = []
    have = 0
    while have < n:
        batch = rng.uniform((minx, miny), (maxx, maxy), size=(max(4 * n, 64), 2))
        batch = batch[shapely.contains_xy(parent_xy, batch[:, 0], batch[:, 1])]
        found.append(batch)
        have += len(batch)
    return np.concatenate(found)[:n]


def _voronoi_cells(seeds: np.ndarray, envelope: BaseGeometry) -> np.ndarray:
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=envelope, ordered=True))
    if len(cells) != len(seeds):
        raise DemoGridError("coincident seeds made a degenerate Voronoi diagram")
    return cells


def _lloyd(parent_xy: BaseGeometry, seeds: np.ndarray, iterations: int) -> np.ndarray:
    """Move seeds to the centroids of their clipped Voronoi cells (Lloyd relaxation).

    A centroid that falls outside a non-convex parent is replaced by a point on the cell's surface,
    so every seed stays inside the parent and its final cell is never empty.
    """
    if len(seeds) < 2:
        return seeds
    envelope = shapely.buffer(shapely.envelope(parent_xy), parent_xy.length)
    for _ in range(iterations):
        clipped = shapely.intersection(_voronoi_cells(seeds, envelope), parent_xy)
        centres = shapely.get_coordinates(shapely.centroid(clipped))
        inside = shapely.contains_xy(parent_xy, centres[:, 0], centres[:, 1])
        if not inside.all():
            surface = shapely.get_coordinates(shapely.point_on_surface(clipped[~inside]))
            centres[~inside] = surface
        seeds = centres
    return seeds


def _hilbert_order(xy: np.ndarray) -> np.ndarray:
    """Indices sorting points along a Hilbert curve, so consecutive numbers are neighbours."""
    if len(xy) < 2:
        return np.arange(len(xy))
    side = 1 << 16
    span = np.ptp(xy, axis=0)
    span[span == 0] = 1.0
    # Flip y so the curve starts in the north-west, where maps are read from.
    scaled = (xy - xy.min(axis=0)) / span * (side - 1)
    x = scaled[:, 0].astype(np.int64)
    y = (side - 1 - scaled[:, 1]).astype(np.int64)
    d = np.zeros(len(xy), dtype=np.int64)
    s = side // 2
    while s > 0:
        rx = (x & s) > 0
        ry = (y & s) > 0
        d += s * s * ((3 * rx.astype(np.int64)) ^ ry.astype(np.int64))
        flip = ~ry & rx
        x = np.where(flip, side - 1 - x, x)
        y = np.where(flip, side - 1 - y, y)
        swap = ~ry
        x, y = np.where(swap, y, x), np.where(swap, x, y)
        s //= 2
    return np.argsort(d, kind="stable")


# --- subdividing one parent -------------------------------------------------------------------


def _subdivide(parent_ll: BaseGeometry, seeds_xy: np.ndarray, plane: _LocalPlane) -> list[BaseGeometry]:
    """Cut ``parent_ll`` into one piece per seed along the seeds' Voronoi edges.

    Returns one geometry per seed, in seed order; the pieces exactly cover the parent.
    """
    faces, owner = _faces_by_seed(parent_ll, seeds_xy, plane)
    owner = _merge_fragments(faces, owner, _seed_faces(faces, owner, seeds_xy, plane))
    return [shapely.coverage_union_all(faces[owner == i]) for i in range(len(seeds_xy))]


def _faces_by_seed(parent_ll: BaseGeometry, seeds_xy: np.ndarray, plane: _LocalPlane) -> tuple[np.ndarray, np.ndarray]:
    """Node the parent boundary with the Voronoi edges; label each face with its nearest seed."""
    lines = [shapely.boundary(parent_ll)]
    if len(seeds_xy) > 1:
        parent_xy = shapely.transform(parent_ll, plane.to_xy)
        envelope = shapely.buffer(shapely.envelope(parent_xy), parent_xy.length)
        edges_xy = shapely.voronoi_polygons(shapely.multipoints(seeds_xy), extend_to=envelope, only_edges=True)
        lines.append(shapely.transform(edges_xy, plane.to_lonlat))
    # Floating-point noding here: its error (about 1e-16 degree) stays far below the snap grid
    # of the final pass, which then merges every pair of near-coincident edges. Rounding here
    # to the same grid would leave errors the size of the grid, and slivers between them.
    noded = shapely.union_all(lines)
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(noded)))
    inner = shapely.get_coordinates(shapely.point_on_surface(faces))
    shapely.prepare(parent_ll)
    keep = shapely.contains_xy(parent_ll, inner[:, 0], inner[:, 1])
    faces, inner = faces[keep], inner[keep]
    inner_xy = plane.to_xy(inner)
    dist2 = ((inner_xy[:, None, :] - seeds_xy[None, :, :]) ** 2).sum(axis=2)
    return faces, np.argmin(dist2, axis=1)


def _seed_faces(faces: np.ndarray, owner: np.ndarray, seeds_xy: np.ndarray, plane: _LocalPlane) -> np.ndarray:
    """For each seed, the face holding it (or, failing that, its largest face)."""
    seeds_ll = shapely.points(plane.to_lonlat(seeds_xy))
    tree = shapely.STRtree(faces)
    seed_idx, face_idx = tree.query(seeds_ll, predicate="within")
    holder = np.full(len(seeds_xy), -1)
    holder[seed_idx] = face_idx
    areas = shapely.area(faces)
    for i in np.flatnonzero(holder < 0):
        own = np.flatnonzero(owner == i)
        if len(own) == 0:
            raise DemoGridError(f"seed {i} got no part of its parent; try another seed or fewer cells")
        holder[i] = own[np.argmax(areas[own])]
    return holder


def _face_adjacency(faces: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs of faces sharing an edge, with the shared length in degrees."""
    tree = shapely.STRtree(faces)
    left, right = tree.query(faces, predicate="intersects")
    pair = left < right
    left, right = left[pair], right[pair]
    shared = shapely.length(shapely.intersection(shapely.boundary(faces[left]), shapely.boundary(faces[right])))
    edge = shared > 0
    return left[edge], right[edge], shared[edge]


def _components(n: int, left: np.ndarray, right: np.ndarray, same: np.ndarray) -> np.ndarray:
    """Connected-component label per face, joining only pairs where ``same`` holds."""
    root = np.arange(n)

    def find(i: int) -> int:
        while root[i] != i:
            root[i] = root[root[i]]
            i = root[i]
        return i

    for a, b in zip(left[same], right[same], strict=True):
        ra, rb = find(a), find(b)
        if ra != rb:
            root[max(ra, rb)] = min(ra, rb)
    return np.array([find(i) for i in range(n)])


def _merge_fragments(faces: np.ndarray, owner: np.ndarray, seed_face: np.ndarray) -> np.ndarray:
    """Give each detached fragment of a seed's region to the neighbour sharing its longest edge.

    A seed keeps the connected piece holding its seed face; clipping a convex Voronoi cell to a
    non-convex parent can leave other pieces elsewhere, which would be multi-part slivers.
    """
    owner = owner.copy()
    left, right, shared = _face_adjacency(faces)
    changed = True
    while changed:
        changed = False
        component = _components(len(faces), left, right, owner[left] == owner[right])
        kept = set(component[seed_face].tolist())
        for c in sorted(set(component.tolist()) - kept):
            members = component == c
            border = members[left] != members[right]
            other = np.where(members[left[border]], right[border], left[border])
            weight = pd.Series(shared[border]).groupby(owner[other]).sum()
            weight = weight.drop(owner[members][0], errors="ignore")
            # No neighbour: an island of a multi-part parent, left with its nearest seed.
            if len(weight):
                owner[members] = int(weight.idxmax())
                changed = True
    return owner


# --- the tiers --------------------------------------------------------------------------------


def _build_provisional(
    outline_ll: BaseGeometry,
    district_code: str,
    district_name: str,
    tier2: pd.DataFrame,
    tier3: pd.DataFrame,
    cells_per_unit: dict[str, int],
    plane: _LocalPlane,
    seed: int,
) -> list[_Unit]:
    """Cut tiers 2, 3 and 4 top-down; geometry is exact per parent, not yet across parents."""
    units = [_Unit(district_code, district_name, 1, None, outline_ll)]
    anchors_xy = plane.to_xy(tier2[["anchor_lon", "anchor_lat"]].to_numpy(dtype=float))
    for row, geometry in zip(tier2.itertuples(), _subdivide(outline_ll, anchors_xy, plane), strict=True):
        units.append(_Unit(row.code, row.name, 2, district_code, geometry))
        villages = tier3[tier3["parent_code"] == row.code]
        units.extend(_cut_unit(units[-1], villages, cells_per_unit[row.code], plane, seed))
    return units


def _cut_unit(unit: _Unit, villages: pd.DataFrame, n_cells: int, plane: _LocalPlane, seed: int) -> list[_Unit]:
    """Villages of one tier-2 unit, each followed by its cells."""
    rng = _rng_for(seed, unit.code)
    parts = _relaxed_pieces(unit.geometry, len(villages), LLOYD_ITERATIONS_TIER3, plane, rng)
    areas = np.array([shapely.transform(p, plane.to_xy).area for p in parts])
    counts = _allocate(n_cells, areas, np.ones(len(parts), dtype=int))
    out = []
    for row, village, count in zip(villages.itertuples(), parts, counts, strict=True):
        if count > MAX_CELLS_PER_VILLAGE:
            raise DemoGridError(
                f"village {row.code} would get {count} cells; a 3-digit sequence allows "
                f"{MAX_CELLS_PER_VILLAGE}. Lower target_cells or add villages."
            )
        out.append(_Unit(row.code, row.name, 3, unit.code, village))
        cells = _relaxed_pieces(village, int(count), LLOYD_ITERATIONS_TIER4, plane, _rng_for(seed, row.code))
        out.extend(
            _Unit(f"{row.code}{k:03d}", f"第{k}网格", 4, row.code, cell) for k, cell in enumerate(cells, start=1)
        )
    return out


def _relaxed_pieces(
    parent_ll: BaseGeometry,
    n: int,
    iterations: int,
    plane: _LocalPlane,
    rng: np.random.Generator,
) -> list[BaseGeometry]:
    """Cut a parent into ``n`` compact pieces of similar area, ordered along a Hilbert curve.

    A cut line passing close to a concave corner of the parent can leave a piece with a narrow
    neck; such draws are retried with fresh seeds and the draw with the fewest flawed pieces kept.
    """
    if n == 1:
        return [parent_ll]
    parent_xy = shapely.transform(parent_ll, plane.to_xy)
    best: tuple[int, list[BaseGeometry]] | None = None
    for _ in range(MAX_ATTEMPTS):
        seeds = _lloyd(parent_xy, _random_points(parent_xy, n, rng), iterations)
        pieces = _subdivide(parent_ll, seeds[_hilbert_order(seeds)], plane)
        flaws = _count_flaws(pieces, plane)
        if best is None or flaws < best[0]:
            best = (flaws, pieces)
        if flaws == 0:
            break
    return best[1]


def _count_flaws(pieces: list[BaseGeometry], plane: _LocalPlane) -> int:
    """Pieces that are multi-part, not compact, or narrower than the minimum width somewhere."""
    pieces_xy = shapely.transform(np.array(pieces, dtype=object), plane.to_xy)
    compactness = 4 * math.pi * shapely.area(pieces_xy) / shapely.length(pieces_xy) ** 2
    eroded = shapely.buffer(pieces_xy, -MIN_WIDTH_M / 2 * WIDTH_MARGIN)
    flawed = (
        (shapely.get_num_geometries(pieces_xy) > 1)
        | (compactness < MIN_POLSBY_POPPER * WIDTH_MARGIN)
        | shapely.is_empty(eroded)
        | (shapely.get_num_geometries(eroded) > 1)
    )
    return int(flawed.sum())


# --- final noding -----------------------------------------------------------------------------


def _conform(units: list[_Unit]) -> gpd.GeoDataFrame:
    """Node every cell boundary once and rebuild all tiers from the shared faces.

    Cells of neighbouring villages were cut separately, so a node one of them added on a shared
    edge is missing from the other (a T-junction). Building every tier from one noded face set puts
    each such node into every polygon that runs along it.
    """
    frame = pd.DataFrame([u.__dict__ for u in units])
    cells = frame[frame["tier"] == 4].reset_index(drop=True)
    provisional = cells["geometry"].to_numpy()
    noded = shapely.union_all(shapely.boundary(provisional), grid_size=SNAP_GRID_DEG)
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(noded)))
    cell_of_face = _owner_of_faces(faces, provisional)
    faces, cell_of_face = faces[cell_of_face >= 0], cell_of_face[cell_of_face >= 0]

    ancestors = _ancestor_codes(frame)
    geometry = {}
    for tier in (4, 3, 2, 1):
        key = np.array([ancestors[tier][c] for c in cells["code"]])[cell_of_face]
        for code in np.unique(key):
            geometry[code] = _as_multipolygon(shapely.coverage_union_all(faces[key == code]))
    frame["geometry"] = frame["code"].map(geometry)
    frame = frame.sort_values(["tier", "code"], ignore_index=True)
    frame["tier"] = frame["tier"].astype(int)
    frame["parent_code"] = frame["parent_code"].astype(object).where(frame["tier"] > 1, None)
    return gpd.GeoDataFrame(frame[GRID_COLUMNS], geometry="geometry", crs=STORAGE_SRID)


def _owner_of_faces(faces: np.ndarray, cells: np.ndarray) -> np.ndarray:
    """Index of the provisional cell holding each face, -1 for faces outside all cells (holes)."""
    inner = shapely.point_on_surface(faces)
    tree = shapely.STRtree(cells)
    face_idx, cell_idx = tree.query(inner, predicate="within")
    owner = np.full(len(faces), -1)
    owner[face_idx] = cell_idx
    lost = np.flatnonzero(owner < 0)
    if len(lost):
        # A face whose inner point sits within floating-point noise of a provisional edge.
        near_face, near_cell = tree.query_nearest(inner[lost], max_distance=10 * SNAP_GRID_DEG)
        owner[lost[near_face]] = near_cell
    return owner


def _ancestor_codes(frame: pd.DataFrame) -> dict[int, dict[str, str]]:
    """For each tier, map every cell code to its ancestor code at that tier."""
    parent = dict(zip(frame["code"], frame["parent_code"], strict=True))
    cells = frame.loc[frame["tier"] == 4, "code"]
    out: dict[int, dict[str, str]] = {4: {c: c for c in cells}}
    for tier in (3, 2, 1):
        out[tier] = {c: parent[out[tier + 1][c]] for c in cells}
    return out


def _as_multipolygon(geometry: BaseGeometry) -> MultiPolygon:
    if isinstance(geometry, Polygon):
        return MultiPolygon([geometry])
    if isinstance(geometry, MultiPolygon):
        return geometry
    polygons = [g for g in shapely.get_parts(geometry) if isinstance(g, Polygon)]
    return MultiPolygon(polygons)
