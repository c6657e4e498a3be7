"""Shared fixtures.

Two database layers (STYLE.md "Tests"):
- ``db_conn``: the owner's connection in a transaction rolled back after each test (fast);
- ``live_db``: a test database created and dropped per test session, with committed data, for
  tests that need another process (the app server, the CLI, a killed loader).
Both live in their own database on the managed cluster (or DATABASE_ADMIN_URL's server), never
the demo's. With CI=true a skipped test is a failure: a missing PostGIS or browser in CI is a
set-up bug, not a reason to skip.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

import pytest
from sqlalchemy import Engine, create_engine

from config import get_settings
from db.scratch import ScratchDatabase, create_scratch_database, drop_scratch_database
from tests.support.chromium import CHROMIUM, CHROMIUM_ARGS
from tests.support.server import streamlit_process

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
IN_CI = os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    if IN_CI and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped under CI=true, which counts as a failure: {report.longrepr}"


# ---------------------------------------------------------------- database


@pytest.fixture(scope="session")
def test_db() -> Iterator[ScratchDatabase]:
    settings = get_settings()
    if not (settings.database_admin_url and settings.database_url):
        pytest.skip("no PostGIS: run 'make db-start' or set DATABASE_URL and DATABASE_ADMIN_URL")
    db = create_scratch_database(settings.database_admin_url, settings.database_url)
    yield db
    drop_scratch_database(db)


@pytest.fixture(scope="session")
def admin_engine(test_db: ScratchDatabase) -> Iterator[Engine]:
    engine = create_engine(test_db.admin_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def app_engine(test_db: ScratchDatabase) -> Iterator[Engine]:
    from db.engine import create_app_engine

    engine = create_app_engine(test_db.app_url)
    yield engine
    engine.dispose()


@pytest.fixture()
def db_conn(admin_engine: Engine):
    """The owner's connection in a transaction rolled back after the test."""
    with admin_engine.connect() as conn:
        transaction = conn.begin()
        yield conn
        transaction.rollback()


@pytest.fixture(scope="session")
def live_db(test_db: ScratchDatabase, admin_engine: Engine) -> ScratchDatabase:
    """The test database with committed data: the demo outline and the two-township fixture."""
    from loaders.demo import load_demo
    from tests.support.fixtures_data import seed_two_townships

    load_demo(admin_engine)
    seed_two_townships(admin_engine)
    return test_db


@pytest.fixture(scope="module")
def neighbours(live_db: ScratchDatabase, admin_engine: Engine):
    """Two grid officers of neighbouring cells in the live demo, with their cells and
    enterprises (tests/support/accounts.py): the pair every isolation test uses. Per module:
    other tests reload the live roster, and each module needs the pair's staff rows back."""
    from tests.support.accounts import neighbouring_officers

    del live_db  # their accounts and cells are the live demo's
    return neighbouring_officers(admin_engine)


@pytest.fixture()
def app_env(live_db: ScratchDatabase, monkeypatch: pytest.MonkeyPatch) -> Iterator[ScratchDatabase]:
    """Point settings (and Streamlit's caches) at the live test database for in-process pages."""
    import streamlit as st

    monkeypatch.setenv("DATABASE_URL", live_db.app_url)
    monkeypatch.setenv("DATABASE_ADMIN_URL", live_db.admin_url)
    get_settings.cache_clear()
    st.cache_resource.clear()
    st.cache_data.clear()
    yield live_db
    from dashboard.components.data import app_engine

    app_engine().dispose()  # its connections would block dropping the test database
    get_settings.cache_clear()
    st.cache_resource.clear()
    st.cache_data.clear()


# ---------------------------------------------------------------- app server and browser


@contextmanager
def serve_dashboard(
    db: ScratchDatabase,
    *,
    env: dict[str, str] | None = None,
    log_name: str = "app_server.log",
    launcher: str = "dashboard.serve",
):
    """The dashboard served by ``launcher`` (the real one unless a test needs its own) against
    ``db``, with extra environment."""
    full_env = {**os.environ, "DATABASE_URL": db.app_url, "DATABASE_ADMIN_URL": db.admin_url, **(env or {})}
    ARTIFACTS.mkdir(exist_ok=True)
    with streamlit_process(
        [sys.executable, "-m", launcher], env=full_env, log=ARTIFACTS / log_name, cwd=ROOT
    ) as base_url:
        yield base_url


