"""Hand-computed cases through the SQL grading (db/grading.py), each also equal to the pure
reference: assessment band edges, cells with no enterprise or only a closed one, boundary
versions, as-of dates around a hazard's life, and a change of band version."""

import dataclasses
import datetime as dt

import pandas as pd
import pytest
from sqlalchemy import text

from db.bands import bands_in_force, record_bands
from db.grading import GRADE_COLUMNS, grades_as_of, refresh_grades, stored_grades
from db.queries import grading_inputs
from db.scope import Scope, apply_scope
from geo.grading import MAX_RULE, WEIGHTED_RULE, grade_regions

pytestmark = pytest.mark.db

D, T1, V1 = "H00001", "H00001001", "H00001001001"
SQUARE = "MULTIPOLYGON(((117 32, 117.001 32, 117.001 32.001, 117 32.001, 117 32)))"
# One enterprise per cell, scoring exactly on or just under a band edge (DOMAIN.md §2).
EDGES = {
    "LEC320": ({"lec_l": 8, "lec_e": 10, "lec_c": 4}, 1),
    "LEC319": ({"lec_l": 1, "lec_e": 1, "lec_c": 319}, 2),
    "LEC160": ({"lec_l": 4, "lec_e": 10, "lec_c": 4}, 2),
    "LEC159": ({"lec_l": 1, "lec_e": 1, "lec_c": 159}, 3),
    "LEC070": ({"lec_l": 7, "lec_e": 10, "lec_c": 1}, 3),
    "LEC069": ({"lec_l": 1, "lec_e": 1, "lec_c": 69}, 4),
    "LS20": ({"ls_l": 4, "ls_s": 5}, 1),
    "LS16": ({"ls_l": 4, "ls_s": 4}, 2),
    "LS15": ({"ls_l": 3, "ls_s": 5}, 2),
    "LS12": ({"ls_l": 3, "ls_s": 4}, 3),
    "LS09": ({"ls_l": 3, "ls_s": 3}, 3),
    "LS08": ({"ls_l": 2, "ls_s": 4}, 4),
}
EMPTY, CLOSED, HAZARD, LEC300 = "EMPTY", "CLOSED", "HAZARD", "LEC300"
CELLS = [*EDGES, EMPTY, CLOSED, HAZARD, LEC300]
OLD_CELL = "RETIRED"  # only in the district's previous boundary set


def _cell(name: str) -> str:
    return f"{V1}{name}"


def _district(conn) -> None:
    """The district in two boundary versions (2023, retired; 2024, current) and its rows."""
    apply_scope(conn, Scope.whole_district(D))
    for year, current, cells in ((2023, False, [OLD_CELL, *CELLS]), (2024, True, CELLS)):
        set_id = conn.execute(
            text("INSERT INTO boundary_set (district_code, code_year, is_current) VALUES (:d, :y, :c) RETURNING id"),
            {"d": D, "y": year, "c": current},
        ).scalar_one()
        units = [(D, 1, [D]), (T1, 2, [D, T1]), (V1, 3, [D, T1, V1])]
        units += [(_cell(c), 4, [D, T1, V1, _cell(c)]) for c in cells]
        conn.execute(
            text(
                "INSERT INTO region_unit (boundary_set_id, code, name, tier, path, code_year, area_m2, geom) "
                "VALUES (:s, :code, :name, :tier, :path, :y, 0, ST_GeomFromText(:wkt, 4490))"
            ),
            [{"s": set_id, "code": c, "name": c, "tier": t, "path": p, "y": year, "wkt": SQUARE} for c, t, p in units],
        )
    rows = [(name, "在营", None, inputs) for name, (inputs, _) in EDGES.items()]
    rows += [
        (CLOSED, "关闭", 1, {}),
        (HAZARD, "在营", 4, {}),
        (LEC300, "在营", None, {"lec_l": 10, "lec_e": 6, "lec_c": 5}),
    ]
    for i, (cell, status, grade, inputs) in enumerate(rows):
        enterprise_id = conn.execute(
            text(
                "INSERT INTO enterprise (uscc, name, district_code, cell_code, region_path, status, grade, "
                "lec_l, lec_e, lec_c, ls_l, ls_s) VALUES (:u, :name, :d, :cell, :path, :status, :grade, "
                ":lec_l, :lec_e, :lec_c, :ls_l, :ls_s) RETURNING id"
            ),
            {
                "u": f"HAND{i:04d}",
                "name": f"企业{cell}",
                "d": D,
                "cell": _cell(cell),
                "path": [D, T1, V1, _cell(cell)],
                "status": status,
                "grade": grade,
                **dict.fromkeys(("lec_l", "lec_e", "lec_c", "ls_l", "ls_s")),
                **inputs,
            },
        ).scalar_one()
        if cell == HAZARD:  # a 重大隐患: found 03-01, deadline 03-10, rectified 03-20, closed (销号) 03-25
            conn.execute(
                text(
                    "INSERT INTO hazard (hazard_code, enterprise_id, region_path, found_date, deadline_date, "
                    "rectified_date, closed_date, hazard_grade) VALUES ('HAND-H1', :id, :path, DATE '2026-03-01', "
                    "DATE '2026-03-10', DATE '2026-03-20', DATE '2026-03-25', 1)"
                ),
                {"id": enterprise_id, "path": [D, T1, V1, _cell(cell)]},
            )


