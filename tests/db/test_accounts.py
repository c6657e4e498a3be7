"""Accounts, logins, lock-outs and sessions in PostGIS, through the dashboard's own role.

The database's clock cannot be frozen from the app role (on purpose: a caller must not step past
a lock-out), so these tests freeze it the other way round: between two steps, every recorded
time of the rows under test moves back by the same amount (:func:`_advance`), which is exactly
the clock moving forward by that much and nothing else.
"""

import datetime as dt
import secrets

import pytest
from argon2 import PasswordHasher
from sqlalchemy import text
from sqlalchemy.exc import ProgrammingError

from db import accounts
from db.errors import AccountError, AccountScopeError, PasswordPolicyError, UnknownAccountError
from db.migrate import APP_AUTH_FUNCTIONS
from tests.support import fixtures_data as fx

pytestmark = pytest.mark.db

CHEAP = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)  # fast hashes for tests
PROVIDER = accounts.LocalIdentityProvider(CHEAP)
POLICY = accounts.AuthPolicy()  # 5 failures, 15 min lock, 30 min idle, 12 h absolute
PASSWORD = "river-lamp-cobalt"


def _unique(prefix: str = "t") -> str:
    return f"{prefix}{secrets.token_hex(4)}"


def _address() -> str:
    return f"198.51.100.{secrets.randbelow(250) + 1}-{secrets.token_hex(2)}"


@pytest.fixture()
def account(admin_engine):
    """A fresh analyst account (its own name, so lock-outs never collide between tests)."""
    name = _unique()
    with admin_engine.begin() as conn:
        accounts.create_account(
            conn, name=name, password=PASSWORD, role="analyst", district="340303", actor="test", hasher=CHEAP
        )
    return name


def _login(app_engine, name, password=PASSWORD, address=None):
    return accounts.login(app_engine, name, password, address=address or _address(), policy=POLICY, provider=PROVIDER)


def _touch(app_engine, token):
    with app_engine.begin() as conn:
        return accounts.touch_session(conn, token)


def _advance(admin_engine, minutes: float, *, names=(), addresses=()) -> None:
    """The clock moves ``minutes`` forward for these accounts and addresses."""
    shift = dt.timedelta(minutes=minutes)
    keys = [*names, *addresses]
    with admin_engine.begin() as conn:
        conn.execute(
            text("UPDATE login_attempt SET at = at - :s WHERE account_name = ANY(:n) OR address = ANY(:a)"),
            {"s": shift, "n": list(names), "a": list(addresses)},
        )
        conn.execute(
            text(
                "UPDATE login_lock SET locked_at = locked_at - :s, locked_until = locked_until - :s WHERE key = ANY(:k)"
            ),
            {"s": shift, "k": keys},
        )
        conn.execute(
            text(
                "UPDATE app_session SET created_at = created_at - :s, last_seen_at = last_seen_at - :s, "
                "expires_at = expires_at - :s WHERE account_id IN (SELECT id FROM account WHERE name = ANY(:n))"
            ),
            {"s": shift, "n": list(names)},
        )
        conn.execute(
            text(
                "UPDATE account SET created_at = created_at - :s, updated_at = updated_at - :s, "
                "password_changed_at = password_changed_at - :s WHERE name = ANY(:n)"
            ),
            {"s": shift, "n": list(names)},
        )


def _events(admin_engine, subject):
    with admin_engine.connect() as conn:
        return [
            (row.action, row.detail)
            for row in conn.execute(
                text("SELECT action, detail FROM audit_event WHERE target = :s ORDER BY id"), {"s": subject}
            )
        ]


# ---------------------------------------------------------------- logging in


def test_a_login_opens_a_session_that_knows_the_viewer(app_engine, admin_engine, account):
    result = _login(app_engine, account.upper())  # names are case-insensitive
    assert result.ok and result.token
    info = _touch(app_engine, result.token)
    assert (info.status, info.name, info.role, info.scope_codes) == ("ok", account, "analyst", ("340303",))
    assert _events(admin_engine, account)[-1] == ("login", {})
    with admin_engine.connect() as conn:  # only the token's hash is stored
        stored = conn.execute(
            text("SELECT token_hash FROM app_session s JOIN account a ON a.id = s.account_id WHERE a.name = :n"),
            {"n": account},
        ).scalar_one()
    assert bytes(stored) == accounts.token_hash(result.token) and result.token.encode() not in bytes(stored)


