"""Hand-drawn nested square grids with known answers, in lon/lat near 蚌埠."""

from __future__ import annotations

import geopandas as gpd
from shapely.geometry import box

DISTRICT = "341999"  # fictional, clashes with no demo or fixture code
# Binary fractions, so every corner, edge and probe point is exact in floating point and survives
# a GeoJSON round trip: a point "on the edge" is then really on it.
X0, Y0 = 117.25, 32.75
STEP = 1 / 128  # degrees; a cell is ≈ 0.73 km × 0.87 km


def nested_squares(*, tiers: int = 4, x0: float = X0, split_x: float | None = None) -> gpd.GeoDataFrame:
    """A district 4 × 2 cells: 2 townships (west/east), 2 villages each (south/north), 2 cells each.

    ``tiers=3`` stops at villages. ``split_x`` moves the boundary between the two cells of every
    village (default: the middle), to test re-assignment when a new set moves cell edges.
    """
    rows = [(DISTRICT, "测试区", 1, None, box(x0, Y0, x0 + 4 * STEP, Y0 + 2 * STEP))]
    for t in range(2):
        town = f"{DISTRICT}{t + 1:03d}"
        tx = x0 + 2 * STEP * t
        rows.append((town, f"第{t + 1}街道", 2, DISTRICT, box(tx, Y0, tx + 2 * STEP, Y0 + 2 * STEP)))
        for v in range(2):
            village = f"{town}{v + 1:03d}"
            vy = Y0 + STEP * v
            rows.append((village, f"第{t + 1}-{v + 1}社区", 3, town, box(tx, vy, tx + 2 * STEP, vy + STEP)))
            if tiers < 4:
                continue
            middle = tx + (split_x if split_x is not None else STEP)
            rows.append((f"{village}001", "第1网格", 4, village, box(tx, vy, middle, vy + STEP)))
            rows.append((f"{village}002", "第2网格", 4, village, box(middle, vy, tx + 2 * STEP, vy + STEP)))
    return gpd.GeoDataFrame(
        {
            "code": [r[0] for r in rows],
            "name": [r[1] for r in rows],
            "tier": [r[2] for r in rows],
            "parent_code": [r[3] for r in rows],
        },
        geometry=[r[4] for r in rows],
        crs=4326,
    )
