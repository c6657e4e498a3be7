"""Accounts, passwords, logins and sessions.

Two sides, two roles:

- **Management** (the owner's connection, ``python -m manage users``): create accounts, change
  passwords, roles and scopes, disable, list. Every change is an audit row; a password change or
  disabling ends the account's sessions.
- **Login and sessions** (the dashboard's connection): through the SECURITY DEFINER functions of
  revision 0011, which answer with outcomes and never show a password hash. The identity check sits
  behind :class:`IdentityProvider` (local argon2 passwords now; OIDC or LDAP can be added as other
  providers); lock-out, sessions and the audit trail are the same for every provider.

A session token is 32 random bytes (URL-safe text); the database keeps only its SHA-256. The
browser keeps the token in a cookie signed with the install's key (:func:`sign_cookie`), so a
tampered or stale cookie is refused before any lookup; the database decides the rest (revoked,
idle, absolute expiry, disabled account, changed password).
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol

import pandas as pd
from argon2 import PasswordHasher, Type
from argon2.low_level import hash_secret
from sqlalchemy import Connection, Engine, text

from config.settings import PROJECT_ROOT, Auth
from db.audit import record_event
from db.errors import AccountError, AccountScopeError, PasswordPolicyError, UnknownAccountError
from db.models import ACCOUNT_ROLES
from db.scope import Scope, apply_scope

__all__ = [
    "ROLES",
    "ROLE_NAMES_ZH",
    "DISTRICT_ROLES",
    "AuthPolicy",
    "LoginRequest",
    "LoginResult",
    "IdentityProvider",
    "LocalIdentityProvider",
    "SessionInfo",
    "login",
    "touch_session",
    "end_session",
    "new_token",
    "token_hash",
    "cookie_key",
    "sign_cookie",
    "read_cookie",
    "password_problems",
    "check_password",
    "hash_password",
    "create_account",
    "set_password",
    "set_disabled",
    "set_role",
    "list_accounts",
    "account_exists",
    "PASSWORD_MIN_LENGTH",
    "COMMON_PASSWORDS_FILE",
]

ROLES = ACCOUNT_ROLES
ROLE_NAMES_ZH = {
    "leader": "领导",
    "analyst": "分析人员",
    "township_head": "乡镇/街道负责人",
    "grid_officer": "网格员",
    "admin": "管理员",
}
# Roles that see the whole district (DOMAIN.md §6).
DISTRICT_ROLES = ("leader", "analyst", "admin")

PASSWORD_MIN_LENGTH = 10
COMMON_PASSWORDS_FILE = PROJECT_ROOT / "data" / "security" / "common_passwords.txt"
_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,39}$")  # as ck_account_name
_TOKEN_BYTES = 32


# ---------------------------------------------------------------- policy and passwords


@dataclass(frozen=True)
class AuthPolicy:
    """Lock-out and session lifetimes (config/settings.py ``auth``)."""

    max_failures: int = 5
    lockout: dt.timedelta = dt.timedelta(minutes=15)
    idle: dt.timedelta = dt.timedelta(minutes=30)
    absolute: dt.timedelta = dt.timedelta(hours=12)

    @classmethod
    def from_settings(cls, auth: Auth) -> AuthPolicy:
        return cls(
            max_failures=auth.max_failures,
            lockout=dt.timedelta(minutes=auth.lockout_minutes),
            idle=dt.timedelta(minutes=auth.idle_minutes),
            absolute=dt.timedelta(hours=auth.absolute_hours),
        )


@functools.cache
def _common_passwords(path: Path = COMMON_PASSWORDS_FILE) -> frozenset[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip() and not line.lstrip().startswith("#"))


def password_problems(name: str, password: str) -> list[str]:
    """What is wrong with ``password`` for the account ``name`` (Chinese, shown as they are);
    empty when it is acceptable.

    Examples
    --------
    >>> password_problems("zhang.san", "zhang.san")[0]
    '密码至少需要 10 个字符'
    >>> password_problems("zhang.san", "qwertyuiop")
    ['密码过于常见，请换一个']
    """
    problems = []
    if len(password) < PASSWORD_MIN_LENGTH:
        problems.append(f"密码至少需要 {PASSWORD_MIN_LENGTH} 个字符")
    lowered, account = password.strip().lower(), name.strip().lower()
    if account and account in lowered:
        problems.append("密码不能是账号名，也不能包含账号名")
    if lowered in _common_passwords():
        problems.append("密码过于常见，请换一个")
    return problems


def check_password(name: str, password: str) -> None:
    """Raise :class:`PasswordPolicyError` naming every problem of ``password``."""
    problems = password_problems(name, password)
    if problems:
        raise PasswordPolicyError("密码不符合要求：" + "；".join(problems) + "。")


# argon2id with argon2-cffi's defaults (RFC 9106's second recommendation: t=3, m=64 MiB, p=4).
_HASHER = PasswordHasher()


def hash_password(password: str, hasher: PasswordHasher = _HASHER) -> str:
    return hasher.hash(password)


def _parameters_prefix(hasher: PasswordHasher) -> str:
    """``$argon2id$v=19$m=…,t=…,p=…``: the decoy setting's parameters for unknown names."""
    algorithm = {Type.ID: "argon2id", Type.I: "argon2i", Type.D: "argon2d"}[hasher.type]
    return f"${algorithm}$v=19$m={hasher.memory_cost},t={hasher.time_cost},p={hasher.parallelism}"