def test_a_wrong_password_and_an_unknown_name_answer_alike(app_engine, admin_engine, account):
    wrong = _login(app_engine, account, "not-the-password")
    unknown = _login(app_engine, _unique("nobody"), PASSWORD)
    assert (wrong.outcome, wrong.token, wrong.locked_until) == ("failed", None, None)
    assert (unknown.outcome, unknown.token, unknown.locked_until) == ("failed", None, None)
    assert _events(admin_engine, account)[-1] == ("login_failed", {"reason": "failed"})


def test_an_unknown_name_costs_the_same_argon2_work_as_a_real_one(app_engine, account):
    with app_engine.connect() as conn:

        def challenge(name):
            return conn.execute(
                text("SELECT setting, hash_len FROM gridrisk_login_challenge(:n, :p)"),
                {"n": name, "p": accounts._parameters_prefix(PasswordHasher())},
            ).one()

        real, decoy = challenge(account), challenge("nobody-at-all")
        assert challenge("nobody-at-all") == decoy  # stable, like a stored salt
        assert challenge("Nobody-At-All ") == decoy
    assert decoy.setting.startswith("$argon2id$v=19$m=65536,t=3,p=4$") and decoy.hash_len == 32
    assert real.setting.count("$") == decoy.setting.count("$") == 4 and real.hash_len == 32
    assert len(real.setting.rsplit("$", 1)[1]) == len(decoy.setting.rsplit("$", 1)[1])  # 16-byte salts


def test_five_failures_lock_the_account_for_fifteen_minutes(app_engine, admin_engine, account):
    outcomes = [_login(app_engine, account, f"wrong-guess-{i}").outcome for i in range(5)]
    assert outcomes == ["failed"] * 4 + ["lockout"]
    locked = _login(app_engine, account)  # the right password, from another address
    assert locked.outcome == "locked" and locked.token is None
    _advance(admin_engine, 14, names=[account])
    assert _login(app_engine, account).outcome == "locked"
    _advance(admin_engine, 1.01, names=[account])
    assert _login(app_engine, account).ok
    actions = [action for action, _ in _events(admin_engine, account)]
    assert actions.count("lockout") == 1 and actions[-1] == "login"
    assert actions.count("login_failed") == 7  # five guesses and two attempts while locked


def test_failures_outside_the_window_do_not_count(app_engine, admin_engine, account):
    for i in range(4):
        assert _login(app_engine, account, f"wrong-guess-{i}").outcome == "failed"
    _advance(admin_engine, 16, names=[account])
    assert _login(app_engine, account, "wrong-again").outcome == "failed"


def test_a_success_resets_the_accounts_count(app_engine, account):
    for i in range(4):
        _login(app_engine, account, f"wrong-guess-{i}")
    assert _login(app_engine, account).ok
    assert [_login(app_engine, account, f"again-{i}").outcome for i in range(4)] == ["failed"] * 4


def test_unknown_names_lock_like_real_ones(app_engine):
    name = _unique("ghost")
    assert [_login(app_engine, name, f"guess-{i}").outcome for i in range(6)] == ["failed"] * 4 + ["lockout", "locked"]


def test_an_address_is_locked_after_five_failures_over_any_names(app_engine, admin_engine, account):
    address = _address()
    outcomes = [_login(app_engine, _unique("spray"), PASSWORD, address).outcome for _ in range(5)]
    assert outcomes == ["failed"] * 4 + ["lockout"]
    assert _login(app_engine, account, PASSWORD, address).outcome == "locked"  # the right password, same address
    assert _login(app_engine, account, PASSWORD).ok  # elsewhere the account is fine
    _advance(admin_engine, 15.01, addresses=[address])
    assert _login(app_engine, account, PASSWORD, address).ok


