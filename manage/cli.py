"""``python -m manage``: accounts (``users``), kiosk links and the audit trail (as the owner role).

Each group is a Typer sub-app in its own module, registered here. Every change a command makes
is recorded in the audit trail (db/audit.py) with the operating-system user as the actor.
Exit status: 0 done, 2 refused (nothing changed), 3 configuration error.
"""

from __future__ import annotations

import getpass

import typer
from rich.console import Console
from rich.table import Table

from db.audit import recent_events
from db.engine import create_admin_engine
from db.errors import DatabaseNotConfiguredError

app = typer.Typer(
    help="账号、大屏链接与审计记录的管理命令。Manage accounts, kiosk links and the audit trail.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console(soft_wrap=True)
EXIT_DONE, EXIT_REFUSED, EXIT_CONFIG = 0, 2, 3


def engine():
    """The owner's engine, or exit with a configuration error."""
    try:
        return create_admin_engine()
    except DatabaseNotConfiguredError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(EXIT_CONFIG) from exc


def operator() -> str:
    """Who runs the command, as recorded in the audit trail."""
    return f"cli:{getpass.getuser()}"


@app.command("audit")
def audit(
    action: str | None = typer.Option(None, "--action", help="只看某类操作，如 login、export"),
    limit: int = typer.Option(50, "--limit", min=1, help="最多显示条数"),
) -> None:
    """列出最近的审计记录（登录、导出、数据变更等）。"""
    eng = engine()
    try:
        with eng.connect() as conn:
            rows = recent_events(conn, action=action, limit=limit)
    finally:
        eng.dispose()
    table = Table("时间", "操作人", "操作", "对象", "来源")
    for row in rows.itertuples():
        table.add_row(f"{row.at:%Y-%m-%d %H:%M:%S}", row.actor, row.action, row.target or "", row.address or "")
    console.print(table)


def _register_sub_apps() -> None:
    # Imported here: the sub-apps import engine(), operator() and console from this module.
    from manage import kiosk
    from manage.users import app as users_app

    app.add_typer(kiosk.app, name="kiosk")
    app.add_typer(users_app, name="users")


_register_sub_apps()
