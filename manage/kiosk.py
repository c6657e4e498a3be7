"""``python -m manage kiosk create|list|revoke``: read-only links for wall screens (大屏).

A link carries a random token; only its hash is stored, so the link is printed once, when it is
created. Revoking it makes the screen show a refusal at its next data refresh.
"""

from __future__ import annotations

import typer
from rich.table import Table

from config import get_settings
from db.errors import InvalidScopeError, KioskTokenError
from db.kiosk import create_kiosk_token, kiosk_url, list_kiosk_tokens, revoke_kiosk_token
from db.scope import Scope

EXIT_REFUSED = 2  # as manage.cli: refused, nothing changed

app = typer.Typer(
    help="大屏链接（只读令牌）：生成、列出、停用。Wall-screen kiosk links.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _cli():
    """manage.cli's helpers (engine, operator, console), imported when a command runs: cli.py
    imports this module to register it."""
    from manage import cli

    return cli


def _when(value) -> str:
    if value is None or value != value:  # None or NaT
        return "—"
    return f"{value.tz_convert(get_settings().tz):%Y-%m-%d %H:%M}"


@app.command("create")
def create(
    label: str = typer.Option(..., "--label", help="大屏所在位置或用途，如 指挥中心"),
    scope: list[str] = typer.Option(
        None, "--scope", help="可见范围的区划代码（可重复）；默认全区", show_default="全区"
    ),
) -> None:
    """生成一个大屏链接（只显示这一次，请妥善保存）。"""
    settings, cli = get_settings(), _cli()
    try:
        chosen = Scope.of(scope) if scope else Scope.whole_district(settings.district_code)
    except InvalidScopeError as exc:
        cli.console.print(f"[red]{exc}[/red]")
        raise typer.Exit(EXIT_REFUSED) from exc
    eng = cli.engine()
    try:
        with eng.begin() as conn:
            token_id, token = create_kiosk_token(conn, label=label, scope=chosen, actor=cli.operator())
    except KioskTokenError as exc:
        cli.console.print(f"[red]{exc}[/red]")
        raise typer.Exit(EXIT_REFUSED) from exc
    finally:
        eng.dispose()
    cli.console.print(f"已生成大屏链接 #{token_id}（{label.strip()}，范围 {'、'.join(chosen.codes)}）：")
    # Plain print: a URL wrapped or styled by rich would be copied wrong.
    print(kiosk_url(settings.public_url, token))
    cli.console.print("[yellow]此链接只显示这一次（数据库只保存其摘要）；泄露时请用 kiosk revoke 停用。[/yellow]")


@app.command("revoke")
def revoke(token_id: int = typer.Argument(..., help="链接编号（kiosk list 的 ID 列）")) -> None:
    """停用一个大屏链接：使用它的大屏在下次刷新时停止显示数据。"""
    cli = _cli()
    eng = cli.engine()
    try:
        with eng.begin() as conn:
            label = revoke_kiosk_token(conn, token_id, actor=cli.operator())
    except KioskTokenError as exc:
        cli.console.print(f"[red]{exc}[/red]")
        raise typer.Exit(EXIT_REFUSED) from exc
    finally:
        eng.dispose()
    cli.console.print(f"已停用大屏链接 #{token_id}（{label}）")


@app.command("list")
def list_() -> None:
    """列出全部大屏链接（不含令牌本身）。"""
    cli = _cli()
    eng = cli.engine()
    try:
        with eng.connect() as conn:
            rows = list_kiosk_tokens(conn)
    finally:
        eng.dispose()
    table = Table("ID", "标签", "范围", "创建时间", "创建人", "最近使用", "状态")
    for row in rows.itertuples():
        status = f"已停用 {_when(row.revoked_at)}" if row.revoked_at == row.revoked_at and row.revoked_at else "有效"
        table.add_row(
            str(row.id),
            row.label,
            "、".join(row.scope_codes),
            _when(row.created_at),
            row.created_by,
            _when(row.last_used_at),
            status,
        )
    cli.console.print(table)
