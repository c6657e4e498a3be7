"""The enterprise file's reads under the dashboard's role: within the scope only, unknown and
out-of-scope the same answer, unplaced enterprises for whole-district scopes only, search."""

import datetime as dt

import pytest

from db.enterprise_file import enterprise_file, normalise_query, search_enterprises
from db.scope import Scope, scoped_connection
from tests.support import fixtures_data as fx

pytestmark = pytest.mark.db
WEST_USCC, EAST_USCC, UNPLACED_USCC = (row[0] for row in fx.ENTERPRISES)
AS_OF = fx.FIXTURE_TODAY


def _file(engine, scope, uscc):
    with scoped_connection(engine, scope) as conn:
        return enterprise_file(conn, scope, uscc, as_of=AS_OF)


def test_a_placed_enterprise_has_its_cell_outline_officer_hazards_and_inspections(live_db, app_engine):
    file = _file(app_engine, Scope.of([fx.WEST]), WEST_USCC)
    assert file.enterprise["name"] == "西边化工有限公司"
    assert [code for code, _, _ in file.units] == [fx.DISTRICT, fx.WEST, fx.WEST_VILLAGE, fx.WEST_CELL]
    assert file.cell_outline is not None and file.cell_outline.geom_type == "MultiPolygon"
    assert file.officers[["name", "phone"]].values.tolist() == [["西网格员", "13800000001"]]
    assert file.hazards["hazard_code"].tolist() == [f"H-{WEST_USCC}"]
    assert file.hazards.iloc[0]["stage"] == "open"  # no deadline, not rectified
    assert file.inspections["inspection_code"].tolist() == [f"J-{WEST_USCC}"]
    assert (file.grade.grade, file.grade.source) == (1, "input")


def test_out_of_scope_is_the_same_answer_as_unknown(live_db, app_engine):
    east_only = Scope.of([fx.EAST])
    assert _file(app_engine, east_only, WEST_USCC) is None
    assert _file(app_engine, east_only, "91110000802100433B") is None  # valid, but in no list
    assert _file(app_engine, east_only, "'; DROP TABLE enterprise; --") is None
    assert _file(app_engine, east_only, EAST_USCC) is not None


def test_the_usccs_case_and_full_width_forms_do_not_matter(live_db, app_engine):
    wide = "".join(chr(ord(ch) + 0xFEE0) for ch in WEST_USCC.lower())  # ９１３３… full-width, lower case
    assert _file(app_engine, Scope.whole_district(fx.DISTRICT), f"  {wide} ").enterprise["uscc"] == WEST_USCC


def test_an_unplaced_enterprise_is_in_the_whole_district_only_and_has_no_map(live_db, app_engine):
    file = _file(app_engine, Scope.whole_district(fx.DISTRICT), UNPLACED_USCC)
    assert file.enterprise["placement"] == "no_coordinates"
    assert not file.has_location and file.units == () and file.cell_outline is None
    assert file.officers.empty
    assert _file(app_engine, Scope.of([fx.WEST, fx.EAST]), UNPLACED_USCC) is None


def test_search_finds_partial_names_codes_and_addresses_within_the_scope(live_db, app_engine):
    district = Scope.whole_district(fx.DISTRICT)
    with scoped_connection(app_engine, district) as conn:
        assert search_enterprises(conn, district, "化工")["uscc"].tolist() == [WEST_USCC]
        assert search_enterprises(conn, district, WEST_USCC[:8].lower())["uscc"].tolist()[0] == WEST_USCC
        assert search_enterprises(conn, district, WEST_USCC)["uscc"].tolist()[0] == WEST_USCC  # exact code first
        assert search_enterprises(conn, district, "西边 化工")["uscc"].tolist() == [WEST_USCC]  # every word
        assert search_enterprises(conn, district, "西边 烟花").empty
        assert search_enterprises(conn, district, "%").empty  # wildcards are literal
        assert search_enterprises(conn, district, "   ").empty
    east = Scope.of([fx.EAST])
    with scoped_connection(app_engine, east) as conn:
        assert search_enterprises(conn, east, "化工").empty
        assert search_enterprises(conn, east, "公司")["uscc"].tolist() == []  # 东边烟花爆竹店 is no 公司
        assert search_enterprises(conn, east, "烟花")["uscc"].tolist() == [EAST_USCC]


def test_queries_are_folded_and_split_into_words():
    assert normalise_query("  蚌埠　９１３４ ") == ["蚌埠", "9134"]
    assert normalise_query("x" * 100) == ["x" * 60]
    assert normalise_query("") == []


def test_bands_in_force_on_the_day_grade_lec_inputs(live_db, db_conn):
    from sqlalchemy import text

    from db.bands import record_bands
    from db.scope import apply_scope

    district = Scope.whole_district(fx.DISTRICT)
    apply_scope(db_conn, district)
    db_conn.execute(
        text("UPDATE enterprise SET grade = NULL, lec_l = 3, lec_e = 6, lec_c = 15 WHERE uscc = :u"), {"u": EAST_USCC}
    )
    record_bands(db_conn, "LEC", [400, 300, 60], valid_from=dt.date(2026, 6, 1), version="测试-2026")
    before = enterprise_file(db_conn, district, EAST_USCC, as_of=dt.date(2026, 5, 31))
    after = enterprise_file(db_conn, district, EAST_USCC, as_of=dt.date(2026, 6, 1))
    assert (before.grade.grade, before.grade.bands.version) == (2, "通用-1")  # D = 270 ≥ 160
    assert (after.grade.grade, after.grade.bands.version) == (3, "测试-2026")  # 60 ≤ 270 < 300
