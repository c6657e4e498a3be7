"""The SQL grading (db/grading.py) equals the pure reference (geo/grading.py) on random
districts, for every rule, any as-of date and any assessment band version in force; stored
grades are recorded with their rule and band versions."""

import datetime as dt

import hypothesis.strategies as st
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from sqlalchemy import text

from db.bands import bands_in_force, record_bands
from db.errors import RuleVersionConflictError
from db.grading import (
    GRADE_COLUMNS,
    grades_as_of,
    refresh_grades,
    refresh_grades_for,
    refresh_if_stale,
    stored_grades,
)
from db.queries import grading_inputs
from db.scope import Scope, apply_scope
from geo.grading import MAX_RULE, RULES, WEIGHTED_RULE, grade_regions

pytestmark = pytest.mark.db

DISTRICT = "P00001"
DAY0 = dt.date(2026, 1, 1)
SQUARE = "MULTIPOLYGON(((117 32, 117.001 32, 117.001 32.001, 117 32.001, 117 32)))"


@st.composite
def districts(draw):
    units = [(DISTRICT, 1, [DISTRICT])]
    cells = []
    for t in range(draw(st.integers(1, 3))):
        town = f"{DISTRICT}{t}"
        units.append((town, 2, [DISTRICT, town]))
        for v in range(draw(st.integers(1, 2))):
            village = f"{town}{v}"
            units.append((village, 3, [DISTRICT, town, village]))
            for c in range(draw(st.integers(1, 3))):
                cell = f"{village}{c}"
                units.append((cell, 4, [DISTRICT, town, village, cell]))
                cells.append([DISTRICT, town, village, cell])
    small = st.one_of(st.none(), st.integers(1, 5))
    enterprises = draw(
        st.lists(
            st.fixed_dictionaries(
                {
                    "cell": st.one_of(st.none(), st.integers(0, len(cells) - 1)),
                    "status": st.sampled_from(["在营", "在营", "停产", "关闭", None]),
                    "grade": st.one_of(st.none(), st.integers(1, 4)),
                    "ls": st.one_of(st.none(), st.tuples(st.integers(1, 5), st.integers(1, 5))),
                    "lec": st.one_of(st.none(), st.tuples(small, st.sampled_from([1, 3, 6, 10]), st.integers(1, 40))),
                }
            ),
            max_size=25,
        )
    )
    day = st.integers(0, 300)
    hazards = (
        draw(
            st.lists(
                st.fixed_dictionaries(
                    {
                        "enterprise": st.integers(0, len(enterprises) - 1),
                        "found": day,
                        "deadline_after": st.one_of(st.none(), st.integers(0, 60)),
                        "rectified_after": st.one_of(st.none(), st.integers(0, 90)),
                        "major": st.booleans(),
                        "listed": st.booleans(),
                    }
                ),
                max_size=40,
            )
        )
        if enterprises
        else []
    )
    # Sometimes a second version of the bands, from some day on: the as-of date picks the version.
    new_bands = draw(st.one_of(st.none(), st.tuples(day, st.sampled_from([(300, 150, 60), (400, 200, 100)]))))
    return units, cells, enterprises, hazards, draw(day), new_bands


def _insert(conn, units, cells, enterprises, hazards):
    set_id = conn.execute(
        text("INSERT INTO boundary_set (district_code, code_year, is_current) VALUES (:d, 2024, true) RETURNING id"),
        {"d": DISTRICT},
    ).scalar_one()
    conn.execute(
        text(
            "INSERT INTO region_unit (boundary_set_id, code, name, tier, parent_code, path, code_year, area_m2, geom) "
            "VALUES (:s, :code, :name, :tier, NULL, :path, 2024, 0, ST_GeomFromText(:wkt, 4490))"
        ),
        [{"s": set_id, "code": c, "name": c, "tier": t, "path": p, "wkt": SQUARE} for c, t, p in units],
    )
    ids = []
    for i, e in enumerate(enterprises):
        path = cells[e["cell"]] if e["cell"] is not None else [DISTRICT]
        lec = e["lec"] or (None, None, None)
        ls = e["ls"] or (None, None)
        ids.append(
            conn.execute(
                text(
                    "INSERT INTO enterprise (uscc, name, district_code, cell_code, region_path, placement, status, "
                    "grade, lec_l, lec_e, lec_c, ls_l, ls_s) VALUES (:u, :name, :d, :cell, :path, :placement, :status, "
                    ":grade, :l, :e, :c, :sl, :ss) RETURNING id"
                ),
                {
                    "u": f"PROP{i:06d}",
                    "name": f"企业{i}",
                    "d": DISTRICT,
                    "cell": path[-1] if e["cell"] is not None else None,
                    "path": path,
                    "placement": "placed" if e["cell"] is not None else "no_coordinates",
                    "status": e["status"],
                    "grade": e["grade"],
                    "l": lec[0],
                    "e": lec[1],
                    "c": lec[2],
                    "sl": ls[0],
                    "ss": ls[1],
                },
            ).scalar_one()
        )
    for i, h in enumerate(hazards):
        found = DAY0 + dt.timedelta(days=h["found"])
        e = enterprises[h["enterprise"]]
        conn.execute(
            text(
                "INSERT INTO hazard (hazard_code, enterprise_id, region_path, found_date, deadline_date, "
                "rectified_date, hazard_grade, listed_level) VALUES (:code, :eid, :path, :found, :deadline, "
                ":rectified, :grade, :listed)"
            ),
            {
                "code": f"PROP-H{i}",
                "eid": ids[h["enterprise"]],
                "path": cells[e["cell"]] if e["cell"] is not None else [DISTRICT],
                "found": found,
                "deadline": None if h["deadline_after"] is None else found + dt.timedelta(days=h["deadline_after"]),
                "rectified": None if h["rectified_after"] is None else found + dt.timedelta(days=h["rectified_after"]),
                "grade": 1 if h["major"] else 2,
                "listed": "市级" if h["major"] and h["listed"] else None,
            },
        )
    return ids


