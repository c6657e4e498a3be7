"""``python -m manage users``: the administrator's console, against the live test database."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from config import get_settings
from db.scope import Scope, apply_scope
from manage.cli import app, console

pytestmark = pytest.mark.db
ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "harbour-kite-2026"


@pytest.fixture()
def cli(live_db, monkeypatch):
    monkeypatch.setenv("DATABASE_ADMIN_URL", live_db.admin_url)
    monkeypatch.setenv("DATABASE_URL", live_db.app_url)
    monkeypatch.setattr(console, "width", 200)  # a wide terminal: whole tables
    get_settings.cache_clear()
    runner = CliRunner()
    yield lambda *args, input=None: runner.invoke(app, ["users", *args], input=input)
    get_settings.cache_clear()


@pytest.fixture()
def owner(live_db):
    engine = create_engine(live_db.admin_url)
    yield engine
    engine.dispose()


def _name() -> str:
    return f"cli-{secrets.token_hex(3)}"


def _account(owner, name):
    with owner.connect() as conn:
        return conn.execute(
            text("SELECT role, scope_codes, staff_id, disabled, password_hash FROM account WHERE name = :n"),
            {"n": name},
        ).first()


def _audit(owner, name):
    with owner.connect() as conn:
        return conn.execute(
            text("SELECT actor, action FROM audit_event WHERE target = :n ORDER BY id"), {"n": name}
        ).all()


def test_add_reads_the_password_from_stdin_and_audits(cli, owner):
    name = _name()
    result = cli(
        "add", name, "--role", "analyst", "--display-name", "测试分析", "--password-stdin", input=PASSWORD + "\n"
    )
    assert result.exit_code == 0, result.output
    row = _account(owner, name)
    assert (row.role, list(row.scope_codes)) == ("analyst", ["340303"])
    assert row.password_hash.startswith("$argon2id$") and PASSWORD not in row.password_hash
    actor, action = _audit(owner, name)[-1]
    assert action == "account_created" and actor.startswith("cli:")


def test_add_prompts_twice_and_refuses_a_mismatch(cli, owner):
    name = _name()
    ok = cli("add", name, "--role", "leader", input=f"{PASSWORD}\n{PASSWORD}\n")
    assert ok.exit_code == 0, ok.output
    assert PASSWORD not in ok.output  # the prompt hides it
    other = _name()
    mismatch = cli("add", other, "--role", "leader", input=f"{PASSWORD}\nsomething-else-1\n")
    assert mismatch.exit_code != 0 and _account(owner, other) is None


def test_a_password_is_never_an_argument(cli):
    result = cli("add", _name(), "--role", "leader", "--password", PASSWORD)
    assert result.exit_code == 2 and "No such option" in result.output


@pytest.mark.parametrize(
    ("args", "password", "message"),
    [
        (["--role", "analyst"], "short", "至少需要 10 个字符"),
        (["--role", "analyst"], "1qaz2wsx3edc", "过于常见"),
        (["--role", "township_head", "--scope", "340303001001"], PASSWORD, "不是本区县当前的乡镇/街道代码"),
        (["--role", "grid_officer"], PASSWORD, "关联网格人员"),
        (["--role", "superuser"], PASSWORD, "不存在"),
    ],
)
def test_add_refuses_and_changes_nothing(cli, owner, args, password, message):
    name = _name()
    result = cli("add", name, *args, "--password-stdin", input=password + "\n")
    assert result.exit_code == 2 and message in result.output
    assert _account(owner, name) is None


def test_a_grid_officer_linked_to_the_roster(cli, owner):
    with owner.begin() as conn:
        apply_scope(conn, Scope.whole_district("340303"))
        phone, staff_name = conn.execute(
            text("SELECT phone, name FROM grid_staff WHERE district_code = '340303' ORDER BY phone LIMIT 1")
        ).one()
    name = _name()
    result = cli(
        "add", name, "--role", "grid_officer", "--staff-phone", phone, "--password-stdin", input=PASSWORD + "\n"
    )
    assert result.exit_code == 0, result.output
    assert _account(owner, name).staff_id is not None
    listing = cli("list")
    assert listing.exit_code == 0 and name in listing.output and staff_name in listing.output


def test_passwd_disable_enable_and_roles(cli, owner):
    name = _name()
    cli("add", name, "--role", "analyst", "--password-stdin", input=PASSWORD + "\n")
    before = _account(owner, name).password_hash
    assert cli("passwd", name, "--password-stdin", input="a-brand-new-pass\n").exit_code == 0
    assert _account(owner, name).password_hash != before
    assert cli("disable", name).exit_code == 0 and _account(owner, name).disabled
    assert "已停用" in cli("list").output
    assert cli("enable", name).exit_code == 0 and not _account(owner, name).disabled
    changed = cli("roles", name, "--role", "township_head", "--scope", "340303001")
    assert changed.exit_code == 0, changed.output
    row = _account(owner, name)
    assert (row.role, list(row.scope_codes)) == ("township_head", ["340303001"])
    assert [action for _, action in _audit(owner, name)] == [
        "account_created",
        "password_changed",
        "account_disabled",
        "account_enabled",
        "account_role_changed",
    ]
    assert cli("passwd", "no-such-account", "--password-stdin", input=PASSWORD + "\n").exit_code == 2


def test_roles_lists_every_role(cli):
    result = cli("roles")
    assert result.exit_code == 0
    for zh in ("领导", "分析人员", "乡镇/街道负责人", "网格员", "管理员"):
        assert zh in result.output


def test_the_console_command_runs(live_db):
    env = {**os.environ, "DATABASE_ADMIN_URL": live_db.admin_url, "DATABASE_URL": live_db.app_url, "COLUMNS": "200"}
    done = subprocess.run(
        [sys.executable, "-m", "manage", "users", "list"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "demo-officer" in done.stdout and "网格员" in done.stdout
