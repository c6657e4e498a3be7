"""An enterprise whose name is an attack (HTML, script, markdown), committed in a real cell of the
demo district for the duration of one test, then removed.

Each change also adds a load_audit row, which moves the data stamp (db.analysis.data_stamp), so
every cached page entry of the app server is read afresh before and after the test.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, text

from db.scope import Scope, apply_scope

__all__ = ["HTML_NAME", "HTML_USCC", "html_named_enterprise"]

HTML_USCC = "91110000802100433B"  # a public code that passes both checks (DOMAIN.md §4)
HTML_NAME = (
    '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>'
    "**粗体**[点我](javascript:window.__pwned=3)有限公司"
)
DISTRICT = "340303"


def _bump_stamp(conn) -> None:
    conn.execute(text("INSERT INTO load_audit (kind, status, detail) VALUES ('test', 'loaded', '{}'::jsonb)"))


@contextmanager
def html_named_enterprise(admin_url: str) -> Iterator[dict]:
    """Yield the row (uscc, name, cell_code, region_path) while it exists."""
    engine = create_engine(admin_url)
    try:
        with engine.begin() as conn:
            apply_scope(conn, Scope.whole_district(DISTRICT))
            cell = conn.execute(
                text(
                    "SELECT u.code, u.path, ST_X(ST_PointOnSurface(u.geom)) AS lon, ST_Y(ST_PointOnSurface(u.geom)) AS lat "
                    "FROM region_unit u JOIN boundary_set s ON s.id = u.boundary_set_id AND s.is_current "
                    "WHERE s.district_code = :d AND u.tier = 4 ORDER BY u.code LIMIT 1"
                ),
                {"d": DISTRICT},
            ).one()
            conn.execute(text("DELETE FROM enterprise WHERE uscc = :u"), {"u": HTML_USCC})
            conn.execute(
                text(
                    "INSERT INTO enterprise (uscc, name, address, district_code, cell_code, region_path, placement, "
                    "grade, geom) VALUES (:u, :n, :a, :d, :cell, :path, 'placed', 2, "
                    "ST_SetSRID(ST_MakePoint(:lon, :lat), 4490))"
                ),
                {
                    "u": HTML_USCC,
                    "n": HTML_NAME,
                    "a": "<b>地址</b>=1+1",
                    "d": DISTRICT,
                    "cell": cell.code,
                    "path": list(cell.path),
                    "lon": cell.lon,
                    "lat": cell.lat,
                },
            )
            _bump_stamp(conn)
        yield {"uscc": HTML_USCC, "name": HTML_NAME, "cell_code": cell.code, "region_path": list(cell.path)}
    finally:
        with engine.begin() as conn:
            apply_scope(conn, Scope.whole_district(DISTRICT))
            conn.execute(text("DELETE FROM enterprise WHERE uscc = :u"), {"u": HTML_USCC})
            _bump_stamp(conn)
        engine.dispose()
