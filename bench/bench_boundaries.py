"""Validating and loading the ~1,900-cell demo grid, against a bare GeoDataFrame.to_postgis.

Target (boundary issue): load ≤ 3 s on a 2-core machine. Both run here, in the same process,
on the same frames, into a scratch database.
"""

from __future__ import annotations

import geopandas as gpd
from _common import median_time, report
from sqlalchemy import create_engine, text

from config import get_settings
from db.scratch import scratch_database
from loaders.boundaries import BoundaryOptions, load_boundaries
from loaders.demo import DEMO_CODE_YEAR, demo_grid_path, write_demo_grid


def main() -> None:
    grid_file = demo_grid_path()
    if not grid_file.exists():
        write_demo_grid(grid_file)
    frame = gpd.read_file(grid_file, layer="grid")
    settings = get_settings()
    with scratch_database(settings.database_admin_url, settings.database_url, prefix="gridrisk_bench") as db:
        engine = create_engine(db.admin_url)

        def load() -> None:
            load_boundaries(engine, grid_file, BoundaryOptions(code_year=DEMO_CODE_YEAR))

        def floor() -> None:
            frame.to_postgis("bench_units", engine, if_exists="replace", index=False)

        def drop_floor() -> None:
            with engine.begin() as conn:
                conn.execute(text("DROP TABLE IF EXISTS bench_units"))

        load_s = median_time(load)
        floor_s = median_time(floor, setup=drop_floor)
        engine.dispose()
    ratio = load_s / floor_s
    report(
        "boundaries",
        [
            (f"load_boundaries, {len(frame)} units (read, validate, write, audit)", load_s, "target ≤ 3 s"),
            ("baseline: GeoDataFrame.to_postgis of the same frame", floor_s, "write only"),
            ("ratio load / baseline", ratio, ""),
        ],
        {"boundaries_load_s": load_s, "boundaries_floor_s": floor_s, "boundaries_ratio": ratio},
    )


if __name__ == "__main__":
    main()
