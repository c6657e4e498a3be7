"""Who is looking: the user's scope for this session.

Accounts and login come later (their own issue); until then every session has the whole
district, taken from settings. Pages call :func:`current_scope` and nothing else, so the login
gate replaces this one function.
"""

from __future__ import annotations

from config import get_settings
from db.scope import Scope

__all__ = ["current_scope"]


def current_scope() -> Scope:
    return Scope.whole_district(get_settings().district_code)
