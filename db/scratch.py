"""Scratch databases for tests and benchmarks: created, migrated and granted on the managed
cluster (or DATABASE_ADMIN_URL's server), dropped afterwards; never the demo's database."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from db.engine import normalise_url
from db.migrate import app_role_from_url, grant_app_role, upgrade

TEMPLATE_DB = "gridrisk_template"  # made with PostGIS by scripts/pgcluster.sh


@dataclass(frozen=True)
class ScratchDatabase:
    name: str
    admin_url: str
    app_url: str


def _with_db(url: str, name: str) -> str:
    return make_url(normalise_url(url)).set(database=name).render_as_string(hide_password=False)


def create_scratch_database(admin_url: str, app_url: str, *, prefix: str = "gridrisk_test") -> ScratchDatabase:
    """Create, migrate and grant a fresh database; the caller drops it."""
    name = f"{prefix}_{secrets.token_hex(4)}"
    maintenance = create_engine(_with_db(admin_url, "postgres"), isolation_level="AUTOCOMMIT")
    with maintenance.connect() as conn:
        has_template = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :t"), {"t": TEMPLATE_DB}).scalar()
        template = TEMPLATE_DB if has_template else "template0"
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    maintenance.dispose()
    db = ScratchDatabase(name, _with_db(admin_url, name), _with_db(app_url, name))
    owner = create_engine(db.admin_url)
    if template == "template0":
        with owner.begin() as conn:
            conn.execute(text("CREATE EXTENSION IF NOT EXISTS postgis"))
    upgrade(db.admin_url)
    grant_app_role(owner, app_role_from_url(app_url))
    owner.dispose()
    return db


def drop_scratch_database(db: ScratchDatabase, *, wait_s: float = 30.0) -> None:
    """Drop the database once other roles' sessions have gone.

    ``DROP DATABASE … WITH (FORCE)`` may only end sessions of roles the owner belongs to: an app
    server or pool of the app role that has just been stopped can still be closing its backends,
    so wait (bounded) for them to leave first.
    """
    maintenance = create_engine(_with_db(db.admin_url, "postgres"), isolation_level="AUTOCOMMIT")
    with maintenance.connect() as conn:
        deadline = time.monotonic() + wait_s
        while (
            time.monotonic() < deadline
            and conn.execute(
                text("SELECT count(*) FROM pg_stat_activity WHERE datname = :d AND usename <> current_user"),
                {"d": db.name},
            ).scalar_one()
        ):
            time.sleep(0.1)
        conn.execute(text(f'DROP DATABASE IF EXISTS "{db.name}" WITH (FORCE)'))
    maintenance.dispose()


@contextmanager
def scratch_database(admin_url: str, app_url: str, *, prefix: str) -> Iterator[ScratchDatabase]:
    db = create_scratch_database(admin_url, app_url, prefix=prefix)
    try:
        yield db
    finally:
        drop_scratch_database(db)
