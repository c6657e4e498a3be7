"""Enterprise loader guarantees: idempotent re-loads, a killed load changes nothing, the bulk
placement obeys the same point → cell rule as gridrisk_cell_for_point, rejects can be fixed
and loaded again."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import text

from db.scope import Scope, apply_scope
from geo.uscc import random_valid_uscc
from loaders.boundaries import BoundaryOptions, load_boundaries
from loaders.enterprises import EnterpriseOptions, load_enterprises
from tests.support.district import DEMO_DISTRICT, district_rows
from tests.support.grids import DISTRICT, STEP, X0, Y0, nested_squares

pytestmark = pytest.mark.db
ROOT = Path(__file__).resolve().parents[2]
TEST_REGION = "110101"  # registration region of test USCCs: never one of the demo's (340303/340300)


def _usccs(n, seed):
    rng = np.random.default_rng(seed)
    codes = []
    while len(codes) < n:
        code = random_valid_uscc(rng, region_prefix=TEST_REGION)
        if code not in codes:
            codes.append(code)
    return codes


def _listing(usccs, points, crs="WGS84"):
    return pd.DataFrame(
        {
            "企业名称": [f"测试企业{i}" for i in range(len(usccs))],
            "统一社会信用代码": usccs,
            "行业领域": "机械",
            "经度": [p[0] if p else "" for p in points],
            "纬度": [p[1] if p else "" for p in points],
            "坐标系": crs,
        }
    )


def _fingerprint(engine, district="340303"):
    with engine.begin() as conn:
        apply_scope(conn, Scope.whole_district(district))
        return conn.execute(
            text(
                "SELECT count(*), md5(string_agg(uscc || name || coalesce(cell_code, '') || updated_at::text, ',' "
                "ORDER BY uscc)) FROM enterprise"
            )
        ).one()


def _delete(engine, usccs, district="340303"):
    with engine.begin() as conn:
        apply_scope(conn, Scope.whole_district(district))
        conn.execute(text("DELETE FROM enterprise WHERE uscc = ANY(:u)"), {"u": list(usccs)})


@pytest.fixture()
def demo_point(live_db, admin_engine):
    with admin_engine.begin() as conn:
        apply_scope(conn, Scope.whole_district("340303"))
        return conn.execute(
            text("SELECT ST_X(geom), ST_Y(geom) FROM enterprise WHERE placement = 'placed' LIMIT 1")
        ).one()


def test_loading_the_same_file_twice_changes_nothing_the_second_time(admin_engine, demo_point, tmp_path):
    usccs = _usccs(5, seed=11)
    path = tmp_path / "list.csv"
    _listing(usccs, [tuple(demo_point)] * 5).to_csv(path, index=False, encoding="utf-8-sig")
    try:
        first = load_enterprises(admin_engine, path, EnterpriseOptions(district_code="340303"))
        before = _fingerprint(admin_engine)
        second = load_enterprises(admin_engine, path, EnterpriseOptions(district_code="340303"))
        assert (first.inserted, first.status) == (5, "loaded")
        assert (second.inserted, second.updated, second.unchanged, second.status) == (0, 0, 5, "unchanged")
        assert _fingerprint(admin_engine) == before  # not even updated_at moved
        with admin_engine.connect() as conn:
            audit = conn.execute(
                text("SELECT status, inserted, updated, unchanged FROM load_audit WHERE id = :i"),
                {"i": second.audit_id},
            ).one()
        assert tuple(audit) == ("unchanged", 0, 0, 5)
    finally:
        _delete(admin_engine, usccs)


def test_a_changed_row_is_updated_by_uscc(admin_engine, demo_point, tmp_path):
    usccs = _usccs(3, seed=12)
    path = tmp_path / "list.csv"
    frame = _listing(usccs, [tuple(demo_point)] * 3)
    frame.to_csv(path, index=False)
    try:
        load_enterprises(admin_engine, path, EnterpriseOptions(district_code="340303"))
        frame.loc[1, "企业名称"] = "改名后的企业"
        frame.to_csv(path, index=False)
        result = load_enterprises(admin_engine, path, EnterpriseOptions(district_code="340303"))
        assert (result.inserted, result.updated, result.unchanged) == (0, 1, 2)
    finally:
        _delete(admin_engine, usccs)


def test_a_corrected_rejects_file_loads(admin_engine, demo_point, tmp_path):
    usccs = _usccs(2, seed=13)
    frame = _listing(usccs, [tuple(demo_point)] * 2)
    frame.loc[1, "企业名称"] = '=HYPERLINK("x")'
    frame.loc[1, "行业领域"] = "不存在的行业"
    path = tmp_path / "list.csv"
    frame.to_csv(path, index=False)
    try:
        result = load_enterprises(admin_engine, path, EnterpriseOptions(district_code="340303"))
        assert (result.inserted, result.rejected) == (1, 1)
        rejects = pd.read_csv(result.rejects_file, dtype=str, encoding="utf-8-sig")
        assert rejects["企业名称"].iat[0] == '\'=HYPERLINK("x")'  # neutralised for Excel/WPS
        rejects.loc[0, "行业领域"] = "机械"
        rejects.to_csv(result.rejects_file, index=False, encoding="utf-8-sig")
        again = load_enterprises(admin_engine, result.rejects_file, EnterpriseOptions(district_code="340303"))
        assert (again.inserted, again.rejected) == (1, 0)
        with admin_engine.begin() as conn:
            apply_scope(conn, Scope.whole_district("340303"))
            name, extra = conn.execute(
                text("SELECT name, extra FROM enterprise WHERE uscc = :u"), {"u": usccs[1]}
            ).one()
        assert name == '=HYPERLINK("x")' and extra == {}
    finally:
        _delete(admin_engine, usccs)


def test_bulk_placement_follows_the_single_point_rule_on_edges_and_vertices(live_db, admin_engine, tmp_path):
    grid_file = tmp_path / "grid.geojson"
    nested_squares().to_file(grid_file, engine="pyogrio")
    load_boundaries(admin_engine, grid_file, BoundaryOptions(code_year=2024))
    xs = X0 + STEP * np.array([0.5, 1.0, 2.0, 1.0, 3.0, 4.0, 2.0, 0.0])
    ys = Y0 + STEP * np.array([0.5, 0.5, 0.5, 1.0, 1.0, 1.0, 2.0, 0.0])
    usccs = _usccs(len(xs), seed=14)
    path = tmp_path / "edges.csv"
    _listing(usccs, list(zip(xs, ys, strict=True))).to_csv(path, index=False)
    try:
        load_enterprises(admin_engine, path, EnterpriseOptions(district_code=DISTRICT))
        with admin_engine.begin() as conn:
            apply_scope(conn, Scope.whole_district(DISTRICT))
            rows = conn.execute(
                text("SELECT cell_code, gridrisk_cell_for_point(geom, :d) FROM enterprise WHERE district_code = :d"),
                {"d": DISTRICT},
            ).all()
        assert len(rows) == len(xs)
        assert all(bulk == single for bulk, single in rows), rows
        assert all(bulk is not None for bulk, _ in rows)  # every probe is on or inside the grid
    finally:
        _delete(admin_engine, usccs, DISTRICT)
        with admin_engine.begin() as conn:
            conn.execute(text("DELETE FROM boundary_set WHERE district_code = :d"), {"d": DISTRICT})


# Vertices and edge midpoints of the demo grid's cells: real, slanted edges shared by two or
# three cells, where a point → cell rule computed in two places could first disagree.
_DEMO_EDGE_POINTS_SQL = """
WITH cells AS (
    SELECT code, geom FROM gridrisk_bottom_cells('340303') ORDER BY code LIMIT 150
), segments AS (
    SELECT (ST_DumpSegments(ST_Boundary(geom))).geom AS segment FROM cells
)
SELECT ST_X(p), ST_Y(p) FROM (
    SELECT ST_StartPoint(segment) AS p FROM segments
    UNION ALL SELECT ST_LineInterpolatePoint(segment, 0.5) FROM segments
) points
"""


def test_placement_agrees_with_the_database_rule_on_the_demo_grid_s_shared_edges(live_db, admin_engine, tmp_path):
    with admin_engine.begin() as conn:
        points = [tuple(row) for row in conn.execute(text(_DEMO_EDGE_POINTS_SQL))]
    assert len(points) > 1500
    usccs = _usccs(len(points), seed=21)
    path = tmp_path / "demo_edges.csv"
    _listing(usccs, points, crs="CGCS2000").to_csv(path, index=False)
    try:
        result = load_enterprises(admin_engine, path, EnterpriseOptions(district_code="340303"))
        # A midpoint computed on the district's own outline can fall a rounding error outside it.
        assert result.placement["placed"] > 0.99 * len(points)
        rows = district_rows(
            live_db,
            "SELECT cell_code, gridrisk_cell_for_point(geom, :d) AS rule_cell, "
            "region_path[array_length(region_path, 1)] AS path_end FROM enterprise WHERE uscc = ANY(:u)",
            d=DEMO_DISTRICT,
            u=usccs,
        )
        assert len(rows) == len(points)
        disagreements = [dict(row) for row in rows if row["cell_code"] != row["rule_cell"]]
        assert not disagreements, disagreements[:5]
        assert all(row["path_end"] == row["cell_code"] for row in rows if row["cell_code"])  # the path ends at the cell
    finally:
        _delete(admin_engine, usccs)


def _loader_backend(engine, app_name):
    with engine.connect() as conn:
        return conn.execute(
            text("SELECT pid, xact_start IS NOT NULL, query FROM pg_stat_activity WHERE application_name = :a"),
            {"a": app_name},
        ).first()


def test_a_load_killed_mid_transaction_leaves_the_database_as_it_was(live_db, admin_engine, demo_point, tmp_path):
    rng = np.random.default_rng(16)
    usccs = list(dict.fromkeys(random_valid_uscc(rng, region_prefix=TEST_REGION) for _ in range(60_000)))
    path = tmp_path / "big.csv"
    _listing(usccs, [tuple(demo_point)] * len(usccs)).to_csv(path, index=False)
    before = _fingerprint(admin_engine)
    app_name = f"gridrisk-killtest-{os.getpid()}"
    env = {
        **os.environ,
        "DATABASE_URL": live_db.app_url,
        "DATABASE_ADMIN_URL": live_db.admin_url,
        "PGAPPNAME": app_name,
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "loaders", "enterprises", str(path)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:  # wait for the condition: the load's transaction is writing
            backend = _loader_backend(admin_engine, app_name)
            if backend and backend[1] and "enterprise" in backend[2]:
                break
            assert process.poll() is None, "the loader finished before it could be killed"
            time.sleep(0.02)
        else:
            pytest.fail("the loader never started its transaction")
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
        while time.monotonic() < deadline and _loader_backend(admin_engine, app_name):
            time.sleep(0.05)  # the server notices the dead client and rolls the transaction back
        assert _fingerprint(admin_engine) == before
        rerun = subprocess.run(
            [sys.executable, "-m", "loaders", "enterprises", str(path)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert rerun.returncode == 0, rerun.stderr[-2000:]
        assert _fingerprint(admin_engine)[0] == before[0] + len(usccs)
    finally:
        if process.poll() is None:
            process.kill()
        _delete(admin_engine, usccs)
