"""Alembic environment wired with GeoAlchemy2's alembic_helpers (offline and online), so
autogenerate neither forgets geometry imports nor duplicates GiST indexes."""

from __future__ import annotations

from alembic import context
from geoalchemy2 import alembic_helpers
from sqlalchemy import Connection

from db.engine import create_admin_engine, normalise_url
from db.models import Base

config = context.config
target_metadata = Base.metadata

_HELPERS = {
    "include_object": alembic_helpers.include_object,
    "process_revision_directives": alembic_helpers.writer,
    "render_item": alembic_helpers.render_item,
}


def _url() -> str | None:
    return config.get_main_option("sqlalchemy.url") or None


def run_migrations_offline() -> None:
    from config import get_settings

    url = _url() or get_settings().database_admin_url
    context.configure(
        url=normalise_url(url) if url else "postgresql+psycopg://",
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        **_HELPERS,
    )
    with context.begin_transaction():
        context.run_migrations()


def _run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata, **_HELPERS)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = create_admin_engine(_url())
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
