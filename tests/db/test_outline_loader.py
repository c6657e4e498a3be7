"""Outline and context loaders: a clean file in one transaction, a bad file refused whole."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from db.scope import Scope, apply_scope
from loaders.demo import CONTEXT_FILE, OUTLINE_FILE
from loaders.errors import LoadRefusedError
from loaders.outline import load_context, load_outline

pytestmark = pytest.mark.db
DATA = Path(__file__).resolve().parents[1] / "data" / "outline"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture()
def fresh_db(test_db, admin_engine):
    """An empty schema state for loaders that commit: remove what earlier tests committed."""

    def _clean():
        with admin_engine.begin() as conn:
            apply_scope(conn, Scope.of(["340303", "T00001"]))
            conn.execute(text("DELETE FROM boundary_set WHERE district_code = '340303'"))
            conn.execute(text("DELETE FROM load_audit"))

    _clean()
    yield admin_engine
    _clean()
    # Leave the live database as the other tests expect it: the demo grid and context again.
    from loaders.boundaries import BoundaryOptions, load_boundaries
    from loaders.demo import DEMO_CODE_YEAR, demo_grid_path

    load_boundaries(admin_engine, demo_grid_path(), BoundaryOptions(code_year=DEMO_CODE_YEAR))
    load_context(admin_engine, CONTEXT_FILE)


def _units(engine):
    with engine.connect() as conn:
        return conn.execute(
            text(
                "SELECT u.code, u.tier, u.name, u.path, u.code_year, round(u.area_m2 / 1e6) FROM region_unit u "
                "JOIN boundary_set s ON s.id = boundary_set_id AND s.is_current "
                "WHERE s.district_code = '340303'"
            )
        ).all()


def _audit(engine):
    with engine.connect() as conn:
        return conn.execute(text("SELECT kind, status, inserted, detail FROM load_audit ORDER BY id")).all()


def test_real_outline_loads_into_tier_one_with_an_audit_row(fresh_db):
    result = load_outline(fresh_db, OUTLINE_FILE, code_year=2023)
    assert (result.district_code, result.district_name) == ("340303", "蚌山区")
    assert 80 < result.district_area_km2 < 100  # measured in CGCS2000 GK CM117E, not in degrees
    assert _units(fresh_db) == [("340303", 1, "蚌山区", ["340303"], 2023, round(result.district_area_km2))]
    assert [(k, s, n) for k, s, n, _ in _audit(fresh_db)] == [("outline", "loaded", 1)]


def test_reloading_keeps_the_previous_year_queryable(fresh_db):
    load_outline(fresh_db, OUTLINE_FILE, code_year=2022)
    load_outline(fresh_db, OUTLINE_FILE, code_year=2023)
    with fresh_db.connect() as conn:
        sets = conn.execute(
            text("SELECT code_year, is_current FROM boundary_set WHERE district_code = '340303' ORDER BY 1")
        ).all()
    assert sets == [(2022, False), (2023, True)]


def test_projected_file_is_converted(fresh_db):
    result = load_outline(fresh_db, DATA / "gk117.gpkg", code_year=2023)
    with fresh_db.connect() as conn:
        x, y = conn.execute(
            text("SELECT ST_X(ST_Centroid(geom)), ST_Y(ST_Centroid(geom)) FROM region_unit WHERE code = '340303'")
        ).one()
    assert 117.25 < x < 117.45 and 32.8 < y < 32.95
    assert result.district_area_km2 == pytest.approx(
        load_outline(fresh_db, OUTLINE_FILE, code_year=2023).district_area_km2, rel=1e-4
    )


@pytest.mark.parametrize(
    ("file", "crs", "codes", "message"),
    [
        ("no_prj.shp", None, ["no_crs"], "没有坐标系信息"),
        ("swapped_lonlat.geojson", None, ["swapped_lonlat"], "经纬度颠倒"),
        ("two_districts.geojson", None, ["duplicate_code", "not_one_district"], "只含一个面要素"),
        ("bowtie_no_name.geojson", None, ["missing_column"], "找不到名称列"),
        ("no_prj.shp", "mercator-ish", ["unknown_crs"], "无法识别的坐标系"),
    ],
)
def test_bad_files_are_refused_whole_with_every_problem_named(fresh_db, file, crs, codes, message):
    with pytest.raises(LoadRefusedError) as caught:
        load_outline(fresh_db, DATA / file, code_year=2023, crs=crs)
    assert [p.code for p in caught.value.problems] == codes
    assert message in str(caught.value) and file in str(caught.value)
    assert _units(fresh_db) == []  # nothing half-written
    assert [(k, s) for k, s, _, _ in _audit(fresh_db)] == [("outline", "refused")]


def test_bowtie_geometry_is_reported_with_its_reason(fresh_db):
    with pytest.raises(LoadRefusedError) as caught:
        load_outline(fresh_db, DATA / "bowtie_no_name.geojson", code_year=2023, columns={"name": "adcode"})
    (problem,) = caught.value.problems
    assert (problem.code, problem.row, problem.value) == ("invalid_geometry", 1, "340303")
    assert "Self-intersection" in problem.message


def test_no_prj_file_loads_when_the_crs_is_given(fresh_db):
    assert load_outline(fresh_db, DATA / "no_prj.shp", code_year=2023, crs="cgcs2000").district_name == "蚌山区"


def test_cli_status_json_and_refusal_exit_code(fresh_db, test_db):
    env = {"PATH": "/usr/bin:/bin", "DATABASE_URL": test_db.app_url, "DATABASE_ADMIN_URL": test_db.admin_url}

    def run(*args):
        return subprocess.run(
            [sys.executable, "-m", "loaders", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    loaded = run("outline", str(OUTLINE_FILE), "--code-year", "2023")
    assert loaded.returncode == 0, loaded.stderr
    assert run("context", str(CONTEXT_FILE)).returncode == 0
    refused = run("outline", str(DATA / "no_prj.shp"), "--code-year", "2023")
    assert refused.returncode == 2
    assert "no_prj.shp" in refused.stderr and "--crs" in refused.stderr
    status = run("status", "--json")
    assert status.returncode == 0, status.stderr
    report = json.loads(status.stdout)
    assert report["units_per_tier"] == {"1": 1}
    assert report["tables"]["context_area"] == 6
    assert [load["status"] for load in report["recent_loads"]][:3] == ["refused", "loaded", "loaded"]
    assert run("--help").returncode == 0 and run("outline", "--help").returncode == 0
