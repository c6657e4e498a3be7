"""Regrading: every unit of every tier under the default rule, in SQL (db/grading.py), against
a plain pandas recomputation from full tables (geo/grading.py after reading the tables) in the
same run. Every SQL result is checked equal to the pure reference before it is timed.

- the demo district (≈1,900 cells, 20k enterprises, 200k hazards), today and six months ago;
- a generated city ten times that size (the demo's townships copied ten times under new codes
  into a scratch database, dropped afterwards: ≈19,000 cells, 200k enterprises, 2M hazards);
- the update after a single hazard change (refresh_grades_for: only the changed cell's
  ancestry), on the demo and on the city, inside a transaction rolled back afterwards.

Targets (grading issue): full recompute ≤ 100 ms on the demo and ≤ 1 s on the city; as-of
query for a past date ≤ 300 ms on the demo.
"""

from __future__ import annotations

import datetime as dt
import statistics
import time
from collections.abc import Callable

import pandas as pd
from _common import median_time, report
from sqlalchemy import Connection, Engine, create_engine, text

from config import get_settings
from db.bands import bands_in_force
from db.grading import GRADE_COLUMNS, grades_as_of, refresh_grades, refresh_grades_for, stored_grades
from db.queries import grading_inputs
from db.scope import Scope, apply_scope
from db.scratch import scratch_database
from geo.grading import DEFAULT_RULE, grade_regions

DISTRICT = "340303"
CITY = "340300"  # 蚌埠市: the generated city, one tier-1 unit over ten copies of the demo's townships
COPIES = 10
ID_STRIDE = 10_000_000  # copy k of a row gets id + k × this (the demo's ids stay far below it)
ENGINE_OPTIONS = {"options": "-c jit=off"}
COMPARED = [c for c in GRADE_COLUMNS if c not in ("code", "path")]


def _comparable(frame: pd.DataFrame, code: str = "code") -> pd.DataFrame:
    frame = frame.rename(columns={code: "code"}).set_index("code").sort_index()[COMPARED]
    escalated_by = frame["escalated_by"].astype(object)
    frame = frame.assign(escalated_by=escalated_by.where(escalated_by.notna(), None))
    return frame.astype({"grade": "Int64", "tier": "int64", "score": "float64"})


def _reference(conn: Connection, district: str, as_of: dt.date) -> pd.DataFrame:
    """The plain pandas recomputation: read the full tables, grade with geo.grading."""
    units, enterprises, hazards = grading_inputs(
        conn, Scope.whole_district(district), bands=bands_in_force(conn, as_of)
    )
    return grade_regions(units, enterprises, hazards, DEFAULT_RULE, as_of)


def _check(got: pd.DataFrame, want: pd.DataFrame, *, code: str = "code") -> None:
    pd.testing.assert_frame_equal(_comparable(got, code), _comparable(want), check_dtype=False)


def _full_figures(engine: Engine, district: str, days: tuple[dt.date, ...]) -> tuple[list[float], float]:
    """Median SQL time for each day (each result checked first) and one pandas recomputation."""

    def sql(as_of: dt.date) -> pd.DataFrame:
        with engine.begin() as conn:
            return grades_as_of(conn, Scope.whole_district(district), district, DEFAULT_RULE, as_of)

    def pandas_full(as_of: dt.date) -> pd.DataFrame:
        with engine.begin() as conn:
            return _reference(conn, district, as_of)

    pandas_s = 0.0
    for i, as_of in enumerate(days):
        start = time.perf_counter()
        want = pandas_full(as_of)
        if i == 0:
            pandas_s = time.perf_counter() - start
        _check(sql(as_of), want)
    return [median_time(lambda day=as_of: sql(day), repeat=5) for as_of in days], pandas_s


def _one_change_s(engine: Engine, district: str, today: dt.date, *, repeat: int = 5) -> float:
    """Median time of refresh_grades_for after one new open 重大隐患 at one enterprise, each in
    a savepoint rolled back; the first result is checked equal to a full refresh and to the
    pure reference. Everything is rolled back at the end."""
    with engine.connect() as conn:
        outer = conn.begin()
        apply_scope(conn, Scope.whole_district(district))
        refresh_grades(conn, district, as_of=today, rules=(DEFAULT_RULE,))  # stored grades current first
        targets = conn.execute(
            text(
                "SELECT id, cell_code, region_path FROM enterprise WHERE district_code = :d AND cell_code IS NOT NULL "
                "AND status IS DISTINCT FROM '关闭' ORDER BY id LIMIT :n"
            ),
            {"d": district, "n": repeat + 1},
        ).all()
        times = []
        for i, target in enumerate(targets):
            savepoint = conn.begin_nested()
            conn.execute(
                text(
                    "INSERT INTO hazard (hazard_code, enterprise_id, region_path, found_date, deadline_date, "
                    "hazard_grade) VALUES (:code, :id, :path, :found, :deadline, 1)"
                ),
                {
                    "code": f"BENCH-ONE-{i}",
                    "id": target.id,
                    "path": target.region_path,
                    "found": today - dt.timedelta(days=1),
                    "deadline": today + dt.timedelta(days=30),
                },
            )
            start = time.perf_counter()
            refresh_grades_for(conn, district, [target.cell_code], as_of=today, rules=(DEFAULT_RULE,))
            elapsed = time.perf_counter() - start
            if i == 0:
                stored = stored_grades(conn, Scope.whole_district(district), DEFAULT_RULE.name)
                full = grades_as_of(conn, Scope.whole_district(district), district, DEFAULT_RULE, today)
                _check(stored, full, code="region_code")
                _check(full, _reference(conn, district, today))
            else:
                times.append(elapsed)
            savepoint.rollback()
        outer.rollback()
    return statistics.median(times)


