"""The user's scope: the set of region codes whose rows a user may see.

Every query function in the database package takes a :class:`Scope`. The scope is set per
transaction with ``set_config('gridrisk.scope', ..., true)``; row-level security policies
compare it with each row's stored ancestry (``region_path``), so a query that forgets a
filter still returns nothing outside the scope.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, text
from sqlalchemy.orm import Session

from db.errors import InvalidScopeError

__all__ = ["Scope", "SCOPE_SETTING", "scoped_connection", "scoped_session", "apply_scope"]

SCOPE_SETTING = "gridrisk.scope"  # custom GUC read by gridrisk_scope_codes() in the policies
# Region codes are digits in 统计用区划代码 style, but a bureau's own codes may use letters,
# dashes or underscores; never a comma, which separates codes in the setting.
_CODE = re.compile(r"^[0-9A-Za-z_-]{1,40}$")


@dataclass(frozen=True)
class Scope:
    """Region codes (any tier) a user may see: rows whose ancestry contains one of them.

    Examples
    --------
    >>> Scope.of(["340303001"]).cache_key
    '340303001'
    """

    region_codes: frozenset[str]

    def __post_init__(self) -> None:
        if not self.region_codes:
            raise InvalidScopeError("a scope needs at least one region code; an empty scope would show nothing")
        bad = sorted(code for code in self.region_codes if not isinstance(code, str) or not _CODE.match(code))
        if bad:
            raise InvalidScopeError(
                f"scope codes {bad!r} are not region codes (expected 1-40 letters, digits, '-' or '_')"
            )

    @classmethod
    def of(cls, codes: Iterable[str]) -> Scope:
        return cls(frozenset(codes))

    @classmethod
    def whole_district(cls, district_code: str) -> Scope:
        """The scope of leaders, analysts, loaders and administrators of one district."""
        return cls(frozenset({district_code}))

    @property
    def cache_key(self) -> str:
        """Stable text identifying the scope; part of every cache key of scoped results."""
        return ",".join(sorted(self.region_codes))

    @property
    def codes(self) -> list[str]:
        return sorted(self.region_codes)


def apply_scope(conn: Connection | Session, scope: Scope) -> None:
    """Set the scope for the current transaction only (``is_local`` = true)."""
    conn.execute(text("SELECT set_config(:name, :value, true)"), {"name": SCOPE_SETTING, "value": scope.cache_key})


@contextmanager
def scoped_connection(engine: Engine, scope: Scope) -> Iterator[Connection]:
    """A connection in a transaction with ``scope`` applied; commits on success."""
    with engine.begin() as conn:
        apply_scope(conn, scope)
        yield conn


@contextmanager
def scoped_session(engine: Engine, scope: Scope) -> Iterator[Session]:
    """An ORM session in a transaction with ``scope`` applied; commits on success."""
    with Session(engine) as session, session.begin():
        apply_scope(session, scope)
        yield session
