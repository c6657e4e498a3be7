"""Run migrations and grant the dashboard's role what it may read."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from config.settings import PROJECT_ROOT
from db.models import ACCOUNT_TABLES

__all__ = ["alembic_config", "upgrade", "grant_app_role", "app_role_from_url", "APP_AUTH_FUNCTIONS"]

# What the dashboard logs in through (revision 0011): outcomes, never password hashes.
APP_AUTH_FUNCTIONS = (
    "gridrisk_login_challenge(text, text)",
    "gridrisk_login(text, text, text, bytea, integer, interval, interval, interval)",
    "gridrisk_session_touch(bytea)",
    "gridrisk_session_end(bytea, text)",
    "gridrisk_cookie_key()",
)
# account's columns the dashboard may read (for the administrator's pages): all but the hash.
ACCOUNT_READABLE_COLUMNS = (
    "id, name, display_name, role, district_code, scope_codes, staff_id, disabled, "
    "created_at, updated_at, password_changed_at"
)


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
    """Read access for the dashboard's role, appending to the audit trail, and the login
    functions (never a password hash, token or key: revision 0011); row-level security still
    filters every scoped row.

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
        if conn.execute(text("SELECT to_regclass('account') IS NOT NULL")).scalar_one():
            _grant_accounts(conn, role)


def _grant_accounts(conn, role: str) -> None:
    """No password hash, token or key for the dashboard: it logs in through the functions."""
    conn.execute(text(f"REVOKE ALL ON {', '.join(ACCOUNT_TABLES)} FROM {role}"))
    conn.execute(text(f"GRANT SELECT ({ACCOUNT_READABLE_COLUMNS}) ON account TO {role}"))
    for function in APP_AUTH_FUNCTIONS:
        conn.execute(text(f"GRANT EXECUTE ON FUNCTION {function} TO {role}"))