def test_a_lockout_is_configurable(app_engine, admin_engine, account):
    policy = accounts.AuthPolicy(max_failures=2, lockout=dt.timedelta(minutes=1))
    login = accounts.login
    assert login(app_engine, account, "x" * 10, address=None, policy=policy, provider=PROVIDER).outcome == "failed"
    second = login(app_engine, account, "y" * 10, address=None, policy=policy, provider=PROVIDER)
    assert second.outcome == "lockout"
    with admin_engine.connect() as conn:
        now = conn.execute(text("SELECT clock_timestamp()")).scalar_one()
    assert dt.timedelta(seconds=55) < second.locked_until - now <= dt.timedelta(minutes=1)


# ---------------------------------------------------------------- sessions


def test_a_session_used_within_thirty_minutes_stays(app_engine, admin_engine, account):
    token = _login(app_engine, account).token
    for _ in range(3):
        _advance(admin_engine, 25, names=[account])
        assert _touch(app_engine, token).ok


def test_an_idle_session_ends_after_thirty_minutes(app_engine, admin_engine, account):
    token = _login(app_engine, account).token
    _advance(admin_engine, 30.01, names=[account])
    assert _touch(app_engine, token).status == "idle"
    assert _touch(app_engine, token).status == "revoked"  # ended for good
    assert [a for a, _ in _events(admin_engine, account)].count("session_expired") == 1


def test_every_session_ends_after_twelve_hours(app_engine, admin_engine, account):
    token = _login(app_engine, account).token
    with admin_engine.begin() as conn:  # in use all along, but its 12 hours are up
        conn.execute(
            text(
                "UPDATE app_session SET expires_at = expires_at - interval '12 hours' "
                "WHERE account_id = (SELECT id FROM account WHERE name = :n)"
            ),
            {"n": account},
        )
    assert _touch(app_engine, token).status == "expired"


def test_lifetimes_are_configurable(app_engine, admin_engine, account):
    policy = accounts.AuthPolicy(idle=dt.timedelta(minutes=5), absolute=dt.timedelta(hours=1))
    token = accounts.login(app_engine, account, PASSWORD, address=None, policy=policy, provider=PROVIDER).token
    assert _touch(app_engine, token).expires_at is not None
    _advance(admin_engine, 5.01, names=[account])
    assert _touch(app_engine, token).status == "idle"


def test_logout_ends_the_session_everywhere_it_is_used(app_engine, admin_engine, account):
    token = _login(app_engine, account).token
    other = _login(app_engine, account).token  # the same person in another browser
    with app_engine.begin() as conn:
        assert accounts.end_session(conn, token, address="203.0.113.9") == account
        assert accounts.end_session(conn, token) is None  # once
    assert _touch(app_engine, token).status == "revoked"
    assert _touch(app_engine, other).ok
    assert ("logout", {}) in _events(admin_engine, account)


def test_an_unknown_token_is_no_session(app_engine):
    assert _touch(app_engine, accounts.new_token()).status == "unknown"


def test_a_disabled_account_cannot_log_in_and_its_sessions_end(app_engine, admin_engine, account):
    token = _login(app_engine, account).token
    with admin_engine.begin() as conn:
        assert accounts.set_disabled(conn, account, True, actor="test") == 1
    assert _touch(app_engine, token).status == "revoked"
    assert _login(app_engine, account).outcome == "disabled"
    assert _login(app_engine, account, "wrong-password").outcome == "failed"
    with admin_engine.begin() as conn:
        accounts.set_disabled(conn, account, False, actor="test")
    assert _login(app_engine, account).ok
    actions = [a for a, _ in _events(admin_engine, account)]
    assert "account_disabled" in actions and "account_enabled" in actions


def test_a_new_password_ends_the_sessions_and_the_old_one_fails(app_engine, admin_engine, account):
    token = _login(app_engine, account).token
    with admin_engine.begin() as conn:
        assert accounts.set_password(conn, account, "violet-anchor-97", actor="test", hasher=CHEAP) == 1
    assert _touch(app_engine, token).status == "revoked"
    assert _login(app_engine, account).outcome == "failed"
    assert _login(app_engine, account, "violet-anchor-97").ok


