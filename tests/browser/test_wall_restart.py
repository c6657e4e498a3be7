"""The wall through a database restart (a throwaway cluster, never the shared one): the screen keeps
its figures with a discreet notice while the database is down, and recovers by itself when it
comes back, without reloading the page."""

import pytest
from sqlalchemy import create_engine, text

from db.kiosk import create_kiosk_token, kiosk_url
from db.migrate import grant_app_role, upgrade
from db.scope import Scope
from db.scratch import ScratchDatabase
from tests.conftest import ARTIFACTS, OfflinePage, serve_dashboard
from tests.support.fixtures_data import DISTRICT, seed_two_townships
from tests.support.server import free_port
from tests.support.throwaway import ThrowawayCluster

pytestmark = [pytest.mark.db, pytest.mark.browser]


@pytest.fixture()
def cluster_db():
    """A throwaway cluster with the project's roles, schema and the two-township district."""
    cluster = ThrowawayCluster(free_port()).init()
    cluster.start()
    try:
        root = f"postgresql+psycopg://postgres@127.0.0.1:{cluster.port}"
        superuser = create_engine(f"{root}/postgres", isolation_level="AUTOCOMMIT")
        with superuser.connect() as conn:
            conn.execute(text("CREATE ROLE wall_owner LOGIN NOSUPERUSER CREATEDB NOBYPASSRLS"))
            conn.execute(text("CREATE ROLE wall_app LOGIN NOSUPERUSER NOBYPASSRLS"))
            conn.execute(text("CREATE DATABASE wall OWNER wall_owner"))
        superuser.dispose()
        in_db = create_engine(f"{root}/wall", isolation_level="AUTOCOMMIT")
        with in_db.connect() as conn:
            conn.execute(text("CREATE EXTENSION postgis"))
            conn.execute(text("ALTER SCHEMA public OWNER TO wall_owner"))
        in_db.dispose()
        db = ScratchDatabase(
            "wall",
            f"postgresql+psycopg://wall_owner@127.0.0.1:{cluster.port}/wall",
            f"postgresql+psycopg://wall_app@127.0.0.1:{cluster.port}/wall",
        )
        upgrade(db.admin_url)
        owner = create_engine(db.admin_url)
        grant_app_role(owner, "wall_app")
        seed_two_townships(owner)
        with owner.begin() as conn:
            _, token = create_kiosk_token(conn, label="重启测试", scope=Scope.whole_district(DISTRICT), actor="test")
        owner.dispose()
        yield cluster, db, token
    finally:
        cluster.destroy()


def test_the_wall_keeps_its_figures_through_a_database_restart(cluster_db, browser):
    cluster, db, token = cluster_db
    env = {
        "GRIDRISK_DISTRICT_CODE": DISTRICT,
        "GRIDRISK_WALL__REFRESH_S": "2",
        "GRIDRISK_WALL__ROTATE_S": "30",
        "GRIDRISK_WALL__VIEWS": "district",
    }
    with serve_dashboard(db, env=env, log_name="wall_restart_server.log") as base_url:
        screen = OfflinePage(browser, viewport={"width": 1920, "height": 1080})
        try:
            page = screen.page
            page.goto(kiosk_url(base_url, token))
            enterprises = page.locator('[data-kpi="enterprises"]')
            enterprises.wait_for(state="visible", timeout=120_000)
            shown = enterprises.inner_text()
            assert shown == "3"  # the fixture's enterprises, one of them without a cell
            page.evaluate("() => { window.__samePage = true; }")
            notice = page.locator('[data-testid="wall-interrupted"]')

            cluster.stop()
            notice.wait_for(state="visible", timeout=30_000)
            assert "数据更新中断" in notice.inner_text()
            assert enterprises.inner_text() == shown  # the last good figures stay
            assert page.locator('[data-testid="wall-centre"]').is_visible()
            page.screenshot(path=str(ARTIFACTS / "wall_database_down.png"))

            cluster.start()
            notice.wait_for(state="detached", timeout=60_000)
            assert enterprises.inner_text() == shown
            assert page.evaluate("() => window.__samePage === true"), "the page was reloaded"
            assert page.locator('[data-testid="wall-status"]').inner_text().startswith("数据更新")
            assert screen.blocked == []
        finally:
            screen.close()
