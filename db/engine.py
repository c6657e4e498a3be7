"""Engines for the two database roles.

The dashboard connects with ``DATABASE_URL`` (a non-owner role); migrations and loaders with
``DATABASE_ADMIN_URL`` (the owner). The dashboard refuses a superuser or a BYPASSRLS role:
either would silently skip row-level security.
"""

from __future__ import annotations

from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.engine import make_url

from config import get_settings
from db.errors import DatabaseNotConfiguredError, UnsafeDatabaseRoleError

__all__ = ["create_app_engine", "create_admin_engine", "assert_safe_app_role", "normalise_url"]


def normalise_url(url: str) -> str:
    """Use psycopg 3 for plain ``postgresql://`` URLs."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


# JIT compilation costs ~0.4 s on every large-estimate statement (measured on the enterprise
# load: 388 ms of 1.5 s) and never pays back on this workload of short queries and bulk loads.
# A server that does not answer (a network cut rather than a refused connection) fails after
# 10 s instead of the operating system's minutes, so a wall screen says its data stopped.
_CONNECT_ARGS = {"options": "-c jit=off", "connect_timeout": 10}


def _engine(url: str, **kwargs: object) -> Engine:
    return create_engine(normalise_url(url), pool_pre_ping=True, connect_args=_CONNECT_ARGS, **kwargs)


def assert_safe_app_role(conn: Connection) -> None:
    """Raise :class:`UnsafeDatabaseRoleError` if the connected role bypasses row-level security."""
    row = conn.execute(text("SELECT rolname, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")).one()
    if row.rolsuper or row.rolbypassrls:
        what = "a superuser" if row.rolsuper else "a role with BYPASSRLS"
        raise UnsafeDatabaseRoleError(
            f"DATABASE_URL connects as {row.rolname!r}, {what}: row-level security would be skipped "
            "and every user would see every row. Point DATABASE_URL at the non-owner app role "
            "(e.g. gridrisk_app; see README 'Configuration')."
        )


def create_app_engine(url: str | None = None) -> Engine:
    """Engine for the dashboard's role, checked once at creation."""
    url = url or get_settings().database_url
    if not url:
        raise DatabaseNotConfiguredError(
            "DATABASE_URL is not set and no managed cluster was found (.data/local.env); "
            "run 'make run' or set DATABASE_URL"
        )
    engine = _engine(url, pool_size=5, max_overflow=5)
    with engine.connect() as conn:
        assert_safe_app_role(conn)
    return engine


def create_admin_engine(url: str | None = None) -> Engine:
    """Engine for the owner role (migrations, loaders)."""
    url = url or get_settings().database_admin_url
    if not url:
        raise DatabaseNotConfiguredError(
            "DATABASE_ADMIN_URL is not set and no managed cluster was found (.data/local.env); "
            "run 'make db-start' or set DATABASE_ADMIN_URL to the owner role's URL"
        )
    return _engine(url)
