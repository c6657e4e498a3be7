"""Reading the live demo database the way the pages' tests check their figures: as its owner,
with the whole demo district's scope (row-level security applies to the owner too)."""

from __future__ import annotations

from sqlalchemy import RowMapping, create_engine, text

from db.scope import Scope, apply_scope

DEMO_DISTRICT = "340303"


def district_rows(live_db, sql: str, **params) -> list[RowMapping]:
    """The rows of ``sql`` (bound ``params``) over the whole demo district."""
    engine = create_engine(live_db.admin_url)
    try:
        with engine.begin() as conn:
            apply_scope(conn, Scope.whole_district(DEMO_DISTRICT))
            return conn.execute(text(sql), params).mappings().all()
    finally:
        engine.dispose()
