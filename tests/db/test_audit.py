"""The audit trail: the dashboard's role appends and reads rows, and can never rewrite them."""

import pytest
from sqlalchemy import text
from sqlalchemy.exc import ProgrammingError

from db.audit import recent_events, record_event

pytestmark = pytest.mark.db


def test_the_app_role_appends_and_reads_audit_rows(app_engine):
    row_id = record_event(
        app_engine,
        actor="test-analyst",
        action="export",
        subject="企业列表.xlsx",
        address="10.0.0.7",
        detail={"rows": 3},
    )
    with app_engine.connect() as conn:
        rows = recent_events(conn, action="export", limit=10)
    row = rows[rows["id"] == row_id].iloc[0]
    assert (row["actor"], row["target"], row["address"], row["detail"]) == (
        "test-analyst",
        "企业列表.xlsx",
        "10.0.0.7",
        {"rows": 3},
    )


@pytest.mark.parametrize("statement", ["UPDATE audit_event SET actor = 'x'", "DELETE FROM audit_event"])
def test_the_app_role_cannot_rewrite_the_audit_trail(app_engine, statement):
    record_event(app_engine, actor="test", action="login")
    with app_engine.connect() as conn, pytest.raises(ProgrammingError, match="permission denied"):
        conn.execute(text(statement))
