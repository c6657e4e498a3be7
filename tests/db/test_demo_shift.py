"""A demo older than a day shifts its dates forward in one audited transaction."""

import datetime as dt

import pytest
from sqlalchemy import text

from db.scope import Scope, apply_scope
from loaders.demo import shift_demo_dates

pytestmark = pytest.mark.db


def _latest_dates(engine):
    with engine.begin() as conn:
        apply_scope(conn, Scope.whole_district("340303"))
        return conn.execute(
            text(
                "SELECT max(found_date), max(inspection_date) FROM hazard, "
                "(SELECT max(inspection_date) AS inspection_date FROM inspection) i"
            )
        ).one()


def test_an_older_demo_moves_its_dates_to_today(live_db, admin_engine):
    with admin_engine.begin() as conn:
        as_of = dt.date.fromisoformat(
            conn.execute(
                text(
                    "SELECT detail ->> 'as_of' FROM load_audit WHERE kind IN ('demo', 'demo_shift') ORDER BY id DESC LIMIT 1"
                )
            ).scalar_one()
        )
    before = _latest_dates(admin_engine)
    three_days_later = as_of + dt.timedelta(days=3)
    try:
        assert shift_demo_dates(admin_engine, three_days_later, print)
        after = _latest_dates(admin_engine)
        assert [a - b for a, b in zip(after, before, strict=True)] == [dt.timedelta(days=3)] * 2
        with admin_engine.connect() as conn:
            detail = conn.execute(
                text("SELECT detail FROM load_audit WHERE kind = 'demo_shift' ORDER BY id DESC LIMIT 1")
            ).scalar_one()
        assert (detail["shifted_days"], detail["as_of"]) == (3, three_days_later.isoformat())
        assert not shift_demo_dates(admin_engine, three_days_later, print)  # once a day at most
    finally:
        assert shift_demo_dates(admin_engine, as_of, print) is False  # never backwards
        with admin_engine.begin() as conn:
            apply_scope(conn, Scope.whole_district("340303"))
            for sql in (
                "UPDATE hazard SET found_date = found_date - 3, deadline_date = deadline_date - 3, "
                "rectified_date = rectified_date - 3, closed_date = closed_date - 3",
                "UPDATE inspection SET inspection_date = inspection_date - 3",
                "DELETE FROM load_audit WHERE kind = 'demo_shift'",
            ):
                conn.execute(text(sql))
    assert _latest_dates(admin_engine) == before
