"""The shared merge: bulk inserts rebuild exactly the indexes and foreign keys they drop, small
ones and other roles' leave them alone, and a merge counts inserted / updated / unchanged."""

import pytest
from sqlalchemy import text

from db.scope import Scope, apply_scope
from loaders.pipeline import BULK_ROWS, indexes_rebuilt_after
from loaders.staff import _UPSERT as STAFF

pytestmark = pytest.mark.db

_DEFINITIONS = """
SELECT 'index', pg_get_indexdef(indexrelid) FROM pg_index WHERE indrelid = CAST(:t AS regclass)
UNION ALL
SELECT 'constraint', conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint
WHERE conrelid = CAST(:t AS regclass)
ORDER BY 1, 2
"""


def _definitions(conn, table: str) -> list[tuple[str, str]]:
    return [tuple(row) for row in conn.execute(text(_DEFINITIONS), {"t": table})]


@pytest.mark.parametrize("table", ["hazard", "enterprise", "inspection"])
def test_a_bulk_insert_recreates_every_index_and_foreign_key_it_dropped(db_conn, table):
    before = _definitions(db_conn, table)
    with indexes_rebuilt_after(db_conn, table, BULK_ROWS * 1000):
        during = _definitions(db_conn, table)
        # Only the primary key stays: the merge key's unique constraint is rebuilt too.
        assert [definition for kind, definition in during if kind == "index"] == [
            f"CREATE UNIQUE INDEX {table}_pkey ON public.{table} USING btree (id)"
        ]
        assert not any(
            "UNIQUE" in definition or "FOREIGN KEY" in definition for _, definition in during if _ != "index"
        )
        assert any("UNIQUE" in definition for _, definition in before)
    assert _definitions(db_conn, table) == before


def test_a_small_insert_keeps_the_indexes(db_conn):
    before = _definitions(db_conn, "hazard")
    with indexes_rebuilt_after(db_conn, "hazard", BULK_ROWS - 1):
        assert _definitions(db_conn, "hazard") == before


def test_a_role_that_does_not_own_the_table_keeps_the_indexes(app_engine):
    with app_engine.connect() as conn, conn.begin():
        before = _definitions(conn, "hazard")
        with indexes_rebuilt_after(conn, "hazard", BULK_ROWS * 1000):
            assert _definitions(conn, "hazard") == before


def test_merge_updates_changed_rows_inserts_new_ones_and_leaves_the_rest(db_conn):
    # The staff roster's own stage and merge, fed directly.
    apply_scope(db_conn, Scope.whole_district("340303"))
    db_conn.execute(text(STAFF.stage_ddl))
    merge = STAFF.merge
    rows = [
        ("13900000001", "张三", "网格员"),
        ("13900000002", "李四", "网格员"),
        ("13900000003", "王五", "网格长"),
    ]

    def stage(rows):
        db_conn.execute(text(f"DELETE FROM {merge.stage}"))
        for row, (phone, name, role) in enumerate(rows, start=2):
            db_conn.execute(
                text(f"INSERT INTO {merge.stage} VALUES (:row, :p, :n, :r, ARRAY['X1'], ARRAY['340303'])"),
                {"row": row, "p": phone, "n": name, "r": role},
            )
        return merge.run(db_conn, {"d": "340303"})

    assert stage(rows) == (3, 0)
    assert stage(rows) == (0, 0)  # the same rows again: nothing changes
    assert stage([rows[0], ("13900000002", "李四", "网格长"), ("13900000004", "赵六", "网格员")]) == (1, 1)
    roles = dict(db_conn.execute(text("SELECT phone, role FROM grid_staff WHERE phone LIKE '139000000%'")).all())
    assert roles == {
        "13900000001": "网格员",
        "13900000002": "网格长",
        "13900000003": "网格长",
        "13900000004": "网格员",
    }


def test_copy_frame_writes_empty_and_missing_cells_as_null_and_keeps_every_other_text(db_conn):
    import datetime as dt

    import pandas as pd

    from loaders.pipeline import copy_frame

    db_conn.execute(
        text(
            "CREATE TEMP TABLE copied (n int, name text, day date, amount double precision, tags text[], "
            "found date, seen timestamp)"
        )
    )
    tricky = 'a "quoted", comma\nand a new line \\ backslash'
    frame = pd.DataFrame(
        {
            "n": [1, 2, 3, 4],
            "name": ["", None, tricky, "NULL"],
            "day": [dt.date(2026, 11, 24), None, None, dt.date(2024, 2, 29)],
            "amount": [1.5, float("nan"), 0.0, -2.0],
            "tags": ["{}", None, '{"x,y"}', "{a}"],
            # dates as the loaders parse them (midnights, written as dates), and a time of day
            "found": pd.to_datetime(["2024-11-25", None, "2024-02-29", "2026-01-01"]),
            "seen": pd.to_datetime(["2024-11-25 08:30", None, "2024-02-29", "2026-01-01 23:59:59"], format="ISO8601"),
        }
    ).astype({"name": "str"})
    frame.loc[1, "name"] = None
    copy_frame(db_conn, "copied", frame, list(frame.columns))
    rows = db_conn.execute(text("SELECT * FROM copied ORDER BY n")).all()
    assert rows == [
        (1, None, dt.date(2026, 11, 24), 1.5, [], dt.date(2024, 11, 25), dt.datetime(2024, 11, 25, 8, 30)),
        (2, None, None, None, None, None, None),
        (3, tricky, None, 0.0, ["x,y"], dt.date(2024, 2, 29), dt.datetime(2024, 2, 29)),
        (4, "NULL", dt.date(2024, 2, 29), -2.0, ["a"], dt.date(2026, 1, 1), dt.datetime(2026, 1, 1, 23, 59, 59)),
    ]
