"""The grid officer's workbench under AppTest: only their cell, the due list as the database has it
on a frozen day, and another user choosing a cell of their scope."""

import datetime as dt
import re
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from streamlit.testing.v1 import AppTest

from dashboard.components.session import Viewer
from db.scope import Scope, apply_scope
from tests.support.viewers import as_viewer

pytestmark = pytest.mark.db
HOME = str(Path(__file__).resolve().parents[2] / "dashboard" / "Home.py")
DISTRICT = "340303"


def busy_cell(live_db) -> tuple[str, str, dt.date]:
    """A demo cell with the most open hazards, its name, and the day to freeze the clock on."""
    engine = create_engine(live_db.admin_url)
    with engine.begin() as conn:
        apply_scope(conn, Scope.whole_district(DISTRICT))
        cell, name = conn.execute(
            text(
                "SELECT e.cell_code, u.name FROM hazard h JOIN enterprise e ON e.id = h.enterprise_id "
                "JOIN region_unit u ON u.code = e.cell_code JOIN boundary_set s ON s.id = u.boundary_set_id "
                "AND s.is_current WHERE h.rectified_date IS NULL AND e.district_code = :d "
                "GROUP BY 1, 2 ORDER BY count(*) DESC, 1 LIMIT 1"
            ),
            {"d": DISTRICT},
        ).one()
    engine.dispose()
    from config import get_settings

    return cell, name, get_settings().today()  # the session's demo is dated relative to today


def open_hazards(live_db, cell: str, day: dt.date) -> dict[str, int]:
    """hazard code → days left (negative: overdue), straight from the database."""
    engine = create_engine(live_db.admin_url)
    with engine.begin() as conn:
        apply_scope(conn, Scope.whole_district(DISTRICT))
        rows = conn.execute(
            text(
                "SELECT h.hazard_code, h.deadline_date - CAST(:day AS date) FROM hazard h "
                "JOIN enterprise e ON e.id = h.enterprise_id WHERE e.cell_code = :c "
                "AND h.rectified_date IS NULL AND h.found_date <= :day"
            ),
            {"c": cell, "day": day},
        ).all()
    engine.dispose()
    return dict(rows)


@pytest.fixture()
def frozen(app_env, monkeypatch):
    from config import get_settings

    cell, name, day = busy_cell(app_env)
    monkeypatch.setenv("GRIDRISK_CLOCK_DATE", day.isoformat())
    get_settings.cache_clear()
    return cell, name, day


def _run_as(viewer: Viewer, params: dict | None = None) -> AppTest:
    at = AppTest.from_file(HOME, default_timeout=120)
    at.query_params.update(params or {})
    with as_viewer(viewer):
        at.switch_page("pages/officer.py").run()
    return at


def _due_items(at: AppTest) -> dict[str, str]:
    items = {}
    for element in at.html:
        match = re.search(r'data-testid="wb-due" data-code="([^"]+)".*?class="gr-wb-due[^"]*">([^<]+)<', element.body)
        if match:
            items[match.group(1)] = match.group(2)
    return items


def test_a_grid_officer_sees_their_cell_and_its_due_list_as_in_the_database(frozen, live_db):
    cell, name, day = frozen
    at = _run_as(Viewer("officer", "grid_officer", Scope.of([cell])))
    assert not at.exception
    assert at.title[0].value == name
    assert not at.selectbox, "an officer with one cell picks nothing"
    expected = open_hazards(live_db, cell, day)
    shown = _due_items(at)
    assert set(shown) == set(expected) and expected
    for code, days_left in expected.items():
        text_for = (
            f"逾期 {-days_left} 天" if days_left < 0 else "今日到期" if days_left == 0 else f"剩余 {days_left} 天"
        )
        assert shown[code] == text_for, code
    firms = [re.search(r'data-uscc="([^"]+)"', h.body) for h in at.html]
    assert {m.group(1) for m in firms if m}, "the cell's enterprises are listed"


def test_a_grid_officer_never_sees_another_cell(frozen, live_db):
    cell, _, _ = frozen
    engine = create_engine(live_db.admin_url)
    with engine.begin() as conn:
        apply_scope(conn, Scope.whole_district(DISTRICT))
        other = conn.execute(
            text("SELECT cell_code FROM enterprise WHERE cell_code <> :c AND district_code = :d LIMIT 1"),
            {"c": cell, "d": DISTRICT},
        ).scalar_one()
        theirs = set(
            conn.execute(text("SELECT uscc FROM enterprise WHERE cell_code = :c"), {"c": cell}).scalars().all()
        )
    engine.dispose()
    at = _run_as(Viewer("officer", "grid_officer", Scope.of([cell])), {"cell": other})
    assert not at.exception
    shown = {m.group(1) for h in at.html if (m := re.search(r'data-uscc="([^"]+)"', h.body))}
    assert shown and shown <= theirs, "a cell code outside the scope in the URL shows nothing of it"


def test_an_analyst_chooses_a_cell_of_the_district(frozen):
    cell, name, _ = frozen
    at = _run_as(Viewer("analyst", "analyst", Scope.whole_district(DISTRICT)))
    assert not at.exception
    assert any("请选择一个网格" in i.value for i in at.info)
    at = _run_as(Viewer("analyst", "analyst", Scope.whole_district(DISTRICT)), {"cell": cell})
    assert at.title[0].value == name
