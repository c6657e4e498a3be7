"""The boundary loader against PostGIS: formats, encodings, CRS, versions, re-assignment."""

import zipfile

import geopandas as gpd
import numpy as np
import pytest
import shapely
from sqlalchemy import text

from db.scope import Scope, apply_scope
from geo.chinese_crs import wgs84_to_gcj02
from loaders.boundaries import BoundaryOptions, load_boundaries
from loaders.errors import LoadRefusedError
from tests.support.grids import DISTRICT, STEP, X0, Y0, nested_squares

pytestmark = pytest.mark.db


@pytest.fixture()
def engine(live_db, admin_engine):
    def _clean():
        with admin_engine.begin() as conn:
            apply_scope(conn, Scope.whole_district(DISTRICT))
            conn.execute(text("DELETE FROM enterprise WHERE district_code = :d"), {"d": DISTRICT})
            conn.execute(text("DELETE FROM boundary_set WHERE district_code = :d"), {"d": DISTRICT})

    _clean()
    yield admin_engine
    _clean()


def _current(engine):
    with engine.connect() as conn:
        return conn.execute(
            text(
                "SELECT u.code, u.tier, u.path, u.parent_code, u.name FROM region_unit u JOIN boundary_set s "
                "ON s.id = u.boundary_set_id AND s.is_current WHERE s.district_code = :d ORDER BY u.code"
            ),
            {"d": DISTRICT},
        ).all()


def _write(frame, path, **kwargs):
    frame.to_file(path, engine="pyogrio", **kwargs)
    return path


def test_four_tier_geojson_loads_with_ancestry(engine, tmp_path):
    result = load_boundaries(
        engine, _write(nested_squares(), tmp_path / "grid.geojson"), BoundaryOptions(code_year=2024)
    )
    assert result.units_per_tier == {1: 1, 2: 2, 3: 4, 4: 8}
    assert result.bottom_tier == 4
    rows = {code: (tier, path) for code, tier, path, _, _ in _current(engine)}
    assert rows["341999002001002"] == (4, ["341999", "341999002", "341999002001", "341999002001002"])


def test_tier_and_parent_come_from_the_code_when_absent(engine, tmp_path):
    frame = nested_squares().drop(columns=["tier", "parent_code"])
    load_boundaries(engine, _write(frame, tmp_path / "grid.geojson"), BoundaryOptions(code_year=2024))
    assert {tier for _, tier, *_ in _current(engine)} == {1, 2, 3, 4}


def test_chinese_headers_are_recognised(engine, tmp_path):
    frame = nested_squares().rename(
        columns={"code": "网格编码", "name": "名称", "tier": "层级", "parent_code": "上级编码"}
    )
    result = load_boundaries(engine, _write(frame, tmp_path / "grid.geojson"), BoundaryOptions(code_year=2024))
    assert sum(result.units_per_tier.values()) == 15


def test_three_tier_grid_places_enterprises_in_villages(engine, tmp_path):
    result = load_boundaries(
        engine,
        _write(nested_squares(tiers=3), tmp_path / "grid.gpkg", layer="units"),
        BoundaryOptions(code_year=2024, layer="units"),
    )
    assert (result.bottom_tier, result.units_per_tier) == (3, {1: 1, 2: 2, 3: 4})
    with engine.connect() as conn:
        cell = conn.execute(
            text("SELECT gridrisk_cell_for_point(ST_SetSRID(ST_MakePoint(:x, :y), 4490), :d)"),
            {"x": X0 + 0.5 * STEP, "y": Y0 + 1.5 * STEP, "d": DISTRICT},
        ).scalar_one()
    assert cell == "341999001002"


def test_gbk_shapefile_with_explicit_encoding_in_a_zip(engine, tmp_path):
    shp = _write(nested_squares(), tmp_path / "grid.shp", encoding="GBK")
    (tmp_path / "grid.cpg").unlink(missing_ok=True)  # bureaus' files often carry no .cpg
    archive = tmp_path / "grid.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for part in tmp_path.glob("grid.*"):
            if part != archive:
                zf.write(part, part.name)
    load_boundaries(engine, archive, BoundaryOptions(code_year=2024, encoding="GBK"))
    names = {code: name for code, *_, name in _current(engine)}
    assert names["341999001"] == "第1街道" and names["341999"] == "测试区"
    assert shp.exists()


def test_gcj02_file_matches_the_wgs84_outline_within_a_metre(engine, tmp_path):
    wgs = nested_squares()
    gcj = wgs.copy()
    gcj["geometry"] = shapely.transform(
        shapely.segmentize(wgs.geometry.values, 0.001),
        lambda xy: np.column_stack(wgs84_to_gcj02(xy[:, 0], xy[:, 1])),
    )
    load_boundaries(engine, _write(gcj, tmp_path / "amap.geojson"), BoundaryOptions(code_year=2024, crs="gcj02"))
    with engine.connect() as conn:
        stored = gpd.read_postgis(
            text(
                "SELECT u.code, u.geom FROM region_unit u JOIN boundary_set s ON s.id = u.boundary_set_id "
                "AND s.is_current WHERE u.code = :d"
            ),
            conn,
            geom_col="geom",
            params={"d": DISTRICT},
        )
    original = wgs[wgs["code"] == DISTRICT].to_crs(4548).geometry.iat[0]
    assert stored.to_crs(4548).geometry.iat[0].hausdorff_distance(original) < 1.0


