"""The demo's accounts: one per role, with passwords published in the README and on the login
page (only while ``settings.demo`` is true). Made by ``python -m loaders demo`` and never
otherwise: an install without the demo has no account at all until an administrator creates
the first one (``python -m manage users add NAME --role admin``).

The grid officer is linked to a real staff member of the demo roster (a 网格员 with one cell,
the cell with the most enterprises), and the township head heads that cell's township, so the
two narrower views show the same corner of the district.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.console import Console
from sqlalchemy import Engine, text

from db.accounts import account_exists, create_account
from db.scope import Scope, apply_scope

__all__ = ["DemoAccount", "DEMO_ACCOUNTS", "ensure_demo_accounts", "demo_officer_staff"]


@dataclass(frozen=True)
class DemoAccount:
    name: str
    password: str
    role: str
    display_name: str  # {township} and {staff}: the township's and the staff member's names
    sees_zh: str  # what the account sees, for the login page and the README


DEMO_ACCOUNTS = (
    DemoAccount("demo-leader", "bengshan-lingdao", "leader", "演示领导", "全区，只读，无导出"),
    DemoAccount("demo-analyst", "bengshan-fenxi", "analyst", "演示分析员", "全区，可导出"),
    DemoAccount("demo-township", "bengshan-xiangzhen", "township_head", "演示·{township}", "演示网格员所在的乡镇/街道"),
    DemoAccount("demo-officer", "bengshan-wangge", "grid_officer", "{staff}", "名册中一名网格员负责的网格"),
    DemoAccount("demo-admin", "bengshan-guanli", "admin", "演示管理员", "全区，含管理功能"),
)
ACTOR = "loader:demo"


def demo_officer_staff(engine: Engine, district: str) -> tuple[str, str, str, str, str] | None:
    """The demo grid officer's staff member: (phone, name, cell code, township name, township
    code), or None when the roster is empty."""
    with engine.begin() as conn:
        apply_scope(conn, Scope.whole_district(district))
        row = conn.execute(
            text(
                """
                SELECT s.phone, s.name, s.cell_codes[1] AS cell,
                       (SELECT u.name FROM region_unit u JOIN boundary_set b ON b.id = u.boundary_set_id AND b.is_current
                        WHERE u.code = s.region_path[2]) AS township_name,
                       s.region_path[2] AS township
                FROM grid_staff s
                WHERE s.district_code = :d AND s.role = '网格员' AND cardinality(s.cell_codes) = 1
                ORDER BY (SELECT count(*) FROM enterprise e WHERE e.cell_code = s.cell_codes[1]) DESC, s.phone
                LIMIT 1
                """
            ),
            {"d": district},
        ).first()
    return tuple(row) if row else None


def ensure_demo_accounts(engine: Engine, district: str, *, console: Console | None = None) -> list[str]:
    """Create the demo accounts that do not exist yet (an administrator's changes to existing
    ones are kept); returns the names created."""
    say = (console or Console(stderr=True)).print
    staff = demo_officer_staff(engine, district)
    if staff is None:
        return []
    phone, staff_name, _cell, township_name, township = staff
    created = []
    with engine.begin() as conn:
        for account in DEMO_ACCOUNTS:
            if account_exists(conn, account.name):
                continue
            create_account(
                conn,
                name=account.name,
                password=account.password,
                role=account.role,
                district=district,
                actor=ACTOR,
                display_name=account.display_name.format(township=township_name, staff=staff_name),
                scope_codes=[township] if account.role == "township_head" else (),
                staff_phone=phone if account.role == "grid_officer" else None,
            )
            created.append(account.name)
    if created:
        say(f"演示账号: 新建 {'、'.join(created)}（密码见 README「账号与角色」）")
    return created
