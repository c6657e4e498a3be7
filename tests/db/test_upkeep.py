"""The daily upkeep the launcher runs: stale grades are recomputed, current ones left alone."""

import pytest
from sqlalchemy import text

from db.scope import Scope, apply_scope
from loaders.upkeep import daily_upkeep

pytestmark = pytest.mark.db
DISTRICT = "340303"


def _as_of_days(engine) -> set:
    with engine.begin() as conn:
        apply_scope(conn, Scope.whole_district(DISTRICT))
        return set(
            conn.execute(
                text("SELECT DISTINCT as_of FROM region_grade WHERE district_code = :d"), {"d": DISTRICT}
            ).scalars()
        )


def test_yesterdays_grades_are_recomputed_once_and_then_left_alone(live_db, admin_engine):
    from config import get_settings

    today = get_settings().today()
    daily_upkeep(admin_engine)  # whatever earlier tests left, now current
    assert daily_upkeep(admin_engine) == []  # graded today: nothing to do
    with admin_engine.begin() as conn:
        apply_scope(conn, Scope.whole_district(DISTRICT))
        conn.execute(text("UPDATE region_grade SET as_of = as_of - 1 WHERE district_code = :d"), {"d": DISTRICT})
    assert _as_of_days(admin_engine) != {today}
    said: list[str] = []
    assert daily_upkeep(admin_engine, say=said.append) == ["regrade"]
    assert _as_of_days(admin_engine) == {today}
    assert any(str(today) in line for line in said)
    assert daily_upkeep(admin_engine) == []
