"""A small hand-drawn district with known answers, committed for tests that need it.

District T00001 is a 4 km × 2 km rectangle split into two townships (west/east), each with one
village and one cell. Enterprises: one in each cell and one with no cell (unplaced).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine, text

from db.grading import refresh_grades
from db.scope import Scope, apply_scope

DISTRICT = "T00001"
FIXTURE_TODAY = dt.date(2026, 11, 23)  # the grades stored for the fixture are as of this day
WEST, EAST = "T00001001", "T00001002"
WEST_VILLAGE, EAST_VILLAGE = "T00001001001", "T00001002001"
WEST_CELL, EAST_CELL = "T00001001001001", "T00001002001001"

_X0, _Y0, _DX, _DY = 117.0, 30.0, 0.04, 0.02  # lon/lat degrees: roughly 3.8 km × 2.2 km


def _box(x0: float, x1: float) -> str:
    return f"MULTIPOLYGON((({x0} {_Y0},{x1} {_Y0},{x1} {_Y0 + _DY},{x0} {_Y0 + _DY},{x0} {_Y0})))"


UNITS = [
    # code, tier, parent, path, name, wkt
    (DISTRICT, 1, None, [DISTRICT], "测试区", _box(_X0, _X0 + _DX)),
    (WEST, 2, DISTRICT, [DISTRICT, WEST], "西街道", _box(_X0, _X0 + _DX / 2)),
    (EAST, 2, DISTRICT, [DISTRICT, EAST], "东乡", _box(_X0 + _DX / 2, _X0 + _DX)),
    (WEST_VILLAGE, 3, WEST, [DISTRICT, WEST, WEST_VILLAGE], "西社区", _box(_X0, _X0 + _DX / 2)),
    (EAST_VILLAGE, 3, EAST, [DISTRICT, EAST, EAST_VILLAGE], "东村", _box(_X0 + _DX / 2, _X0 + _DX)),
    (WEST_CELL, 4, WEST_VILLAGE, [DISTRICT, WEST, WEST_VILLAGE, WEST_CELL], "第1网格", _box(_X0, _X0 + _DX / 2)),
    (EAST_CELL, 4, EAST_VILLAGE, [DISTRICT, EAST, EAST_VILLAGE, EAST_CELL], "第1网格", _box(_X0 + _DX / 2, _X0 + _DX)),
]

ENTERPRISES = [
    # uscc, name, cell, region_path, placement
    ("91330100799655058B", "西边化工有限公司", WEST_CELL, [DISTRICT, WEST, WEST_VILLAGE, WEST_CELL], "placed"),
    ("91440300708461136T", "东边烟花爆竹店", EAST_CELL, [DISTRICT, EAST, EAST_VILLAGE, EAST_CELL], "placed"),
    ("914403001922038216", "无坐标商贸公司", None, [DISTRICT], "no_coordinates"),
]


def seed_two_townships(engine: Engine) -> None:
    """Commit the fixture district (idempotent: replaces an earlier copy)."""
    with engine.begin() as conn:
        apply_scope(conn, Scope.whole_district(DISTRICT))
        conn.execute(text("DELETE FROM boundary_set WHERE district_code = :d"), {"d": DISTRICT})
        conn.execute(text("DELETE FROM enterprise WHERE district_code = :d"), {"d": DISTRICT})
        set_id = conn.execute(
            text(
                "INSERT INTO boundary_set (district_code, code_year, is_current) VALUES (:d, 2024, true) RETURNING id"
            ),
            {"d": DISTRICT},
        ).scalar_one()
        conn.execute(
            text(
                "INSERT INTO region_unit (boundary_set_id, code, name, tier, parent_code, path, code_year, area_m2, geom) "
                "VALUES (:s, :code, :name, :tier, :parent, :path, 2024, 0, ST_GeomFromText(:wkt, 4490))"
            ),
            [
                {"s": set_id, "code": c, "tier": t, "parent": p, "path": path, "name": n, "wkt": w}
                for c, t, p, path, n, w in UNITS
            ],
        )
        for i, (uscc, name, cell, path, placement) in enumerate(ENTERPRISES):
            enterprise_id = conn.execute(
                text(
                    "INSERT INTO enterprise (uscc, name, district_code, cell_code, region_path, placement, grade) "
                    "VALUES (:uscc, :name, :d, :cell, :path, :placement, :grade) RETURNING id"
                ),
                {
                    "uscc": uscc,
                    "name": name,
                    "d": DISTRICT,
                    "cell": cell,
                    "path": path,
                    "placement": placement,
                    "grade": 1 + i,
                },
            ).scalar_one()
            conn.execute(
                text(
                    "INSERT INTO hazard (hazard_code, enterprise_id, region_path, found_date, hazard_grade) "
                    "VALUES (:code, :eid, :path, DATE '2026-01-05', 2)"
                ),
                {"code": f"H-{uscc}", "eid": enterprise_id, "path": path},
            )
            conn.execute(
                text(
                    "INSERT INTO inspection (inspection_code, enterprise_id, region_path, inspection_date, kind) "
                    "VALUES (:code, :eid, :path, DATE '2026-01-05', '日常')"
                ),
                {"code": f"J-{uscc}", "eid": enterprise_id, "path": path},
            )
        refresh_grades(conn, DISTRICT, as_of=FIXTURE_TODAY)
        conn.execute(text("DELETE FROM grid_staff WHERE district_code = :d"), {"d": DISTRICT})
        for phone, name, cell, path in (
            ("13800000001", "西网格员", WEST_CELL, [DISTRICT, WEST, WEST_VILLAGE, WEST_CELL]),
            ("13800000002", "东网格员", EAST_CELL, [DISTRICT, EAST, EAST_VILLAGE, EAST_CELL]),
        ):
            conn.execute(
                text(
                    "INSERT INTO grid_staff (phone, name, role, district_code, cell_codes, region_path) "
                    "VALUES (:phone, :name, '网格员', :d, :cells, :path)"
                ),
                {"phone": phone, "name": name, "d": DISTRICT, "cells": [cell], "path": path},
            )
