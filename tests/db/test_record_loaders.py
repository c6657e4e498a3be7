"""Inspection and staff loaders: bad inputs named precisely, nothing half-written, idempotent,
and a phone number visible only within the scope of the officer's cells."""

import datetime as dt

import pandas as pd
import pytest
from sqlalchemy import text

from db.scope import Scope, apply_scope, scoped_connection
from loaders.errors import LoadRefusedError
from loaders.inspections import InspectionOptions, load_inspections
from loaders.staff import StaffOptions, load_staff

pytestmark = pytest.mark.db
TODAY = dt.date(2026, 11, 23)  # frozen: future-date checks are relative to it


@pytest.fixture()
def demo(live_db, admin_engine):
    with admin_engine.begin() as conn:
        apply_scope(conn, Scope.whole_district("340303"))
        usccs = (
            conn.execute(text("SELECT uscc FROM enterprise WHERE placement = 'placed' ORDER BY uscc LIMIT 2"))
            .scalars()
            .all()
        )
        cells = conn.execute(
            text(
                "SELECT u.code, u.path FROM region_unit u JOIN boundary_set s ON s.id = u.boundary_set_id "
                "AND s.is_current AND s.district_code = '340303' WHERE u.tier = 4 ORDER BY u.code LIMIT 40"
            )
        ).all()
    yield usccs, cells
    with admin_engine.begin() as conn:
        apply_scope(conn, Scope.whole_district("340303"))
        conn.execute(text("DELETE FROM inspection WHERE inspection_code LIKE 'TEST-JC-%'"))
        conn.execute(text("DELETE FROM grid_staff WHERE district_code = '340303'"))


def _csv(tmp_path, name, frame, encoding="utf-8-sig"):
    path = tmp_path / name
    frame.to_csv(path, index=False, encoding=encoding)
    return path


def _codes(result):
    return {(p.row, p.code) for p in result.rejections}


def test_inspection_rows_are_checked_and_the_good_ones_load(admin_engine, demo, tmp_path):
    (a, b), _ = demo
    frame = pd.DataFrame(
        {
            "检查编号": ["TEST-JC-1", "TEST-JC-2", "TEST-JC-3", "TEST-JC-1", "TEST-JC-5", "TEST-JC-6"],
            "统一社会信用代码": [a, b, "91110000802100433B", b, a, a],
            "检查日期": ["2026-10-02", "2026-11-30", "2026-10-01", "2026-10-03", "2026-10-04", "不知道"],
            "检查类型": ["日常", "执法", "专项", "专家", "突击", "日常"],
            "发现问题数": ["2", "1", "0", "0", "-1", "0"],
            "关联隐患编号": ["", "", "", "", "", ""],
        }
    )
    result = load_inspections(admin_engine, _csv(tmp_path, "jc.csv", frame), InspectionOptions("340303", today=TODAY))
    assert _codes(result) == {
        (3, "future_date"),
        (4, "unknown_enterprise"),
        (5, "duplicate_in_file"),
        (6, "unknown_kind"),
        (6, "out_of_range"),
        (7, "bad_date"),
    }
    assert (result.inserted, result.rejected) == (1, 5)
    assert result.rejects_file.read_bytes().startswith(b"\xef\xbb\xbf")
    again = load_inspections(admin_engine, _csv(tmp_path, "jc.csv", frame), InspectionOptions("340303", today=TODAY))
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 1)
    with admin_engine.begin() as conn:
        apply_scope(conn, Scope.whole_district("340303"))
        paths = conn.execute(
            text(
                "SELECT i.region_path = e.region_path FROM inspection i JOIN enterprise e ON e.id = i.enterprise_id "
                "WHERE i.inspection_code = 'TEST-JC-1'"
            )
        ).scalar_one()
    assert paths, "an inspection carries its enterprise's ancestry"


def test_inspection_file_without_a_date_column_is_refused_whole(admin_engine, demo, tmp_path):
    (a, _), _ = demo
    frame = pd.DataFrame({"检查编号": ["TEST-JC-9"], "统一社会信用代码": [a]})
    with pytest.raises(LoadRefusedError) as caught:
        load_inspections(admin_engine, _csv(tmp_path, "nodate.csv", frame), InspectionOptions("340303", today=TODAY))
    (problem,) = caught.value.problems
    assert (problem.code, problem.file, problem.column) == ("missing_column", "nodate.csv", "检查日期")


def test_staff_rows_are_checked(admin_engine, demo, tmp_path):
    _, cells = demo
    frame = pd.DataFrame(
        {
            "姓名": ["张三", "李四", "王五", "赵六", "", "孙七"],
            "角色": ["网格员", "网格长", "网格员", "队长", "网格员", "网格员"],
            "手机号码": ["138 0000 1111", "13900002222", "12345", "13700003333", "13600004444", "13800001111"],
            "负责网格": [cells[0][0], f"{cells[0][0]}、{cells[1][0]}", cells[2][0], "999", cells[3][0], cells[4][0]],
        }
    )
    result = load_staff(admin_engine, _csv(tmp_path, "staff.csv", frame, encoding="gbk"), StaffOptions("340303"))
    assert _codes(result) == {
        (4, "bad_phone"),
        (5, "unknown_role"),
        (5, "unknown_cell"),
        (6, "missing_name"),
        (7, "duplicate_in_file"),
    }
    assert result.inserted == 2


def test_a_phone_number_is_visible_only_within_the_officers_cells(admin_engine, app_engine, demo, tmp_path):
    _, cells = demo
    mine, neighbour = cells[0], cells[1]
    frame = pd.DataFrame(
        {
            "姓名": ["甲", "乙"],
            "角色": ["网格员", "网格员"],
            "手机号码": ["13811110001", "13811110002"],
            "负责网格": [mine[0], neighbour[0]],
        }
    )
    load_staff(admin_engine, _csv(tmp_path, "roster.csv", frame), StaffOptions("340303"))
    with scoped_connection(app_engine, Scope.of([mine[0]])) as conn:
        phones = conn.execute(text("SELECT phone FROM grid_staff")).scalars().all()  # no filter: RLS answers
    assert phones == ["13811110001"]
    township = list(mine[1])[1]
    with scoped_connection(app_engine, Scope.of([township])) as conn:
        seen = set(conn.execute(text("SELECT phone FROM grid_staff")).scalars())
    assert "13811110001" in seen
