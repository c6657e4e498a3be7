"""Kiosk tokens: read-only links that open the wall screen (大屏) without a login.

A token is 256 random bits (URL-safe text); only its SHA-256 is stored (table ``kiosk_token``).
The owner role creates, lists and revokes tokens (``python -m manage kiosk``), each change with
an audit row in the same transaction. The dashboard's role cannot read the table: it checks a
token with :func:`check_kiosk_token`, which calls the SECURITY DEFINER function
``gridrisk_kiosk_check`` (migration 0011k) — that also records the token's last use.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlencode

import pandas as pd
from sqlalchemy import Connection, text

from db.audit import record_event
from db.errors import KioskTokenError
from db.scope import Scope

__all__ = [
    "KioskCheck",
    "new_token",
    "token_digest",
    "looks_like_token",
    "kiosk_url",
    "create_kiosk_token",
    "revoke_kiosk_token",
    "list_kiosk_tokens",
    "check_kiosk_token",
    "KIOSK_PARAM",
]

TOKEN_BYTES = 32  # 256 bits: guessing is hopeless, so one unsalted SHA-256 is enough to store it
KIOSK_PARAM = "kiosk"  # the URL's query parameter carrying the token
# Streamlit's embed mode hides its header, toolbar and menu; dark_theme matches the wall's
# colours; hide_loading_screen keeps the skeleton off a screen nobody is watching load.
EMBED_OPTIONS = ("dark_theme", "hide_loading_screen", "disable_scrolling")
_TOKEN_TEXT = re.compile(r"^[A-Za-z0-9_-]{32,128}$")


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_digest(token: str) -> str:
    """Hex SHA-256 of the token's UTF-8 bytes, as ``gridrisk_kiosk_check`` computes it."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def looks_like_token(token: str | None) -> bool:
    """Whether ``token`` has the form of a token (checked before any query)."""
    return bool(token) and bool(_TOKEN_TEXT.match(token))


def kiosk_url(public_url: str, token: str) -> str:
    """The wall screen's address with the token and Streamlit's embed options.

    The app's root: a kiosk's only page is the wall, so it is the kiosk's default page there.
    (Opened at /wall, the first run of a fresh session behind st.App reports "page not found"
    over the screen before falling back to the same page.)"""
    query = urlencode([(KIOSK_PARAM, token), ("embed", "true"), *(("embed_options", o) for o in EMBED_OPTIONS)])
    return f"{public_url.rstrip('/')}/?{query}"


def _unknown_codes(conn: Connection, codes: list[str]) -> list[str]:
    known = conn.execute(
        text(
            "SELECT u.code FROM region_unit u JOIN boundary_set s ON s.id = u.boundary_set_id AND s.is_current "
            "WHERE u.code = ANY(:codes)"
        ),
        {"codes": codes},
    ).scalars()
    return sorted(set(codes) - set(known))


def create_kiosk_token(conn: Connection, *, label: str, scope: Scope, actor: str) -> tuple[int, str]:
    """Store a new token for ``scope`` and return ``(id, token)``; the token is never stored or
    shown again. Raises :class:`KioskTokenError` for an empty label or a scope code that is not
    a current region unit."""
    label = label.strip()
    if not label:
        raise KioskTokenError("a kiosk token needs a label saying where the screen is, e.g. --label 指挥中心")
    unknown = _unknown_codes(conn, scope.codes)
    if unknown:
        raise KioskTokenError(
            f"scope codes {unknown!r} are not units of the current grid; "
            "use a district, township, village or cell code (python -m loaders status lists the tiers)"
        )
    token = new_token()
    token_id = conn.execute(
        text(
            "INSERT INTO kiosk_token (label, token_sha256, scope_codes, created_by) "
            "VALUES (:label, :digest, :scope, :actor) RETURNING id"
        ),
        {"label": label, "digest": token_digest(token), "scope": scope.codes, "actor": actor},
    ).scalar_one()
    record_event(
        conn,
        actor=actor,
        action="kiosk_create",
        subject=f"kiosk:{token_id}",
        detail={"label": label, "scope": scope.codes},
    )
    return token_id, token


def revoke_kiosk_token(conn: Connection, token_id: int, *, actor: str) -> str:
    """Revoke a token (screens showing it refuse at their next refresh); returns its label.
    Raises :class:`KioskTokenError` when no such token exists or it is already revoked."""
    row = conn.execute(
        text(
            "UPDATE kiosk_token SET revoked_at = now(), revoked_by = :actor "
            "WHERE id = :id AND revoked_at IS NULL RETURNING label"
        ),
        {"id": token_id, "actor": actor},
    ).one_or_none()
    if row is None:
        exists = conn.execute(text("SELECT 1 FROM kiosk_token WHERE id = :id"), {"id": token_id}).scalar()
        raise KioskTokenError(
            f"kiosk token {token_id} is already revoked"
            if exists
            else f"no kiosk token has id {token_id} (python -m manage kiosk list shows them)"
        )
    record_event(conn, actor=actor, action="kiosk_revoke", subject=f"kiosk:{token_id}", detail={"label": row.label})
    return row.label


def list_kiosk_tokens(conn: Connection) -> pd.DataFrame:
    """Every token (never its hash), newest first."""
    return pd.read_sql(
        text(
            "SELECT id, label, scope_codes, created_at, created_by, last_used_at, revoked_at, revoked_by "
            "FROM kiosk_token ORDER BY id DESC"
        ),
        conn,
    )


@dataclass(frozen=True)
class KioskCheck:
    """What a token opens: ``status`` valid (with ``token_id``, ``label`` and ``scope``),
    revoked (with ``token_id``) or unknown."""

    status: Literal["valid", "revoked", "unknown"]
    token_id: int | None = None
    label: str | None = None
    scope: Scope | None = None


def check_kiosk_token(conn: Connection, token: str | None) -> KioskCheck:
    """Check a token with the least privilege (``gridrisk_kiosk_check``), noting its use."""
    if not looks_like_token(token):
        return KioskCheck("unknown")
    row = conn.execute(
        text("SELECT token_id, label, scope_codes, revoked FROM gridrisk_kiosk_check(:token)"), {"token": token}
    ).one_or_none()
    if row is None:
        return KioskCheck("unknown")
    if row.revoked:
        return KioskCheck("revoked", token_id=row.token_id)
    return KioskCheck("valid", token_id=row.token_id, label=row.label, scope=Scope.of(row.scope_codes))