def _timed(step: str, fn: Callable[[], object]) -> None:
    start = time.perf_counter()
    fn()
    print(f"  {step}: {time.perf_counter() - start:.1f} s", flush=True)


def _copy(source: Connection, target: Connection, select: str, table: str) -> None:
    """Stream the rows of ``select`` (on the demo database) into ``table`` (on the scratch one)."""
    source_raw, target_raw = source.connection.driver_connection, target.connection.driver_connection
    with (
        source_raw.cursor() as out_cursor,
        target_raw.cursor() as in_cursor,
        out_cursor.copy(f"COPY ({select}) TO STDOUT") as rows_out,
        in_cursor.copy(f"COPY {table} FROM STDIN") as rows_in,
    ):
        for chunk in rows_out:
            rows_in.write(chunk)


def _city_code(column: str) -> str:
    """A demo unit code in copy ``k`` of the city: the district becomes the city, every other
    code gets the city's code, the copy number and the code's own part below the district."""
    return f"CASE WHEN {column} = '{DISTRICT}' THEN '{CITY}' ELSE '{CITY}' || k || substr({column}, 7) END"


def _city_path(column: str) -> str:
    return f"ARRAY(SELECT {_city_code('p')} FROM unnest({column}) WITH ORDINALITY AS t(p, i) ORDER BY i)"


_STAGES = (
    (
        "demo_unit (code text, name text, tier smallint, path text[], code_year smallint, area_m2 float8, geom text)",
        "SELECT u.code, u.name, u.tier, u.path, u.code_year, u.area_m2, u.geom FROM region_unit u "
        f"JOIN boundary_set s ON s.id = u.boundary_set_id AND s.is_current AND s.district_code = '{DISTRICT}'",
    ),
    (
        "demo_enterprise (id bigint, name text, status text, grade smallint, lec_l float8, lec_e float8, "
        "lec_c float8, ls_l smallint, ls_s smallint, cell_code text, region_path text[], placement text)",
        "SELECT id, name, status, grade, lec_l, lec_e, lec_c, ls_l, ls_s, cell_code, region_path, placement "
        f"FROM enterprise WHERE district_code = '{DISTRICT}'",
    ),
    (
        "demo_hazard (id bigint, hazard_code text, enterprise_id bigint, region_path text[], found_date date, "
        "deadline_date date, rectified_date date, hazard_grade smallint, listed_level text)",
        "SELECT h.id, h.hazard_code, h.enterprise_id, h.region_path, h.found_date, h.deadline_date, "
        "h.rectified_date, h.hazard_grade, h.listed_level FROM hazard h "
        f"JOIN enterprise e ON e.id = h.enterprise_id AND e.district_code = '{DISTRICT}'",
    ),
)

_CITY_INSERTS = (
    "INSERT INTO region_unit (boundary_set_id, code, name, tier, parent_code, path, code_year, area_m2, geom) "
    f"SELECT :set_id, {_city_code('u.code')}, u.name, u.tier, "
    f"CASE WHEN u.tier > 1 THEN {_city_code('u.path[cardinality(u.path) - 1]')} END, "
    f"{_city_path('u.path')}, u.code_year, u.area_m2, CAST(u.geom AS geometry) "
    f"FROM demo_unit u CROSS JOIN generate_series(0, {COPIES - 1}) AS k WHERE u.tier > 1 OR k = 0",
    "INSERT INTO enterprise (id, uscc, name, status, grade, lec_l, lec_e, lec_c, ls_l, ls_s, cell_code, "
    "region_path, placement, district_code) "
    f"SELECT e.id + k * {ID_STRIDE}, 'C' || k || lpad(e.id::text, 16, '0'), e.name, e.status, e.grade, "
    f"e.lec_l, e.lec_e, e.lec_c, e.ls_l, e.ls_s, {_city_code('e.cell_code')}, {_city_path('e.region_path')}, "
    f"e.placement, '{CITY}' FROM demo_enterprise e CROSS JOIN generate_series(0, {COPIES - 1}) AS k",
    "INSERT INTO hazard (id, hazard_code, enterprise_id, region_path, found_date, deadline_date, rectified_date, "
    "hazard_grade, listed_level) "
    f"SELECT h.id + k * {ID_STRIDE}, h.hazard_code || '-' || k, h.enterprise_id + k * {ID_STRIDE}, "
    f"{_city_path('h.region_path')}, h.found_date, h.deadline_date, h.rectified_date, h.hazard_grade, "
    f"h.listed_level FROM demo_hazard h CROSS JOIN generate_series(0, {COPIES - 1}) AS k",
)


