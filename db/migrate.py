"""Run migrations and grant the dashboard's role what it may read."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from config.settings import PROJECT_ROOT

__all__ = ["alembic_config", "upgrade", "grant_app_role", "app_role_from_url"]


def alembic_config(admin_url: str | None = None) -> Config:
    cfg = Config(str(PROJECT_ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(PROJECT_ROOT / "db" / "migrations"))
    if admin_url:
        # ConfigParser interpolates '%': escape it in passwords.
        cfg.set_main_option("sqlalchemy.url", admin_url.replace("%", "%%"))
    return cfg


def upgrade(admin_url: str | None = None, revision: str = "head") -> None:
    command.upgrade(alembic_config(admin_url), revision)


def app_role_from_url(app_url: str) -> str:
    role = make_url(app_url).username
    if not role:
        raise ValueError(f"DATABASE_URL {make_url(app_url)!r} names no user; the app role cannot be granted")
    return role


def grant_app_role(admin_engine: Engine, app_role: str) -> None:
    """Read access for the dashboard's role, and appending to the audit trail; row-level
    security still filters every scoped row.

    Idempotent. Run after every upgrade (new tables need their grant).
    """
    with admin_engine.begin() as conn:
        exists = conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": app_role}).scalar()
        if not exists:
            raise ValueError(
                f"the app role {app_role!r} named in DATABASE_URL does not exist on this server; "
                "create it (NOSUPERUSER NOBYPASSRLS) or fix DATABASE_URL"
            )
        role = conn.execute(text("SELECT quote_ident(:r)"), {"r": app_role}).scalar_one()
        db = conn.execute(text("SELECT quote_ident(current_database())")).scalar_one()
        conn.execute(text(f"GRANT CONNECT ON DATABASE {db} TO {role}"))
        conn.execute(text(f"GRANT USAGE ON SCHEMA public TO {role}"))
        conn.execute(text(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}"))
        conn.execute(text(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {role}"))
        # The audit trail is append-only for the dashboard: it records logins and exports.
        conn.execute(text(f"GRANT INSERT ON audit_event TO {role}"))
        # Kiosk token hashes are not the dashboard's to read: it checks a token through the
        # SECURITY DEFINER function only (migration 0011k).
        if conn.execute(text("SELECT to_regclass('public.kiosk_token')")).scalar() is not None:
            conn.execute(text(f"REVOKE ALL ON kiosk_token FROM {role}"))
            conn.execute(text(f"GRANT EXECUTE ON FUNCTION gridrisk_kiosk_check(text) TO {role}"))
