"""Serve the dashboard with every session an administrator, for browser tests of the
administrators' pages until accounts and login exist. A test tool only: the product's launcher
is dashboard/serve.py, and its sessions stay anonymous analysts.

    python -m tests.support.admin_app [--server.port=8600 ...]

``TEST_UPLOADS_DIR`` (optional) moves the data page's uploads out of the checkout.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from streamlit.web import cli as streamlit_cli

from config import get_settings
from dashboard.components import session
from dashboard.serve import MAIN_SCRIPT, config_flags
from db.scope import Scope
from loaders import jobs

ADMIN_NAME = "浏览器测试管理员"


def _administrator() -> session.Viewer:
    return session.Viewer(ADMIN_NAME, "admin", Scope.whole_district(get_settings().district_code))


def main() -> None:
    # Streamlit runs the pages in this process: they import the patched module from sys.modules.
    session.current_viewer = _administrator
    session.authenticate = _administrator  # Home.py's gate: every session logged in as the administrator
    if os.environ.get("TEST_UPLOADS_DIR"):
        jobs.UPLOADS_DIR = Path(os.environ["TEST_UPLOADS_DIR"])
    sys.argv = ["streamlit", "run", str(MAIN_SCRIPT), *config_flags(), *sys.argv[1:]]
    sys.exit(streamlit_cli.main())


if __name__ == "__main__":
    main()