def test_a_weak_password_changes_nothing(admin_engine, account):
    with admin_engine.begin() as conn, pytest.raises(PasswordPolicyError):
        accounts.set_password(conn, account, account + "-x", actor="test")
    with admin_engine.begin() as conn, pytest.raises(UnknownAccountError):
        accounts.set_password(conn, "no-such-account", "violet-anchor-97", actor="test")


# ---------------------------------------------------------------- least privilege


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT password_hash FROM account",
        "SELECT * FROM account",
        "SELECT token_hash FROM app_session",
        "SELECT * FROM login_attempt",
        "SELECT * FROM login_lock",
        "SELECT * FROM auth_secret",
        "UPDATE account SET role = 'admin'",
        "INSERT INTO app_session (token_hash, account_id, created_at, last_seen_at, idle_timeout, expires_at) "
        "VALUES (sha256('x'), 1, now(), now(), '1 hour', now() + interval '1 day')",
        "DELETE FROM login_lock",
        "SELECT gridrisk_account_scope(1)",
    ],
)
def test_the_app_role_cannot_read_hashes_tokens_or_keys_nor_write_accounts(app_engine, sql):
    with app_engine.connect() as conn, pytest.raises(ProgrammingError, match="permission denied"):
        conn.execute(text(sql))


def test_the_app_role_reads_accounts_without_their_hashes(app_engine, account):
    with app_engine.connect() as conn:
        row = conn.execute(text("SELECT name, role, disabled FROM account WHERE name = :n"), {"n": account}).one()
    assert tuple(row) == (account, "analyst", False)


def test_only_the_app_role_may_call_the_login_functions(db_conn, test_db):
    from db.migrate import app_role_from_url

    app_role = app_role_from_url(test_db.app_url)
    for function in APP_AUTH_FUNCTIONS:
        grantees = db_conn.execute(
            text(
                "SELECT coalesce(r.rolname, 'PUBLIC') FROM pg_proc p, aclexplode(p.proacl) a "
                "LEFT JOIN pg_roles r ON r.oid = a.grantee WHERE p.oid = CAST(:f AS regprocedure) "
                "AND a.privilege_type = 'EXECUTE'"
            ),
            {"f": function},
        ).scalars()
        assert "PUBLIC" not in set(grantees), function
        assert db_conn.execute(
            text("SELECT has_function_privilege(:r, CAST(:f AS regprocedure), 'EXECUTE')"),
            {"r": app_role, "f": function},
        ).scalar_one()


# ---------------------------------------------------------------- roles and scopes


def _create(conn, role, **kwargs):
    return accounts.create_account(
        conn, name=_unique(), password=PASSWORD, role=role, district=fx.DISTRICT, actor="test", hasher=CHEAP, **kwargs
    )


def test_each_role_gets_the_scope_it_should(live_db, db_conn):
    assert _create(db_conn, "leader") and _create(db_conn, "admin")
    _create(db_conn, "township_head", scope_codes=[fx.WEST])
    _create(db_conn, "grid_officer", scope_codes=[fx.WEST_CELL])
    rows = db_conn.execute(text("SELECT role, scope_codes FROM account WHERE district_code = :d"), {"d": fx.DISTRICT})
    scopes = {role: list(codes) for role, codes in rows}
    assert scopes == {
        "leader": [fx.DISTRICT],
        "admin": [fx.DISTRICT],
        "township_head": [fx.WEST],
        "grid_officer": [fx.WEST_CELL],
    }


@pytest.mark.parametrize(
    ("role", "kwargs", "message"),
    [
        ("township_head", {}, "一个乡镇/街道代码"),
        ("township_head", {"scope_codes": [fx.WEST, fx.EAST]}, "一个乡镇/街道代码"),
        ("township_head", {"scope_codes": [fx.WEST_CELL]}, "不是本区县当前的乡镇/街道代码"),
        ("grid_officer", {}, "关联网格人员"),
        ("grid_officer", {"scope_codes": [fx.WEST_VILLAGE]}, "不是本区县当前的网格"),
        ("grid_officer", {"scope_codes": ["340303001001001"]}, "不是本区县当前的网格"),  # another district's
        ("grid_officer", {"staff_phone": "13800000000"}, "名册中没有"),
        ("analyst", {"scope_codes": [fx.WEST]}, "整个区县"),
        ("leader", {"staff_phone": "13800000000"}, "只有网格员"),
        ("kiosk", {}, "角色 'kiosk' 不存在"),
    ],
)
def test_a_scope_that_does_not_fit_the_role_is_refused(live_db, db_conn, role, kwargs, message):
    with pytest.raises(AccountError, match=message):
        _create(db_conn, role, **kwargs)