def _reference(conn, rule, as_of):
    bands = bands_in_force(conn, as_of)
    units, enterprises, hazards = grading_inputs(conn, Scope.whole_district(DISTRICT), bands=bands)
    return grade_regions(units, enterprises, hazards, rule, as_of)


def _comparable(frame):
    frame = frame.rename(columns={"region_code": "code"}).set_index("code").sort_index()
    columns = [c for c in GRADE_COLUMNS if c not in ("code", "path")]
    escalated_by = frame["escalated_by"].astype(object)
    frame = frame.assign(escalated_by=escalated_by.where(escalated_by.notna(), None))
    return frame[columns].astype({"grade": "Int64", "tier": "int64", "score": "float64"})


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(district=districts(), rule=st.sampled_from([WEIGHTED_RULE, MAX_RULE]))
def test_sql_grades_equal_the_reference_on_random_districts(db_conn, district, rule):
    units, cells, enterprises, hazards, as_of_day, new_bands = district
    as_of = DAY0 + dt.timedelta(days=as_of_day)
    savepoint = db_conn.begin_nested()
    try:
        if new_bands is not None:
            record_bands(db_conn, "LEC", new_bands[1], valid_from=DAY0 + dt.timedelta(days=new_bands[0]))
        apply_scope(db_conn, Scope.whole_district(DISTRICT))
        _insert(db_conn, units, cells, enterprises, hazards)
        sql = grades_as_of(db_conn, Scope.whole_district(DISTRICT), DISTRICT, rule, as_of)
        reference = _reference(db_conn, rule, as_of)
        pd.testing.assert_frame_equal(_comparable(sql), _comparable(reference), check_dtype=False)
        assert set(sql["lec_bands_version"]) == {bands_in_force(db_conn, as_of)["LEC"].version}
    finally:
        savepoint.rollback()


def test_stored_grades_name_their_rule_version_and_date_and_respect_the_scope(live_db, admin_engine, app_engine):
    from tests.support import fixtures_data as fx

    with app_engine.begin() as conn:
        rows = stored_grades(conn, Scope.of([fx.WEST]), WEIGHTED_RULE.name)
    assert set(rows["region_code"]) == {fx.WEST, fx.WEST_VILLAGE, fx.WEST_CELL}
    assert set(rows["rule_version"]) == {WEIGHTED_RULE.version} and set(rows["as_of"]) == {fx.FIXTURE_TODAY}
    assert set(rows["lec_bands_version"]) == set(rows["ls_bands_version"]) == {"通用-1"}
    with admin_engine.begin() as conn:
        recorded = conn.execute(text("SELECT name, version, definition FROM grading_rule ORDER BY 1")).all()
    assert {(name, version) for name, version, _ in recorded} >= {(r.name, r.version) for r in RULES.values()}


def test_a_changed_rule_under_an_old_version_is_refused(db_conn):
    import dataclasses

    changed = dataclasses.replace(WEIGHTED_RULE, overdue_points=WEIGHTED_RULE.overdue_points + 1)
    refresh_grades(db_conn, "340303", as_of=dt.date(2026, 11, 23), rules=(WEIGHTED_RULE,))
    with pytest.raises(RuleVersionConflictError, match="new version"):
        refresh_grades(db_conn, "340303", as_of=dt.date(2026, 11, 23), rules=(changed,))


def test_stored_grades_go_stale_when_other_bands_come_into_force(live_db, db_conn):
    from tests.support import fixtures_data as fx

    day = fx.FIXTURE_TODAY
    refresh_grades(db_conn, fx.DISTRICT, as_of=day)
    assert not refresh_if_stale(db_conn, fx.DISTRICT, today=day)
    record_bands(db_conn, "LS", (16, 12, 6), valid_from=day)
    assert refresh_if_stale(db_conn, fx.DISTRICT, today=day)
    rows = stored_grades(db_conn, Scope.whole_district(fx.DISTRICT), WEIGHTED_RULE.name)
    assert set(rows["ls_bands_version"]) == {day.isoformat()} and set(rows["lec_bands_version"]) == {"通用-1"}