@pytest.fixture(scope="session")
def app_server(live_db: ScratchDatabase) -> Iterator[str]:
    """The dashboard served by the real launcher against the live test database. It trusts
    X-Forwarded-For, so a lock-out test can come from an address of its own."""
    with serve_dashboard(live_db, env={"GRIDRISK_AUTH__TRUST_FORWARDED_FOR": "true"}) as base_url:
        yield base_url


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (make test installs it when root)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
        )
        yield browser
        browser.close()


class OfflinePage:
    """A page whose every request to a host other than localhost is blocked and recorded."""

    LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}

    def __init__(self, browser, *, viewport: dict[str, int]):
        self.blocked: list[str] = []
        self.context = browser.new_context(viewport=viewport, locale="zh-CN", timezone_id="Asia/Shanghai")
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()

    def _route(self, route) -> None:
        url = route.request.url
        host = urlparse(url).hostname or ""
        if url.startswith(("data:", "blob:", "about:")) or host in self.LOCAL_HOSTS:
            route.continue_()
        else:
            self.blocked.append(url)
            route.abort("blockedbyclient")

    def close(self) -> None:
        self.context.close()


@pytest.fixture()
def offline_page(browser) -> Iterator[OfflinePage]:
    page = OfflinePage(browser, viewport={"width": 1600, "height": 1000})
    yield page
    page.close()


# ---------------------------------------------------------------- logged-in sessions


def log_in(context, base_url: str, name: str, password: str) -> None:
    """Log a browser context in through the login endpoint (its cookie jar keeps the cookie)."""
    response = context.request.post(
        f"{base_url}/auth/login", form={"account": name, "password": password, "next": "/"}, max_redirects=0
    )
    assert response.status == 303 and "login_error" not in response.headers["location"], response.headers
    assert any(c["name"] == get_settings().auth.cookie_name for c in context.cookies()), "no session cookie"


@pytest.fixture()
def as_analyst():
    """AppTest runs as the demo district's analyst, without the login cookie (tests/support/viewers.py)."""
    from tests.support.viewers import ANALYST, as_viewer

    with as_viewer(ANALYST):
        yield


@pytest.fixture()
def analyst_page(app_server, offline_page) -> OfflinePage:
    """An offline page whose browser is logged in as the demo's analyst (the whole district)."""
    from tests.support.accounts import DEMO

    log_in(offline_page.context, app_server, DEMO["analyst"].name, DEMO["analyst"].password)
    return offline_page


class AppTestCookies:
    """The cookies AppTest sessions send (AppTest cannot set any): ``login(name, password)``
    logs in through the dashboard's role and sends the signed session cookie with every
    following run; ``send(value)`` sends any value (a tampered cookie), ``None`` none."""

    def __init__(self, app_url: str) -> None:
        self.app_url = app_url
        self.sent: dict[str, str] = {}

    def login(self, name: str, password: str) -> str:
        from tests.support.accounts import session_cookie

        return self.send(session_cookie(self.app_url, name, password))

    def send(self, value: str | None) -> str | None:
        self.sent.clear()
        if value is not None:
            self.sent[get_settings().auth.cookie_name] = value
        return value


@pytest.fixture()
def cookies(app_env: ScratchDatabase, monkeypatch: pytest.MonkeyPatch) -> AppTestCookies:
    jar = AppTestCookies(app_env.app_url)
    monkeypatch.setattr("dashboard.components.session._request_cookies", lambda: dict(jar.sent))
    return jar


@pytest.fixture()
def analyst(cookies: AppTestCookies) -> AppTestCookies:
    """AppTest sessions logged in as the demo's analyst (the whole district, with exports)."""
    from tests.support.accounts import DEMO

    cookies.login(DEMO["analyst"].name, DEMO["analyst"].password)
    return cookies
