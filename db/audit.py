"""The audit trail of what people do (audit_event): logins, failed logins, exports, data
changes and kiosk tokens. Loads have their own rows (loaders/audit.py, load_audit).

Rows are appended, never changed: the dashboard's role may only insert and read them.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Engine, text

__all__ = ["record_event", "recent_events"]

_INSERT = text(
    "INSERT INTO audit_event (actor, action, target, address, detail) "
    "VALUES (:actor, :action, :target, :address, CAST(:detail AS jsonb)) RETURNING id"
)


def record_event(
    target: Connection | Engine,
    *,
    actor: str,
    action: str,
    subject: str | None = None,
    address: str | None = None,
    detail: dict[str, Any] | None = None,
) -> int:
    """Append one audit row; with an Engine it commits on its own.

    ``action`` is a short English verb phrase (``login``, ``login_failed``, ``export``, ...);
    ``subject`` what it acted on (a file name, a user name, a token id); ``address`` where the
    person was (client IP) when known.
    """
    params = {
        "actor": actor,
        "action": action,
        "target": subject,
        "address": address,
        "detail": json.dumps(detail or {}, ensure_ascii=False, default=str),
    }
    if isinstance(target, Engine):
        with target.begin() as conn:
            return conn.execute(_INSERT, params).scalar_one()
    return target.execute(_INSERT, params).scalar_one()


def recent_events(
    conn: Connection, *, since: dt.datetime | None = None, action: str | None = None, limit: int = 500
) -> pd.DataFrame:
    """The newest audit rows first (for the administrator's page and the management command)."""
    return pd.read_sql(
        text(
            "SELECT id, at, actor, action, target, address, detail FROM audit_event "
            "WHERE (CAST(:since AS timestamptz) IS NULL OR at >= :since) "
            "AND (CAST(:action AS text) IS NULL OR action = :action) ORDER BY at DESC, id DESC LIMIT :limit"
        ),
        conn,
        params={"since": since, "action": action, "limit": limit},
    )