def test_replacing_the_set_moves_enterprises_and_keeps_the_old_year(engine, tmp_path):
    load_boundaries(engine, _write(nested_squares(), tmp_path / "a.geojson"), BoundaryOptions(code_year=2023))
    point_x, point_y = X0 + 0.8 * STEP, Y0 + 0.5 * STEP  # in cell 001 of village 341999001001
    with engine.begin() as conn:
        apply_scope(conn, Scope.whole_district(DISTRICT))
        eid = conn.execute(
            text(
                "INSERT INTO enterprise (uscc, name, district_code, cell_code, region_path, geom) VALUES "
                "('91110000802100433B', '测试企业', :d, '341999001001001', "
                "ARRAY['341999','341999001','341999001001','341999001001001'], "
                "ST_SetSRID(ST_MakePoint(:x, :y), 4490)) RETURNING id"
            ),
            {"d": DISTRICT, "x": point_x, "y": point_y},
        ).scalar_one()
        conn.execute(
            text(
                "INSERT INTO hazard (hazard_code, enterprise_id, region_path, found_date, hazard_grade) "
                "SELECT 'H1', id, region_path, DATE '2024-01-02', 2 FROM enterprise WHERE id = :id"
            ),
            {"id": eid},
        )
    # The 2024 set moves every village's inner cell edge west: the enterprise is now in cell 002.
    result = load_boundaries(
        engine, _write(nested_squares(split_x=0.5 * STEP), tmp_path / "b.geojson"), BoundaryOptions(code_year=2024)
    )
    assert result.enterprises_moved == 1
    with engine.begin() as conn:
        apply_scope(conn, Scope.whole_district(DISTRICT))
        cell, placement = conn.execute(
            text("SELECT cell_code, placement FROM enterprise WHERE id = :id"), {"id": eid}
        ).one()
        hazard_path = conn.execute(text("SELECT region_path FROM hazard WHERE hazard_code = 'H1'")).scalar_one()
        years = conn.execute(
            text("SELECT code_year, is_current FROM boundary_set WHERE district_code = :d ORDER BY 1"), {"d": DISTRICT}
        ).all()
    assert (cell, placement) == ("341999001001002", "placed")
    assert hazard_path[-1] == "341999001001002"
    assert years == [(2023, False), (2024, True)]


def test_a_file_of_cells_alone_joins_the_current_upper_tiers(engine, tmp_path):
    full = nested_squares()
    load_boundaries(engine, _write(full, tmp_path / "a.geojson"), BoundaryOptions(code_year=2023))
    cells = nested_squares(split_x=0.5 * STEP)
    cells = cells[cells["tier"] == 4]
    result = load_boundaries(engine, _write(cells, tmp_path / "cells.geojson"), BoundaryOptions(code_year=2024))
    assert result.units_per_tier == {1: 1, 2: 2, 3: 4, 4: 8}


def test_a_bad_file_is_refused_whole_and_the_current_set_stays(engine, tmp_path):
    load_boundaries(engine, _write(nested_squares(), tmp_path / "a.geojson"), BoundaryOptions(code_year=2023))
    before = _current(engine)
    bad = nested_squares()
    bad.loc[bad["code"] == "341999002", "parent_code"] = "341998"  # orphan
    bad.loc[bad.index[-1], "code"] = bad["code"].iat[-2]  # duplicate code
    with pytest.raises(LoadRefusedError) as caught:
        load_boundaries(engine, _write(bad, tmp_path / "bad.geojson"), BoundaryOptions(code_year=2024))
    kinds = {p.code for p in caught.value.problems}
    assert {"orphan", "duplicate_code"} <= kinds
    assert all(p.file == "bad.geojson" and p.row for p in caught.value.problems if p.code == "duplicate_code")
    assert _current(engine) == before


def test_point_on_a_shared_edge_or_vertex_goes_to_the_lowest_code(engine, tmp_path):
    load_boundaries(engine, _write(nested_squares(), tmp_path / "a.geojson"), BoundaryOptions(code_year=2023))
    probes = {
        (X0 + STEP, Y0 + 0.5 * STEP): "341999001001001",  # edge between cells 001 and 002
        (X0 + 2 * STEP, Y0 + 0.5 * STEP): "341999001001002",  # township edge: 341999001… < 341999002…
        (X0 + STEP, Y0 + STEP): "341999001001001",  # vertex shared by four cells
        (X0 + 9 * STEP, Y0): None,  # outside every cell
    }
    with engine.connect() as conn:
        for (x, y), expected in probes.items():
            got = conn.execute(
                text("SELECT gridrisk_cell_for_point(ST_SetSRID(ST_MakePoint(:x, :y), 4490), :d)"),
                {"x": x, "y": y, "d": DISTRICT},
            ).scalar_one()
            assert got == expected, (x, y)


def test_cli_loads_a_grid_and_refuses_a_bad_one_with_every_problem(engine, live_db, tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    env = {"PATH": "/usr/bin:/bin", "DATABASE_URL": live_db.app_url, "DATABASE_ADMIN_URL": live_db.admin_url}

    def run(*args):
        return subprocess.run(
            [sys.executable, "-m", "loaders", "boundaries", *args],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    good = run(str(_write(nested_squares(), tmp_path / "grid.geojson")), "--code-year", "2024")
    assert good.returncode == 0, good.stderr
    assert "4级 8 个" in good.stderr
    bad = nested_squares()
    bad.loc[bad["code"] == "341999001001001", "geometry"] = shapely.box(X0, Y0, X0 + 1.2 * STEP, Y0 + STEP)
    refused = run(str(_write(bad, tmp_path / "bad.geojson")), "--code-year", "2025")
    assert refused.returncode == 2
    assert (
        "bad.geojson" in refused.stderr
        and "sibling_overlap" in refused.stderr
        and "outside_parent" not in refused.stderr
    )
    assert "未写入任何数据" in refused.stderr
