"""``python -m db upgrade|check``: migrations for the owner role."""

from __future__ import annotations

import typer

from config import get_settings
from db.engine import create_admin_engine
from db.migrate import app_role_from_url, grant_app_role, upgrade

app = typer.Typer(
    help="Database migrations and grants.", no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False
)


@app.command("upgrade")
def upgrade_cmd(revision: str = typer.Argument("head", help="Alembic revision to upgrade to")) -> None:
    """Apply migrations (as DATABASE_ADMIN_URL) and grant the app role (from DATABASE_URL)."""
    settings = get_settings()
    upgrade(settings.database_admin_url, revision)
    if settings.database_url:
        grant_app_role(create_admin_engine(), app_role_from_url(settings.database_url))
    typer.echo(f"database at revision {revision}")


@app.command("check")
def check_cmd() -> None:
    """Fail if the models and the migrations disagree (alembic check)."""
    from alembic import command

    from db.migrate import alembic_config

    command.check(alembic_config(get_settings().database_admin_url))


if __name__ == "__main__":
    app()
