"""``python -m manage users add|passwd|disable|enable|list|roles``: accounts, as the owner role.

Passwords are typed twice at a hidden prompt, or read from the first line of standard input with
``--password-stdin`` (for scripts: ``printf '%s\\n' "$PW" | python -m manage users passwd NAME
--password-stdin``); never taken from the command line, where the shell history and the process
list would keep them. Every change is an audit row with the operating-system user as the actor.
"""

from __future__ import annotations

import sys

import pandas as pd
import typer
from rich.table import Column, Table

from config import get_settings
from db import accounts
from db.errors import AccountError
from manage.cli import EXIT_REFUSED, console, engine, operator

app = typer.Typer(
    help="账号管理：新建、改密码、停用/启用、列表、角色。Accounts: add, passwd, disable, enable, list, roles.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

ROLE_HELP = "角色：" + "、".join(f"{role}（{zh}）" for role, zh in accounts.ROLE_NAMES_ZH.items())
# What each role sees and may do (DOMAIN.md §6), for `users roles`.
ROLE_RIGHTS = {
    "leader": ("整个区县", "只读，无导出"),
    "analyst": ("整个区县", "可导出"),
    "township_head": ("一个乡镇/街道（--scope）", "本乡镇，可导出"),
    "grid_officer": ("负责的网格（--staff-phone 或 --scope）", "本网格，可导出"),
    "admin": ("整个区县", "全部，含管理"),
}


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return typer.prompt("新密码", hide_input=True, confirmation_prompt="再次输入新密码")


def _run(change) -> object:
    """Run ``change(conn)`` in one owner transaction; a refusal exits 2 with nothing changed."""
    eng = engine()
    try:
        with eng.begin() as conn:
            return change(conn)
    except AccountError as exc:
        console.print(f"[red]{exc}[/red]", highlight=False)
        raise typer.Exit(EXIT_REFUSED) from exc
    finally:
        eng.dispose()


@app.command("add")
def add(
    name: str = typer.Argument(..., help="登录账号名：小写字母、数字和 . _ -"),
    role: str = typer.Option(..., "--role", help=ROLE_HELP),
    display_name: str | None = typer.Option(None, "--display-name", help="显示的姓名（默认同账号名）"),
    scope: list[str] = typer.Option(
        [], "--scope", help="可见范围的区划代码：乡镇/街道负责人一个乡镇代码；网格员的网格代码（可多次）"
    ),
    staff_phone: str | None = typer.Option(
        None, "--staff-phone", help="网格员：关联网格人员名册中的电话，可见范围随名册"
    ),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="从标准输入的第一行读取密码"),
) -> None:
    """新建账号（密码在提示时输入两次）。第一个管理员：python -m manage users add 账号 --role admin"""
    password = _read_password(password_stdin)
    _run(
        lambda conn: accounts.create_account(
            conn,
            name=name,
            password=password,
            role=role,
            district=get_settings().district_code,
            actor=operator(),
            display_name=display_name,
            scope_codes=scope,
            staff_phone=staff_phone,
        )
    )
    console.print(f"已新建账号 {name.strip().lower()}（{accounts.ROLE_NAMES_ZH.get(role, role)}）。", highlight=False)


@app.command("passwd")
def passwd(
    name: str = typer.Argument(..., help="账号名"),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="从标准输入的第一行读取密码"),
) -> None:
    """修改密码；该账号已登录的会话全部结束。"""
    password = _read_password(password_stdin)
    ended = _run(lambda conn: accounts.set_password(conn, name, password, actor=operator()))
    console.print(f"已修改 {name} 的密码，结束了 {ended} 个会话。", highlight=False)


@app.command("disable")
def disable(name: str = typer.Argument(..., help="账号名")) -> None:
    """停用账号（立即结束其全部会话；记录保留）。"""
    ended = _run(lambda conn: accounts.set_disabled(conn, name, True, actor=operator()))
    console.print(f"已停用 {name}，结束了 {ended} 个会话。", highlight=False)


@app.command("enable")
def enable(name: str = typer.Argument(..., help="账号名")) -> None:
    """重新启用已停用的账号。"""
    _run(lambda conn: accounts.set_disabled(conn, name, False, actor=operator()))
    console.print(f"已启用 {name}。", highlight=False)


def _codes_text(codes: list[str]) -> str:
    return "、".join(codes) if len(codes) <= 3 else f"{'、'.join(codes[:3])} 等 {len(codes)} 个"


@app.command("list")
def list_(
    include_disabled: bool = typer.Option(True, "--include-disabled/--active-only", help="是否列出已停用的账号"),
) -> None:
    """列出账号：角色、可见范围、关联人员、状态、在线会话与最近登录。"""
    frame = _run(lambda conn: accounts.list_accounts(conn, get_settings().district_code))
    if not include_disabled:
        frame = frame[~frame["disabled"]]
    table = Table("姓名", "角色", "可见范围", "关联人员", "状态", "在线会话", "最近登录")
    table.columns.insert(0, Column("账号", no_wrap=True))  # an identifier: never folded
    for row in frame.itertuples():
        table.add_row(
            row.name,
            row.display_name,
            accounts.ROLE_NAMES_ZH.get(row.role, row.role),
            _codes_text(list(row.scope_codes)),
            row.staff_name if isinstance(row.staff_name, str) else "",
            "已停用" if row.disabled else "正常",
            str(row.open_sessions),
            "—" if pd.isna(row.last_login) else f"{row.last_login:%Y-%m-%d %H:%M}",
        )
    console.print(table)
    if frame.empty:
        console.print("还没有账号。新建第一个管理员：python -m manage users add 账号 --role admin")


@app.command("roles")
def roles(
    name: str | None = typer.Argument(None, help="账号名；不给出时列出各角色"),
    role: str | None = typer.Option(None, "--role", help=ROLE_HELP),
    scope: list[str] = typer.Option([], "--scope", help="新的可见范围代码（乡镇/街道负责人、网格员）"),
    staff_phone: str | None = typer.Option(None, "--staff-phone", help="网格员：关联名册中的电话"),
) -> None:
    """列出角色及其可见范围；给出账号和 --role 时修改该账号的角色与范围（其会话随即结束）。"""
    if name is None:
        table = Table("角色", "名称", "可见范围", "权限")
        for key, zh in accounts.ROLE_NAMES_ZH.items():
            sees, rights = ROLE_RIGHTS[key]
            table.add_row(key, zh, sees, rights)
        console.print(table)
        return
    if role is None:
        console.print("[red]修改角色需要 --role。[/red]")
        raise typer.Exit(EXIT_REFUSED)
    _run(
        lambda conn: accounts.set_role(
            conn,
            name,
            role=role,
            district=get_settings().district_code,
            actor=operator(),
            scope_codes=scope,
            staff_phone=staff_phone,
        )
    )
    console.print(f"已将 {name} 改为 {accounts.ROLE_NAMES_ZH.get(role, role)}，其会话已结束。", highlight=False)
