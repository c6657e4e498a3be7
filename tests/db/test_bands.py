"""Assessment bands as versioned data (db/bands.py, migration 0009): seeded with the common
bands, looked up by date, only ever added to, readable by the app role, set from the CLI."""

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from db.bands import band_versions, bands_in_force, record_bands
from db.errors import BandsVersionConflictError, NoBandsInForceError
from geo.grading import DEFAULT_BANDS

pytestmark = pytest.mark.db

ROOT = Path(__file__).resolve().parents[2]


def test_the_seeded_versions_are_the_default_bands(db_conn):
    assert bands_in_force(db_conn, dt.date(2026, 11, 23)) == DEFAULT_BANDS


def test_the_version_in_force_is_the_latest_started_by_that_day(db_conn):
    new = record_bands(db_conn, "LEC", (300, 150, 60), valid_from=dt.date(2027, 1, 1))
    assert new.version == "2027-01-01" and new.thresholds == (300.0, 150.0, 60.0)
    assert bands_in_force(db_conn, dt.date(2026, 12, 31))["LEC"] == DEFAULT_BANDS["LEC"]
    assert bands_in_force(db_conn, dt.date(2027, 1, 1)) == {"LEC": new, "LS": DEFAULT_BANDS["LS"]}
    assert list(band_versions(db_conn)["version"]) == ["通用-1", "2027-01-01", "通用-1"]


def test_no_bands_before_the_first_version_says_how_to_add_one(db_conn):
    with pytest.raises(NoBandsInForceError, match=r"python -m loaders bands set LEC .* --valid-from 2019-12-31"):
        bands_in_force(db_conn, dt.date(2019, 12, 31))


@pytest.mark.parametrize(
    ("version", "valid_from"),
    [("通用-1", dt.date(2027, 1, 1)), ("新版", dt.date(2020, 1, 1))],
    ids=["same version name", "same start date"],
)
def test_a_recorded_version_is_never_replaced(db_conn, version, valid_from):
    with pytest.raises(BandsVersionConflictError, match="another version name and start date"):
        record_bands(db_conn, "LS", (16, 12, 6), valid_from=valid_from, version=version)
    assert bands_in_force(db_conn, dt.date(2030, 1, 1))["LS"] == DEFAULT_BANDS["LS"]


def test_thresholds_out_of_order_are_refused_by_the_database_too(db_conn):
    with pytest.raises(Exception, match="ck_assessment_band_thresholds"):
        db_conn.execute(
            text(
                "INSERT INTO assessment_band (method, version, thresholds, valid_from) "
                "VALUES ('LEC', 'x', '{70, 160, 320}', DATE '2027-01-01')"
            )
        )


def test_the_app_role_reads_the_bands(app_engine):
    with app_engine.begin() as conn:
        assert {m for (m,) in conn.execute(text("SELECT method FROM assessment_band"))} == {"LEC", "LS"}


def test_cli_sets_a_future_version_lists_it_and_refuses_a_repeat(test_db, admin_engine):
    env = {"PATH": "/usr/bin:/bin", "DATABASE_URL": test_db.app_url, "DATABASE_ADMIN_URL": test_db.admin_url}

    def run(*args):
        return subprocess.run(
            [sys.executable, "-m", "loaders", "bands", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    try:
        added = run("set", "lec", "300", "150", "60", "--valid-from", "2099-01-01")
        assert added.returncode == 0, added.stderr
        assert "2099-01-01" in added.stderr and "regrade --if-stale" in added.stderr  # not in force yet: no regrade
        listed = run("list")
        assert listed.returncode == 0 and "2099-01-01" in listed.stdout and "通用-1 *" in listed.stdout
        repeated = run("set", "LEC", "290", "140", "50", "--valid-from", "2099-01-01")
        assert repeated.returncode == 2 and "already exists" in repeated.stderr
        backwards = run("set", "LS", "9", "15", "20", "--valid-from", "2099-02-01")
        assert backwards.returncode == 2 and "highest first" in backwards.stderr
    finally:
        with admin_engine.begin() as conn:
            conn.execute(text("DELETE FROM assessment_band WHERE valid_from >= DATE '2099-01-01'"))


def test_the_map_grades_enterprises_with_the_bands_in_force(live_db, admin_engine):
    """An enterprise graded from LEC inputs changes colour on the day stricter bands start."""
    from db.analysis import scope_enterprises
    from db.scope import Scope, apply_scope

    scope = Scope.whole_district("340303")
    day = dt.date(2031, 1, 1)
    with admin_engine.connect() as conn:
        transaction = conn.begin()
        apply_scope(conn, scope)
        before = scope_enterprises(conn, scope, on=day).set_index("id")
        assessed = (
            conn.execute(  # no input grade: banded from the LEC/LS inputs
                text("SELECT id FROM enterprise WHERE grade IS NULL AND (lec_l IS NOT NULL OR ls_l IS NOT NULL)")
            )
            .scalars()
            .all()
        )
        record_bands(conn, "LEC", (0.003, 0.002, 0.001), valid_from=day, version="test-strict")
        record_bands(conn, "LS", (0.003, 0.002, 0.001), valid_from=day, version="test-strict")
        after = scope_enterprises(conn, scope, on=day).set_index("id")
        earlier = scope_enterprises(conn, scope, on=day - dt.timedelta(days=1)).set_index("id")
        transaction.rollback()
    assert len(assessed) > 0
    assert (after.loc[assessed, "grade"] == 1).all(), "every assessed enterprise scores above the strict bands"
    assert earlier["grade"].equals(before["grade"])
