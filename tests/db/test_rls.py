"""The wall: under the dashboard's role, a scope of one township returns nothing outside it,
even when the SQL has no filter at all."""

import pytest
from sqlalchemy import text

from db.models import SCOPED_TABLES
from db.scope import Scope, scoped_connection
from tests.support import fixtures_data as fx

pytestmark = pytest.mark.db


def _raw_paths(engine, scope, table):
    with scoped_connection(engine, scope) as conn:
        # Deliberately no WHERE clause: row-level security must answer for it.
        return [list(row[0]) for row in conn.execute(text(f"SELECT region_path FROM {table}"))]


@pytest.mark.parametrize("table", SCOPED_TABLES)
def test_township_scope_sees_only_its_rows_without_any_filter(live_db, app_engine, table):
    paths = _raw_paths(app_engine, Scope.of([fx.WEST]), table)
    assert paths, f"the west township's own {table} rows must be visible"
    assert all(fx.WEST in path for path in paths)
    assert not any(fx.EAST in path for path in paths)


@pytest.mark.parametrize("table", SCOPED_TABLES)
def test_cell_scope_sees_only_its_cell(live_db, app_engine, table):
    paths = _raw_paths(app_engine, Scope.of([fx.EAST_CELL]), table)
    assert paths and all(path[-1] == fx.EAST_CELL for path in paths)


# Staff rows always name their cells; every other scoped table can hold rows with no cell.
@pytest.mark.parametrize("table", [t for t in SCOPED_TABLES if t != "grid_staff"])
def test_unplaced_rows_are_visible_to_whole_district_scopes_only(live_db, app_engine, table):
    district = _raw_paths(app_engine, Scope.whole_district(fx.DISTRICT), table)
    township = _raw_paths(app_engine, Scope.of([fx.WEST, fx.EAST]), table)
    # enterprise, hazard, inspection: the unplaced enterprise's rows; region_grade: the district's
    # own grade under each rule.
    district_only = district.count([fx.DISTRICT])
    assert district_only >= 1
    assert [fx.DISTRICT] not in township
    assert len(district) == len(township) + district_only


@pytest.mark.parametrize("table", SCOPED_TABLES)
def test_no_scope_set_means_no_rows(live_db, app_engine, table):
    with app_engine.connect() as conn:
        assert conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one() == 0


def test_scope_does_not_leak_past_its_transaction(live_db, app_engine):
    with app_engine.connect() as conn:
        with conn.begin():
            conn.execute(text("SELECT set_config('gridrisk.scope', :s, true)"), {"s": fx.DISTRICT})
            assert conn.execute(text("SELECT count(*) FROM enterprise")).scalar_one() >= 3
        with conn.begin():
            assert conn.execute(text("SELECT count(*) FROM enterprise")).scalar_one() == 0


def test_owner_is_held_by_the_policy_too(live_db, admin_engine):
    # FORCE ROW LEVEL SECURITY: the loaders' role sees nothing unless it states its scope.
    with admin_engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM enterprise")).scalar_one() == 0


def test_writes_outside_the_scope_are_refused(db_conn):
    from sqlalchemy.exc import ProgrammingError

    db_conn.execute(text("SELECT set_config('gridrisk.scope', :s, true)"), {"s": fx.WEST})
    with pytest.raises(ProgrammingError, match="row-level security"):
        db_conn.execute(
            text(
                "INSERT INTO enterprise (uscc, name, district_code, region_path) VALUES ('91110000802100433B', 'x', :d, :p)"
            ),
            {"d": fx.DISTRICT, "p": [fx.DISTRICT, fx.EAST]},
        )


def test_every_row_of_a_bulk_write_is_checked_against_the_scope(db_conn):
    # The check's scope is computed once per statement (0013); each row is still checked.
    from sqlalchemy.exc import ProgrammingError

    db_conn.execute(text("SELECT set_config('gridrisk.scope', :s, true)"), {"s": fx.WEST})
    insert = (
        "INSERT INTO enterprise (uscc, name, district_code, region_path) "
        "SELECT 'X' || n, 'x', :d, CASE WHEN n = 500 THEN CAST(:out AS text[]) ELSE CAST(:ok AS text[]) END FROM generate_series(1, 1000) n"
    )
    paths = {"d": fx.DISTRICT, "ok": [fx.DISTRICT, fx.WEST], "out": [fx.DISTRICT, fx.EAST]}
    with pytest.raises(ProgrammingError, match="row-level security"), db_conn.begin_nested():
        db_conn.execute(text(insert), paths)
    moved = "UPDATE enterprise SET region_path = :out WHERE region_path && ARRAY[CAST(:w AS text)]"
    with pytest.raises(ProgrammingError, match="row-level security"), db_conn.begin_nested():
        db_conn.execute(text(moved), {**paths, "w": fx.WEST})
    assert db_conn.execute(text("SELECT count(*) FROM enterprise WHERE uscc LIKE 'X%'")).scalar_one() == 0


def test_every_scoped_table_has_forced_rls_and_a_policy(db_conn):
    rows = db_conn.execute(
        text(
            "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity, count(p.polname) "
            "FROM pg_class c LEFT JOIN pg_policy p ON p.polrelid = c.oid "
            "WHERE c.relname = ANY(:t) GROUP BY 1, 2, 3"
        ),
        {"t": list(SCOPED_TABLES)},
    ).all()
    assert {r[0] for r in rows} == set(SCOPED_TABLES)
    assert all(r[1] and r[2] and r[3] >= 1 for r in rows)
    # Any table with a region_path column must be listed (a later table cannot slip through).
    with_path = (
        db_conn.execute(
            text(
                "SELECT table_name FROM information_schema.columns WHERE column_name = 'region_path' AND table_schema = 'public'"
            )
        )
        .scalars()
        .all()
    )
    assert set(with_path) == set(SCOPED_TABLES)
