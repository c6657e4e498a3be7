"""Accounts for page and browser tests: the demo's accounts (one per role, made by the demo load
in the live test database) and two grid officers of neighbouring cells, whose rows the
isolation tests must keep apart."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from argon2 import PasswordHasher
from sqlalchemy import Engine, text

from config import get_settings
from db import accounts
from db.engine import create_app_engine
from db.scope import Scope, apply_scope
from loaders.demo_accounts import DEMO_ACCOUNTS

__all__ = ["DEMO", "OFFICER_PASSWORD", "Neighbours", "neighbouring_officers", "session_cookie", "demo_township"]

DEMO = {account.role: account for account in DEMO_ACCOUNTS}
OFFICER_PASSWORD = "neighbour-cell-watch"
DISTRICT = "340303"
_CHEAP = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


@dataclass(frozen=True)
class Officer:
    name: str
    cell: str
    township: str
    usccs: tuple[str, ...]  # the enterprises of the cell
    enterprise_names: tuple[str, ...]


@dataclass(frozen=True)
class Neighbours:
    a: Officer
    b: Officer


_NEIGHBOURS_SQL = text(
    """
    WITH cells AS (
        SELECT u.code, u.path, u.geom FROM region_unit u JOIN boundary_set s ON s.id = u.boundary_set_id AND s.is_current
        WHERE s.district_code = :d AND u.tier = 4
    ), busy AS (
        SELECT c.* FROM cells c
        WHERE (SELECT count(*) FROM enterprise e WHERE e.cell_code = c.code) >= 4
          AND EXISTS (SELECT 1 FROM hazard h WHERE h.region_path @> ARRAY[c.code::text] AND h.rectified_date IS NULL)
          AND EXISTS (SELECT 1 FROM inspection i WHERE i.region_path @> ARRAY[c.code::text])
    )
    SELECT a.code AS a, a.path AS a_path, a.path[2] AS a_township, b.code AS b, b.path AS b_path,
           b.path[2] AS b_township
    FROM busy a JOIN busy b ON a.code < b.code AND ST_Touches(a.geom, b.geom)
         AND ST_Length(ST_Intersection(ST_Boundary(a.geom), ST_Boundary(b.geom))::geography) > 50
    ORDER BY (a.path[2] <> b.path[2]) DESC, a.code, b.code
    LIMIT 1
    """
)


def _officer(conn, name: str, cell: str, township: str) -> Officer:
    rows = conn.execute(text("SELECT uscc, name FROM enterprise WHERE cell_code = :c ORDER BY uscc"), {"c": cell}).all()
    return Officer(name, cell, township, tuple(r.uscc for r in rows), tuple(r.name for r in rows))


def _ensure_staff(conn, cell: str, path: list[str]) -> None:
    """A roster row for the cell (other tests replace the demo roster), so every scoped table
    holds rows of both cells."""
    if conn.execute(text("SELECT EXISTS (SELECT 1 FROM grid_staff WHERE :c = ANY(cell_codes))"), {"c": cell}).scalar():
        return
    conn.execute(
        text(
            "INSERT INTO grid_staff (phone, name, role, district_code, cell_codes, region_path) "
            "VALUES (:phone, :name, '网格员', :d, :cells, :path)"
        ),
        {"phone": "0552-" + cell[-7:], "name": f"测试网格员{cell[-3:]}", "d": DISTRICT, "cells": [cell], "path": path},
    )


def neighbouring_officers(admin_engine: Engine) -> Neighbours:
    """Two grid officers of two neighbouring cells (different townships when two such cells
    touch), each cell with enterprises, open hazards, inspections and a roster row; created once
    per database."""
    with admin_engine.begin() as conn:
        apply_scope(conn, Scope.whole_district(DISTRICT))
        pair = conn.execute(_NEIGHBOURS_SQL, {"d": DISTRICT}).one()
        officers = []
        for name, cell, path, township in (
            ("iso-officer-a", pair.a, pair.a_path, pair.a_township),
            ("iso-officer-b", pair.b, pair.b_path, pair.b_township),
        ):
            _ensure_staff(conn, cell, list(path))
            if not accounts.account_exists(conn, name):
                accounts.create_account(
                    conn,
                    name=name,
                    password=OFFICER_PASSWORD,
                    role="grid_officer",
                    district=DISTRICT,
                    actor="test",
                    scope_codes=[cell],
                    hasher=_CHEAP,
                )
            officers.append(_officer(conn, name, cell, township))
    return Neighbours(*officers)


def session_cookie(app_url: str, name: str, password: str) -> str:
    """Log ``name`` in through the dashboard's role and return the signed cookie a browser
    would hold."""
    engine = create_app_engine(app_url)
    try:
        policy = accounts.AuthPolicy.from_settings(get_settings().auth)
        result = accounts.login(engine, name, password, address=None, policy=policy)
        assert result.ok, f"test login of {name} failed: {result.outcome}"
        with engine.connect() as conn:
            key = accounts.cookie_key(conn)
        return accounts.sign_cookie(result.token, key, dt.datetime.now(dt.UTC) + policy.absolute)
    finally:
        engine.dispose()


def demo_township(live_db) -> str:
    """The township of the demo's township head."""
    from sqlalchemy import create_engine

    engine = create_engine(live_db.admin_url)
    try:
        with engine.connect() as conn:
            return conn.execute(
                text("SELECT scope_codes[1] FROM account WHERE name = :n"), {"n": DEMO["township_head"].name}
            ).scalar_one()
    finally:
        engine.dispose()