def _hash_with_setting(password: str, setting: str, hash_len: int) -> str:
    """Hash ``password`` with a stored hash's setting (``$argon2id$v=19$m=…,t=…,p=…$salt``),
    giving the same PHC string the stored hash is when the password is right."""
    _, algorithm, version, params, salt_b64 = setting.split("$")
    values = dict(item.split("=") for item in params.split(","))
    salt = base64.b64decode(salt_b64 + "=" * (-len(salt_b64) % 4))
    return hash_secret(
        password.encode("utf-8"),
        salt,
        time_cost=int(values["t"]),
        memory_cost=int(values["m"]),
        parallelism=int(values["p"]),
        hash_len=hash_len,
        type={"argon2id": Type.ID, "argon2i": Type.I, "argon2d": Type.D}[algorithm],
        version=int(version.removeprefix("v=")),
    ).decode("ascii")


# ---------------------------------------------------------------- tokens and cookies


def new_token() -> str:
    return secrets.token_urlsafe(_TOKEN_BYTES)


def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode("ascii")).digest()


def cookie_key(conn: Connection) -> bytes:
    """The install's cookie signing key (made at migration, readable through one function)."""
    return bytes(conn.execute(text("SELECT gridrisk_cookie_key()")).scalar_one())


def _signature(key: bytes, payload: str) -> str:
    digest = hmac.new(key, payload.encode("ascii"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def sign_cookie(token: str, key: bytes, expires_at: dt.datetime) -> str:
    """``v1.<token>.<expiry, epoch seconds>.<HMAC-SHA256>``: the cookie's value."""
    payload = f"v1.{token}.{int(expires_at.timestamp())}"
    return f"{payload}.{_signature(key, payload)}"


def read_cookie(value: str | None, key: bytes, now: dt.datetime) -> str | None:
    """The token of a well-signed, unexpired cookie; ``None`` for anything else."""
    parts = (value or "").split(".")
    if len(parts) != 4 or parts[0] != "v1" or not parts[2].isdigit():
        return None
    payload = ".".join(parts[:3])
    if not hmac.compare_digest(parts[3], _signature(key, payload)):
        return None
    if int(parts[2]) <= now.timestamp():
        return None
    return parts[1]


# ---------------------------------------------------------------- identity and login

Outcome = Literal["ok", "failed", "locked", "lockout", "disabled", "no_scope"]


@dataclass(frozen=True)
class LoginRequest:
    name: str
    password: str = field(repr=False)
    address: str | None = None  # the client's IP address, for the per-address lock-out


@dataclass(frozen=True)
class LoginResult:
    """What a login attempt came to. ``token`` (on success) goes into the cookie, never a log."""

    outcome: Outcome
    name: str
    token: str | None = field(default=None, repr=False)
    locked_until: dt.datetime | None = None

    @property
    def ok(self) -> bool:
        return self.outcome == "ok"

    @property
    def locked(self) -> bool:
        return self.outcome in ("locked", "lockout")


class IdentityProvider(Protocol):
    """Checks who someone is and opens their session. Local passwords now; a single sign-on
    provider (OIDC, LDAP) implements the same call and keeps the same lock-out, session and
    audit rules around it."""

    def login(self, conn: Connection, request: LoginRequest, policy: AuthPolicy) -> LoginResult: ...


class LocalIdentityProvider:
    """Accounts with argon2 password hashes in the ``account`` table.

    The dashboard's role never sees a hash: it asks for the hash's setting (a decoy for unknown
    names, so both cost the same argon2 work), hashes the typed password with it and lets
    ``gridrisk_login`` compare, count, lock and open the session (revision 0011).
    """

    def __init__(self, hasher: PasswordHasher = _HASHER) -> None:
        self._hasher = hasher

    def login(self, conn: Connection, request: LoginRequest, policy: AuthPolicy) -> LoginResult:
        setting, hash_len = conn.execute(
            text("SELECT setting, hash_len FROM gridrisk_login_challenge(:name, :decoy)"),
            {"name": request.name, "decoy": _parameters_prefix(self._hasher)},
        ).one()
        candidate = _hash_with_setting(request.password, setting, hash_len)
        token = new_token()
        row = conn.execute(
            text(
                "SELECT outcome, account_name, locked_until FROM gridrisk_login(:name, :candidate, :address, "
                ":token_hash, :max_failures, :lockout, :idle, :absolute)"
            ),
            {
                "name": request.name,
                "candidate": candidate,
                "address": request.address,
                "token_hash": token_hash(token),
                "max_failures": policy.max_failures,
                "lockout": policy.lockout,
                "idle": policy.idle,
                "absolute": policy.absolute,
            },
        ).one()
        return LoginResult(row.outcome, row.account_name, token if row.outcome == "ok" else None, row.locked_until)


def _audit_name(name: str) -> str:
    """The typed name as the audit trail shows it (normalised like the database does, bounded)."""
    return name.strip().lower()[:64] or "(空)"


def login(
    target: Connection | Engine,
    name: str,
    password: str,
    *,
    address: str | None,
    policy: AuthPolicy,
    provider: IdentityProvider | None = None,
) -> LoginResult:
    """One login attempt, with its audit rows (``login``; ``login_failed`` with the reason, and
    ``lockout`` when this failure placed a lock), in one transaction."""
    if isinstance(target, Engine):
        with target.begin() as conn:
            return login(conn, name, password, address=address, policy=policy, provider=provider)
    request = LoginRequest(name=name, password=password, address=address)
    result = (provider or LocalIdentityProvider()).login(target, request, policy)
    actor = _audit_name(name)
    if result.ok:
        record_event(target, actor=actor, action="login", subject=actor, address=address)
        return result
    record_event(
        target, actor=actor, action="login_failed", subject=actor, address=address, detail={"reason": result.outcome}
    )
    if result.outcome == "lockout":
        record_event(
            target,
            actor=actor,
            action="lockout",
            subject=actor,
            address=address,
            detail={"until": result.locked_until, "max_failures": policy.max_failures},
        )
    return result


@dataclass(frozen=True)
class SessionInfo:
    """Who a session belongs to, or why it is no longer valid (``status`` other than ``ok``:
    unknown, revoked, idle, expired, disabled, password_changed, no_scope)."""

    status: str
    name: str | None = None
    display_name: str | None = None
    role: str | None = None
    scope_codes: tuple[str, ...] = ()
    expires_at: dt.datetime | None = None

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def scope(self) -> Scope:
        return Scope.of(self.scope_codes)


def touch_session(conn: Connection, token: str) -> SessionInfo:
    """The session's account (and mark it used now), or why it ended; an end is recorded once."""
    row = conn.execute(
        text(
            "SELECT status, account_name, display_name, role, scope_codes, expires_at "
            "FROM gridrisk_session_touch(:token_hash)"
        ),
        {"token_hash": token_hash(token)},
    ).one()
    info = SessionInfo(
        row.status, row.account_name, row.display_name, row.role, tuple(row.scope_codes or ()), row.expires_at
    )
    if info.status in ("idle", "expired"):
        record_event(
            conn, actor=info.name or "?", action="session_expired", subject=info.name, detail={"why": info.status}
        )
    return info


def end_session(conn: Connection, token: str, *, address: str | None = None, reason: str = "logout") -> str | None:
    """Revoke the session (logout): every tab and browser holding it is logged out on its next
    request. Returns the account's name when a live session was ended."""
    name = conn.execute(
        text("SELECT gridrisk_session_end(:token_hash, :reason)"), {"token_hash": token_hash(token), "reason": reason}
    ).scalar_one()
    if name:
        record_event(conn, actor=name, action="logout", subject=name, address=address)
    return name


# ---------------------------------------------------------------- management (owner)


def _normalise_name(name: str) -> str:
    account = name.strip().lower()
    if not _NAME.match(account):
        raise AccountError(f"账号名 {name!r} 不合规：2–40 个字符，只能用小写字母、数字和 . _ -，并以字母或数字开头。")
    return account


def _current_units(conn: Connection, district: str, codes: Iterable[str]) -> pd.DataFrame:
    """The current units of ``district`` among ``codes``: code, tier, and whether it has children."""
    return pd.read_sql(
        text(
            "SELECT u.code, u.tier, EXISTS (SELECT 1 FROM region_unit c WHERE c.boundary_set_id = u.boundary_set_id "
            "AND c.parent_code = u.code) AS has_children FROM region_unit u JOIN boundary_set s "
            "ON s.id = u.boundary_set_id AND s.is_current WHERE s.district_code = :d AND u.code = ANY(:codes)"
        ),
        conn,
        params={"d": district, "codes": list(codes)},
    )


def _staff_id(conn: Connection, district: str, phone: str) -> int:
    apply_scope(conn, Scope.whole_district(district))  # grid_staff is under row-level security
    staff_id = conn.execute(
        text("SELECT id FROM grid_staff WHERE phone = :phone AND district_code = :d"),
        {"phone": phone.strip(), "d": district},
    ).scalar()
    if staff_id is None:
        raise AccountScopeError(f"网格人员名册中没有电话为 {phone} 的人员；请先载入名册（python -m loaders staff）。")
    return int(staff_id)


def _resolve_scope(
    conn: Connection, role: str, district: str, scope_codes: Iterable[str], staff_phone: str | None
) -> tuple[list[str], int | None]:
    """The stored scope codes and staff link of an account of ``role``, checked against the grid."""
    if role not in ROLES:
        raise AccountError(f"角色 {role!r} 不存在；可选：{', '.join(ROLES)}。")
    codes = list(dict.fromkeys(code.strip() for code in scope_codes if code.strip()))
    if role in DISTRICT_ROLES:
        if codes and codes != [district]:
            raise AccountScopeError(f"{ROLE_NAMES_ZH[role]}的可见范围是整个区县，不能指定 --scope。")
        if staff_phone:
            raise AccountScopeError("只有网格员账号可以关联网格人员（--staff-phone）。")
        return [district], None
    if role == "township_head":
        if staff_phone or len(codes) != 1:
            raise AccountScopeError("乡镇/街道负责人账号需要且只需要一个乡镇/街道代码（--scope）。")
        units = _current_units(conn, district, codes)
        if units.empty or int(units["tier"].iloc[0]) != 2:
            raise AccountScopeError(f"{codes[0]} 不是本区县当前的乡镇/街道代码。")
        return codes, None
    if staff_phone:
        if codes:
            raise AccountScopeError("网格员账号请在 --staff-phone 与 --scope 中二选一。")
        return [], _staff_id(conn, district, staff_phone)
    if not codes:
        raise AccountScopeError("网格员账号需要关联网格人员（--staff-phone）或指定负责的网格代码（--scope）。")
    units = _current_units(conn, district, codes).set_index("code")
    wrong = [c for c in codes if c not in units.index or bool(units.loc[c, "has_children"])]
    if wrong:
        raise AccountScopeError(f"这些代码不是本区县当前的网格（最低一级单元）：{'、'.join(wrong)}。")
    return codes, None


def account_exists(conn: Connection, name: str) -> bool:
    return bool(
        conn.execute(
            text("SELECT EXISTS (SELECT 1 FROM account WHERE name = :n)"), {"n": name.strip().lower()}
        ).scalar()
    )


def _account_id(conn: Connection, name: str) -> int:
    account_id = conn.execute(text("SELECT id FROM account WHERE name = :n"), {"n": name.strip().lower()}).scalar()
    if account_id is None:
        raise UnknownAccountError(f"没有名为 {name!r} 的账号。")
    return int(account_id)


def _end_sessions(conn: Connection, account_id: int, reason: str) -> int:
    return conn.execute(
        text(
            "UPDATE app_session SET revoked_at = clock_timestamp(), revoked_reason = :reason "
            "WHERE account_id = :id AND revoked_at IS NULL"
        ),
        {"id": account_id, "reason": reason},
    ).rowcount


def create_account(  # noqa: PLR0913 - the account's fields, keyword-only
    conn: Connection,
    *,
    name: str,
    password: str,
    role: str,
    district: str,
    actor: str,
    display_name: str | None = None,
    scope_codes: Iterable[str] = (),
    staff_phone: str | None = None,
    hasher: PasswordHasher = _HASHER,
) -> int:
    """Create an account (as the owner); returns its id. Refuses a taken name, a weak password
    or a scope that does not fit the role, and changes nothing then."""
    account = _normalise_name(name)
    check_password(account, password)
    if account_exists(conn, account):
        raise AccountError(f"账号 {account!r} 已存在。")
    codes, staff_id = _resolve_scope(conn, role, district, scope_codes, staff_phone)
    account_id = conn.execute(
        text(
            "INSERT INTO account (name, display_name, password_hash, role, district_code, scope_codes, staff_id) "
            "VALUES (:name, :display, :hash, :role, :d, :codes, :staff) RETURNING id"
        ),
        {
            "name": account,
            "display": (display_name or account).strip(),
            "hash": hash_password(password, hasher),
            "role": role,
            "d": district,
            "codes": codes,
            "staff": staff_id,
        },
    ).scalar_one()
    record_event(
        conn,
        actor=actor,
        action="account_created",
        subject=account,
        detail={"role": role, "scope_codes": codes, "staff_id": staff_id},
    )
    return int(account_id)


def set_password(conn: Connection, name: str, password: str, *, actor: str, hasher: PasswordHasher = _HASHER) -> int:
    """Set a new password and end the account's sessions; returns how many sessions ended."""
    account_id = _account_id(conn, name)
    check_password(name, password)
    conn.execute(
        text(
            "UPDATE account SET password_hash = :hash, password_changed_at = clock_timestamp(), "
            "updated_at = clock_timestamp() WHERE id = :id"
        ),
        {"hash": hash_password(password, hasher), "id": account_id},
    )
    ended = _end_sessions(conn, account_id, "password_changed")
    record_event(
        conn, actor=actor, action="password_changed", subject=name.strip().lower(), detail={"sessions_ended": ended}
    )
    return ended


def set_disabled(conn: Connection, name: str, disabled: bool, *, actor: str) -> int:
    """Disable (ending every session) or enable an account; returns how many sessions ended."""
    account_id = _account_id(conn, name)
    conn.execute(
        text("UPDATE account SET disabled = :disabled, updated_at = clock_timestamp() WHERE id = :id"),
        {"disabled": disabled, "id": account_id},
    )
    ended = _end_sessions(conn, account_id, "disabled") if disabled else 0
    action = "account_disabled" if disabled else "account_enabled"
    record_event(conn, actor=actor, action=action, subject=name.strip().lower(), detail={"sessions_ended": ended})
    return ended


def set_role(
    conn: Connection,
    name: str,
    *,
    role: str,
    district: str,
    actor: str,
    scope_codes: Iterable[str] = (),
    staff_phone: str | None = None,
) -> None:
    """Give an account another role or scope; its sessions end (they carry the old scope)."""
    account_id = _account_id(conn, name)
    codes, staff_id = _resolve_scope(conn, role, district, scope_codes, staff_phone)
    before = conn.execute(
        text("SELECT role, scope_codes, staff_id FROM account WHERE id = :id"), {"id": account_id}
    ).one()
    conn.execute(
        text(
            "UPDATE account SET role = :role, scope_codes = :codes, staff_id = :staff, updated_at = clock_timestamp() "
            "WHERE id = :id"
        ),
        {"role": role, "codes": codes, "staff": staff_id, "id": account_id},
    )
    ended = _end_sessions(conn, account_id, "role_changed")
    record_event(
        conn,
        actor=actor,
        action="account_role_changed",
        subject=name.strip().lower(),
        detail={
            "from": {"role": before.role, "scope_codes": list(before.scope_codes), "staff_id": before.staff_id},
            "to": {"role": role, "scope_codes": codes, "staff_id": staff_id},
            "sessions_ended": ended,
        },
    )


def list_accounts(conn: Connection, district: str) -> pd.DataFrame:
    """Every account with its effective scope (a linked staff member's cells) and last login."""
    apply_scope(conn, Scope.whole_district(district))  # to read the linked staff members' cells
    return pd.read_sql(
        text(
            """
            SELECT a.name, a.display_name, a.role, a.disabled, a.staff_id, st.name AS staff_name,
                   CASE WHEN a.staff_id IS NOT NULL THEN coalesce(st.cell_codes, '{}') ELSE a.scope_codes END AS scope_codes,
                   a.created_at, a.password_changed_at,
                   (SELECT max(l.at) FROM login_attempt l WHERE l.account_name = a.name AND l.outcome = 'ok') AS last_login,
                   (SELECT count(*) FROM app_session s WHERE s.account_id = a.id AND s.revoked_at IS NULL
                      AND s.expires_at > clock_timestamp() AND s.last_seen_at + s.idle_timeout > clock_timestamp())
                      AS open_sessions
            FROM account a LEFT JOIN grid_staff st ON st.id = a.staff_id
            ORDER BY a.role, a.name
            """
        ),
        conn,
    )