@pytest.mark.parametrize("name", ["A", "zhang san", "-lead", "张三", "x" * 41])
def test_bad_names_are_refused(db_conn, name):
    with pytest.raises(AccountError, match="账号名"):
        accounts.create_account(
            db_conn, name=name, password=PASSWORD, role="analyst", district="340303", actor="t", hasher=CHEAP
        )


def test_a_taken_name_is_refused(db_conn, account):
    with pytest.raises(AccountError, match="已存在"):
        accounts.create_account(
            db_conn, name=account, password=PASSWORD, role="analyst", district="340303", actor="t", hasher=CHEAP
        )


def test_a_linked_grid_officer_sees_the_rosters_cells_as_they_change(live_db, admin_engine, app_engine):
    from db.scope import Scope, apply_scope

    phone = "139" + str(secrets.randbelow(10**8)).zfill(8)
    name = _unique("officer")
    with admin_engine.begin() as conn:
        apply_scope(conn, Scope.whole_district(fx.DISTRICT))
        conn.execute(
            text(
                "INSERT INTO grid_staff (phone, name, role, district_code, cell_codes, region_path) "
                "VALUES (:p, '测试网格员', '网格员', :d, :c, :r)"
            ),
            {
                "p": phone,
                "d": fx.DISTRICT,
                "c": [fx.WEST_CELL],
                "r": [fx.DISTRICT, fx.WEST, fx.WEST_VILLAGE, fx.WEST_CELL],
            },
        )
        accounts.create_account(
            conn,
            name=name,
            password=PASSWORD,
            role="grid_officer",
            district=fx.DISTRICT,
            actor="t",
            staff_phone=phone,
            hasher=CHEAP,
        )
    token = _login(app_engine, name).token
    assert _touch(app_engine, token).scope_codes == (fx.WEST_CELL,)
    with admin_engine.begin() as conn:  # the roster moves them to the east cell
        apply_scope(conn, Scope.whole_district(fx.DISTRICT))
        conn.execute(
            text("UPDATE grid_staff SET cell_codes = :c, region_path = :r WHERE phone = :p"),
            {"p": phone, "c": [fx.EAST_CELL], "r": [fx.DISTRICT, fx.EAST, fx.EAST_VILLAGE, fx.EAST_CELL]},
        )
    with app_engine.begin() as conn:
        conn.execute(text("SELECT set_config('gridrisk.scope', 'caller', true)"))
        assert accounts.touch_session(conn, token).scope_codes == (fx.EAST_CELL,)
        # the lookup's district scope ended with the function: the caller's scope is back
        assert conn.execute(text("SELECT current_setting('gridrisk.scope')")).scalar_one() == "caller"
    with admin_engine.begin() as conn:  # struck off the roster: no scope, no session
        apply_scope(conn, Scope.whole_district(fx.DISTRICT))
        conn.execute(text("DELETE FROM grid_staff WHERE phone = :p"), {"p": phone})
    assert _touch(app_engine, token).status == "no_scope"
    assert _login(app_engine, name).outcome == "no_scope"


def test_changing_a_role_ends_the_sessions(live_db, app_engine, admin_engine, account):
    token = _login(app_engine, account).token
    with admin_engine.begin() as conn:
        accounts.set_role(conn, account, role="township_head", district="340303", actor="t", scope_codes=["340303001"])
    assert _touch(app_engine, token).status == "revoked"
    info = _touch(app_engine, _login(app_engine, account).token)
    assert (info.role, info.scope_codes) == ("township_head", ("340303001",))
    with pytest.raises(AccountScopeError), admin_engine.begin() as conn:
        accounts.set_role(conn, account, role="township_head", district="340303", actor="t", scope_codes=["340303"])
