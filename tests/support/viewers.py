"""Run AppTest sessions as a given viewer without the login cookie.

For tests of what a page shows to a role or scope. The gate itself (cookie, session record,
expiry, lock-out) is tested through real logins in tests/pages/test_login_apptest.py and the
browser tests; here Home.py's ``authenticate`` and the pages' ``current_viewer`` both answer
with ``viewer``.
"""

from __future__ import annotations

from unittest import mock

from dashboard.components.session import Viewer

__all__ = ["as_viewer"]


def as_viewer(viewer: Viewer):
    """A context manager (mock.patch) under which every run is ``viewer``'s."""
    return mock.patch.multiple(
        "dashboard.components.session", authenticate=lambda: viewer, current_viewer=lambda: viewer
    )
