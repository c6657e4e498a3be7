"""The 20,000-row demo enterprise list, whole pipeline (read, validate, convert, assign cells,
merge, audit; no regrading), against the floor of a bare GeoDataFrame.to_postgis of the same rows.

Target (enterprise issue): within 2.5× of the floor. Both run here, same process, same rows,
into a scratch database holding the demo grid.
"""

from __future__ import annotations

import geopandas as gpd
from _common import interleaved_medians, report
from sqlalchemy import create_engine, text

from config import get_settings
from db.scratch import scratch_database
from loaders.boundaries import BoundaryOptions, load_boundaries
from loaders.demo import DEMO_CODE_YEAR, DEMO_OUTPUT, demo_grid_path, write_demo_enterprises, write_demo_grid
from loaders.enterprises import EnterpriseOptions, load_enterprises, parse_enterprises
from loaders.tabular import read_table

OPTIONS = EnterpriseOptions(district_code="340303", write_reports=False)


def main() -> None:
    grid_file = demo_grid_path()
    if not grid_file.exists():
        write_demo_grid(grid_file)
    today = get_settings().today()
    xlsx, csv = (
        DEMO_OUTPUT / f"企业名单_蚌山区_{today:%Y%m%d}.xlsx",
        DEMO_OUTPUT / f"企业名单_蚌山区_{today:%Y%m%d}.csv",
    )
    if not (xlsx.exists() and csv.exists()):
        xlsx, csv, _ = write_demo_enterprises(grid_file, DEMO_OUTPUT, today=today)
    parsed = parse_enterprises(read_table(csv), OPTIONS)
    rows = parsed.rows.drop(columns=["special_flags", "extra"])
    floor_frame = gpd.GeoDataFrame(rows, geometry=gpd.points_from_xy(rows["lon"], rows["lat"]), crs=4490)
    settings = get_settings()
    with scratch_database(settings.database_admin_url, settings.database_url, prefix="gridrisk_bench") as db:
        engine = create_engine(db.admin_url, connect_args={"options": "-c jit=off"})
        load_boundaries(engine, grid_file, BoundaryOptions(code_year=DEMO_CODE_YEAR))

        def empty() -> None:
            with engine.begin() as conn:
                # A first load: an empty table without dead rows, as the floor's fresh table.
                conn.execute(text("TRUNCATE enterprise CASCADE"))
                conn.execute(text("DROP TABLE IF EXISTS bench_enterprises"))

        timed = interleaved_medians(
            {
                "csv": lambda: load_enterprises(engine, csv, OPTIONS),
                "xlsx": lambda: load_enterprises(engine, xlsx, OPTIONS),
                "floor": lambda: floor_frame.to_postgis("bench_enterprises", engine, index=False),
            },
            setup=empty,
        )
        csv_s, xlsx_s, floor_s = timed["csv"], timed["xlsx"], timed["floor"]
        engine.dispose()
    n = len(floor_frame)
    report(
        "enterprises",
        [
            (f"load_enterprises CSV, {n} rows (whole pipeline)", csv_s, "target ≤ 2.5 × floor"),
            (f"load_enterprises XLSX, {n} rows (whole pipeline)", xlsx_s, "Excel parsing included"),
            ("floor: GeoDataFrame.to_postgis of the same rows", floor_s, "write only"),
            ("ratio CSV / floor", csv_s / floor_s, ""),
            ("ratio XLSX / floor", xlsx_s / floor_s, ""),
        ],
        {
            "enterprises_load_s": csv_s,
            "enterprises_xlsx_load_s": xlsx_s,
            "enterprises_floor_s": floor_s,
            "enterprises_floor_ratio": csv_s / floor_s,
            "enterprises_xlsx_floor_ratio": xlsx_s / floor_s,
        },
    )


if __name__ == "__main__":
    main()
