"""Regrading the demo district: every unit of every tier under the default rule, today and six
months ago, in SQL (db/grading.py), against a plain pandas recomputation from full tables
(geo/grading.py after reading the tables) in the same run. Every SQL result is checked equal to
the pure reference before it is timed.

Targets (grading issue): full recompute ≤ 100 ms; as-of query for a past date ≤ 300 ms.
Not yet measured here: the ten-times city and the update after a single hazard change.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
from _common import median_time, report
from sqlalchemy import create_engine

from config import get_settings
from db.grading import GRADE_COLUMNS, grades_as_of, refresh_grades
from db.queries import grading_inputs
from db.scope import Scope
from geo.grading import DEFAULT_RULE, grade_regions

DISTRICT = "340303"


def main() -> None:
    settings = get_settings()
    engine = create_engine(settings.database_admin_url, connect_args={"options": "-c jit=off"})
    scope = Scope.whole_district(DISTRICT)
    today = settings.today()
    past = (pd.Timestamp(today) - pd.DateOffset(months=6)).date()

    def pandas_full(as_of: dt.date) -> pd.DataFrame:
        with engine.begin() as conn:
            units, enterprises, hazards = grading_inputs(conn, scope)
        return grade_regions(units, enterprises, hazards, DEFAULT_RULE, as_of)

    def sql(as_of: dt.date) -> pd.DataFrame:
        with engine.begin() as conn:
            return grades_as_of(conn, scope, DISTRICT, DEFAULT_RULE, as_of)

    columns = [c for c in GRADE_COLUMNS if c != "path"]
    for as_of in (today, past):
        got = sql(as_of).set_index("code")[columns[1:]].sort_index()
        want = pandas_full(as_of).set_index("code")[columns[1:]].sort_index()
        pd.testing.assert_frame_equal(got, want, check_dtype=False)

    def refresh() -> None:
        with engine.begin() as conn:
            refresh_grades(conn, DISTRICT, as_of=today, rules=(DEFAULT_RULE,))

    regrade_s = median_time(lambda: sql(today), repeat=5)
    asof_s = median_time(lambda: sql(past), repeat=5)
    refresh_s = median_time(refresh, repeat=3)
    pandas_s = median_time(lambda: pandas_full(today), repeat=3)
    engine.dispose()
    report(
        "grading",
        [
            ("SQL: every unit, every tier, today (default rule)", regrade_s, "target ≤ 0.100"),
            ("SQL: the same as of six months ago", asof_s, "target ≤ 0.300"),
            ("SQL: refresh the stored grades (compute + replace)", refresh_s, ""),
            ("baseline: read full tables + pandas reference", pandas_s, "same results"),
            ("ratio SQL / pandas", regrade_s / pandas_s, ""),
        ],
        {
            "regrade_s": regrade_s,
            "asof_s": asof_s,
            "regrade_refresh_s": refresh_s,
            "regrade_ratio": regrade_s / pandas_s,
        },
    )


if __name__ == "__main__":
    main()