def _graded(conn, rule, day) -> pd.DataFrame:
    """The SQL grades on ``day``, checked equal to the pure reference first."""
    sql = grades_as_of(conn, Scope.whole_district(D), D, rule, day)
    units, enterprises, hazards = grading_inputs(conn, Scope.whole_district(D), bands=bands_in_force(conn, day))
    reference = grade_regions(units, enterprises, hazards, rule, day)
    columns = [c for c in GRADE_COLUMNS if c not in ("code", "path")]
    pd.testing.assert_frame_equal(
        sql.set_index("code")[columns].sort_index(),
        reference.set_index("code")[columns].sort_index(),
        check_dtype=False,
    )
    return sql.set_index("code")


@pytest.fixture()
def district(db_conn):
    _district(db_conn)
    return db_conn


DAY = dt.date(2026, 11, 23)


def test_lec_and_ls_band_edges_in_sql(district):
    result = _graded(district, MAX_RULE, DAY)
    assert {name: result.loc[_cell(name), "grade"] for name in EDGES} == {n: g for n, (_, g) in EDGES.items()}


@pytest.mark.parametrize("rule", [MAX_RULE, WEIGHTED_RULE], ids=lambda r: r.name)
def test_a_cell_with_no_enterprise_or_only_a_closed_one_is_grey_never_blue(district, rule):
    result = _graded(district, rule, DAY)
    for cell in (EMPTY, CLOSED):
        row = result.loc[_cell(cell)]
        assert pd.isna(row["grade"]) and row["enterprises"] == 0 and pd.isna(row["score"])


def test_only_the_current_boundary_set_is_graded(district):
    result = _graded(district, WEIGHTED_RULE, DAY)
    assert set(result.index) == {D, T1, V1, *(_cell(c) for c in CELLS)}
    assert _cell(OLD_CELL) not in result.index
    assert result.loc[D, "enterprises"] == len(EDGES) + 2  # the closed one is not counted


@pytest.mark.parametrize(
    ("day", "grade", "open_", "overdue", "escalated_by"),
    [
        (dt.date(2026, 2, 28), 4, 0, 0, None),  # before it was found
        (dt.date(2026, 3, 1), 1, 1, 0, "有未整改的重大隐患"),  # found that day
        (dt.date(2026, 3, 11), 1, 1, 1, "有未整改的重大隐患"),  # past its deadline
        (dt.date(2026, 3, 20), 4, 0, 0, None),  # rectified that day
        (dt.date(2026, 3, 26), 4, 0, 0, None),  # after it was closed
    ],
)
def test_as_of_dates_before_a_hazard_was_found_and_after_it_was_closed(
    district, day, grade, open_, overdue, escalated_by
):
    # 就高 with the default escalations: the cell's one enterprise is 低, its hazard lifts it while open.
    rule = dataclasses.replace(MAX_RULE, name="max-escalated", escalations=WEIGHTED_RULE.escalations)
    row = _graded(district, rule, day).loc[_cell(HAZARD)]
    assert (row["grade"], row["hazards_major_open"], row["hazards_overdue"]) == (grade, open_, overdue)
    assert row["escalated_by"] == escalated_by


def test_a_new_band_version_changes_the_grade_and_is_recorded(district):
    cell, new_day = _cell(LEC300), dt.date(2027, 1, 1)  # D = 10 × 6 × 5 = 300: 较大 under the common bands
    before = _graded(district, MAX_RULE, new_day - dt.timedelta(days=1))
    assert (before.loc[cell, "grade"], before.loc[cell, "lec_bands_version"]) == (2, "通用-1")
    record_bands(district, "LEC", (300, 150, 60), valid_from=new_day)
    after = _graded(district, MAX_RULE, new_day)
    assert (after.loc[cell, "grade"], after.loc[cell, "lec_bands_version"]) == (1, "2027-01-01")
    assert after.loc[cell, "ls_bands_version"] == "通用-1"
    refresh_grades(district, D, as_of=new_day, rules=(MAX_RULE,))
    stored = stored_grades(district, Scope.whole_district(D), MAX_RULE.name).set_index("region_code")
    assert (stored.loc[cell, "grade"], stored.loc[cell, "lec_bands_version"]) == (1, "2027-01-01")
    enterprises = grading_inputs(district, Scope.whole_district(D), bands=bands_in_force(district, new_day))[1]
    explained = enterprises.loc[enterprises["cell_code"] == cell, ["grade", "grade_source", "bands_version"]]
    assert explained.iloc[0].tolist() == [1, "LEC", "2027-01-01"]