CHANGES = ("new hazard", "rectified", "closed", "graded", "moved")


def _change(conn, kind, enterprise_id, cells, pick, as_of):
    """One change to one enterprise or its hazards, as a load would make it; returns the paths
    of the cells it touched (before and after a move)."""
    before = conn.execute(text("SELECT region_path, cell_code FROM enterprise WHERE id = :id"), {"id": enterprise_id})
    path, cell = before.one()
    touched = [path] if cell is not None else []
    params = {"id": enterprise_id, "day": as_of - dt.timedelta(days=1), "pick": pick}
    if kind == "new hazard":
        conn.execute(
            text(
                "INSERT INTO hazard (hazard_code, enterprise_id, region_path, found_date, deadline_date, hazard_grade, "
                "listed_level) VALUES ('PROP-NEW', :id, :path, :day, :day, 1 + :pick % 2, "
                "CASE WHEN :pick % 3 = 0 THEN '区级' END)"
            ),
            params | {"path": path},
        )
    elif kind == "rectified":
        conn.execute(text("UPDATE hazard SET rectified_date = found_date WHERE enterprise_id = :id"), params)
    elif kind == "closed":
        conn.execute(text("UPDATE enterprise SET status = '关闭' WHERE id = :id"), params)
    elif kind == "graded":
        conn.execute(text("UPDATE enterprise SET grade = 1 + :pick % 4 WHERE id = :id"), params)
    else:  # moved to another cell, its hazards with it
        path = cells[pick % len(cells)]
        for table, key in (("enterprise", "id"), ("hazard", "enterprise_id")):
            conn.execute(text(f"UPDATE {table} SET region_path = :path WHERE {key} = :id"), params | {"path": path})
        conn.execute(text("UPDATE enterprise SET cell_code = :cell WHERE id = :id"), params | {"cell": path[-1]})
        touched.append(path)
    return touched


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    district=districts(),
    rule=st.sampled_from([WEIGHTED_RULE, MAX_RULE]),
    kind=st.sampled_from(CHANGES),
    pick=st.integers(0, 1000),
    coarser=st.integers(0, 3),
)
def test_regrading_only_the_changed_cells_paths_equals_a_full_refresh(db_conn, district, rule, kind, pick, coarser):
    units, cells, enterprises, hazards, as_of_day, new_bands = district
    assume(enterprises)
    as_of = DAY0 + dt.timedelta(days=as_of_day)
    savepoint = db_conn.begin_nested()
    try:
        if new_bands is not None:
            record_bands(db_conn, "LEC", new_bands[1], valid_from=DAY0 + dt.timedelta(days=new_bands[0]))
        apply_scope(db_conn, Scope.whole_district(DISTRICT))
        ids = _insert(db_conn, units, cells, enterprises, hazards)
        refresh_grades(db_conn, DISTRICT, as_of=as_of, rules=(rule,))
        touched = _change(db_conn, kind, ids[pick % len(ids)], cells, pick, as_of)
        # The cell itself, or a coarser unit on its path standing for all its cells.
        codes = [path[max(0, len(path) - 1 - coarser)] for path in touched]
        regraded = refresh_grades_for(db_conn, DISTRICT, codes, as_of=as_of, rules=(rule,))
        assert regraded[rule.name] <= len(units)
        stored = stored_grades(db_conn, Scope.whole_district(DISTRICT), rule.name)
        full = grades_as_of(db_conn, Scope.whole_district(DISTRICT), DISTRICT, rule, as_of)
        pd.testing.assert_frame_equal(_comparable(stored), _comparable(full), check_dtype=False)
    finally:
        savepoint.rollback()


def test_regrading_one_cell_touches_its_path_only_unless_the_stored_grades_are_stale(live_db, db_conn):
    from tests.support import fixtures_data as fx

    day = fx.FIXTURE_TODAY
    refresh_grades(db_conn, fx.DISTRICT, as_of=day)
    path = {fx.DISTRICT, fx.WEST, fx.WEST_VILLAGE, fx.WEST_CELL}
    assert refresh_grades_for(db_conn, fx.DISTRICT, [fx.WEST_CELL], as_of=day) == {"weighted": 4, "max": 4}
    assert refresh_grades_for(db_conn, fx.DISTRICT, [fx.WEST], as_of=day) == {"weighted": 4, "max": 4}
    # Stored grades of another day cannot be updated in place: the whole district is regraded.
    later = day + dt.timedelta(days=1)
    assert refresh_grades_for(db_conn, fx.DISTRICT, [fx.WEST_CELL], as_of=later) == {"weighted": 7, "max": 7}
    rows = stored_grades(db_conn, Scope.whole_district(fx.DISTRICT), "weighted")
    assert set(rows["as_of"]) == {later} and path <= set(rows["region_code"])