def build_city(demo: Engine, city: Engine) -> dict[str, int]:
    """Copy the demo district ten times into the city's scratch database (same schema, same
    indexes, row-level security on); returns the row counts."""
    with demo.connect() as source, city.connect() as target:
        source.begin()
        apply_scope(source, Scope.whole_district(DISTRICT))
        target.begin()
        for stage, select in _STAGES:
            target.execute(text(f"CREATE TEMP TABLE {stage} ON COMMIT DROP"))
            _copy(source, target, select, stage.split(" ", 1)[0])
        apply_scope(target, Scope.whole_district(CITY))
        set_id = target.execute(
            text(
                "INSERT INTO boundary_set (district_code, code_year, is_current, bottom_tier) "
                "VALUES (:d, 2023, true, 4) RETURNING id"
            ),
            {"d": CITY},
        ).scalar_one()
        for insert in _CITY_INSERTS:
            target.execute(text(insert), {"set_id": set_id})
        for table in ("enterprise", "hazard"):  # the copies' ids were given: move the sequences past them
            target.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) FROM {table}"))
        target.commit()
    with city.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE region_unit, boundary_set, enterprise, hazard"))
    with city.begin() as conn:
        apply_scope(conn, Scope.whole_district(CITY))
        counts = conn.execute(
            text(
                "SELECT (SELECT count(*) FROM region_unit WHERE tier = 4), (SELECT count(*) FROM enterprise), "
                "(SELECT count(*) FROM hazard)"
            )
        ).one()
    return dict(zip(("cells", "enterprises", "hazards"), counts, strict=True))


def main() -> None:
    settings = get_settings()
    demo = create_engine(settings.database_admin_url, connect_args=ENGINE_OPTIONS)
    today = settings.today()
    past = (pd.Timestamp(today) - pd.DateOffset(months=6)).date()

    (regrade_s, asof_s), pandas_s = _full_figures(demo, DISTRICT, (today, past))

    def refresh() -> None:
        with demo.begin() as conn:
            refresh_grades(conn, DISTRICT, as_of=today, rules=(DEFAULT_RULE,))

    refresh_s = median_time(refresh, repeat=3)
    one_s = _one_change_s(demo, DISTRICT, today)

    with scratch_database(settings.database_admin_url, settings.database_url, prefix="gridrisk_bench_city") as db:
        city = create_engine(db.admin_url, connect_args=ENGINE_OPTIONS)
        print(f"generating the city ({COPIES} × the demo) in {db.name}", flush=True)
        size: dict[str, int] = {}
        _timed("copied and analysed", lambda: size.update(build_city(demo, city)))
        (city_s,), city_pandas_s = _full_figures(city, CITY, (today,))
        city_one_s = _one_change_s(city, CITY, today)
        city.dispose()
    demo.dispose()
    city_size = f"{size['cells']:,} cells, {size['enterprises']:,} enterprises, {size['hazards']:,} hazards"
    report(
        "grading",
        [
            ("demo, SQL: every unit, every tier, today (default rule)", regrade_s, "target ≤ 0.100"),
            ("demo, SQL: the same as of six months ago", asof_s, "target ≤ 0.300"),
            ("demo, SQL: refresh the stored grades (compute + replace)", refresh_s, ""),
            ("demo, SQL: update after one hazard change (refresh_grades_for)", one_s, "equals a full refresh"),
            ("demo, baseline: read full tables + pandas reference", pandas_s, "same results"),
            ("demo, ratio SQL / pandas", regrade_s / pandas_s, ""),
            (f"city ({city_size}), SQL: every unit, today", city_s, "target ≤ 1.000"),
            ("city, SQL: update after one hazard change", city_one_s, "equals a full refresh"),
            ("city, baseline: read full tables + pandas reference", city_pandas_s, "same results"),
            ("city, ratio SQL / pandas", city_s / city_pandas_s, ""),
        ],
        {
            "regrade_s": regrade_s,
            "regrade_city_s": city_s,
            "regrade_one_s": one_s,
            "asof_s": asof_s,
            "regrade_ratio": regrade_s / pandas_s,
            "regrade_refresh_s": refresh_s,
            "regrade_one_city_s": city_one_s,
            "regrade_city_ratio": city_s / city_pandas_s,
        },
    )


if __name__ == "__main__":
    main()
