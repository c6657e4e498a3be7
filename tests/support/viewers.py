"""Run AppTest sessions as a given viewer without the login cookie.

For tests of what a page shows to a role or scope. The gate itself (cookie, session record,
expiry, lock-out) is tested through real logins in tests/pages/test_login_apptest.py and the
browser tests; here Home.py's ``authenticate`` and the pages' ``current_viewer`` both answer
with ``viewer``.
"""

from __future__ import annotations

from unittest import mock

from dashboard.components.session import Viewer
from db.scope import Scope

__all__ = ["ANALYST", "as_viewer"]

ANALYST = Viewer("测试分析员", "analyst", Scope.whole_district("340303"))  # the demo district's analyst


def as_viewer(viewer: Viewer):
    """A context manager (mock.patch) under which every run is ``viewer``'s."""
    return mock.patch.multiple(
        "dashboard.components.session", authenticate=lambda: viewer, current_viewer=lambda: viewer
    )
