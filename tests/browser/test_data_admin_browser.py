"""The data administration page in Debian's chromium: an administrator uploads a small file and
sees the progress, then the summary and the rejected row; an analyst who types /admin does not
get the page. Every wait is for an element, never a fixed time."""

from pathlib import Path

import pandas as pd
import pytest
from playwright.sync_api import expect

from config import get_settings
from tests.conftest import ARTIFACTS, OfflinePage, serve_dashboard

pytestmark = [pytest.mark.db, pytest.mark.browser]
ROOT = Path(__file__).resolve().parents[2]
LOAD_TIMEOUT_MS = 120_000


@pytest.fixture(scope="module")
def admin_server(live_db, tmp_path_factory):
    """The dashboard with every session an administrator (tests/support/admin_app.py)."""
    uploads = tmp_path_factory.mktemp("uploads")
    with serve_dashboard(
        live_db,
        env={"PYTHONPATH": str(ROOT), "TEST_UPLOADS_DIR": str(uploads)},
        log_name="admin_server.log",
        launcher="tests.support.admin_app",
    ) as base_url:
        yield base_url


@pytest.fixture()
def small_list(tmp_path) -> Path:
    """Five rows of today's demo enterprise list (the database holds them) and one bad row."""
    from loaders.demo import DEMO_OUTPUT, demo_grid_path, write_demo_enterprises

    today = get_settings().today()
    source = DEMO_OUTPUT / f"企业名单_蚌山区_{today:%Y%m%d}.csv"
    if not source.exists():
        _, source, _ = write_demo_enterprises(demo_grid_path(), tmp_path, today=today)
    table = pd.read_csv(source, dtype=str, keep_default_na=False, encoding="utf-8-sig", nrows=6)
    table.loc[5, "统一社会信用代码"] = "不是信用代码"
    path = tmp_path / "企业名单_浏览器测试.csv"
    table.to_csv(path, index=False, encoding="utf-8-sig")
    return path


@pytest.fixture()
def admin_page(browser):
    page = OfflinePage(browser, viewport={"width": 1400, "height": 1100})
    yield page
    page.close()


def test_an_administrator_uploads_a_file_and_sees_progress_then_the_summary(admin_server, admin_page, small_list):
    page = admin_page.page
    # Through the sidebar, as a person would: the first session after a server start that
    # opens /admin directly gets Streamlit's "Page not found" notice over the page (the server
    # learns the page list from the first run of Home.py).
    page.goto(admin_server, wait_until="domcontentloaded")
    page.get_by_role("link", name="数据管理").click(timeout=60_000)
    page.get_by_role("heading", name="数据管理").first.wait_for(timeout=60_000)
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').first.set_input_files(small_list)
    page.locator('[data-testid="stFileChipName"]', has_text=small_list.name).wait_for()
    page.locator('[data-testid="stFileChipIconSpinner"]').wait_for(state="detached")  # upload done
    page.get_by_role("button", name="开始载入").click()

    progress = page.locator('[data-testid="stProgress"]')
    progress.wait_for(timeout=30_000)
    assert f"正在载入企业名单 {small_list.name}" in page.locator("main").inner_text()
    page.screenshot(path=str(ARTIFACTS / "data_admin_progress.png"), full_page=True)

    outcome = page.get_by_text(f"已载入（部分行被拒绝）：{small_list.name}")
    outcome.wait_for(timeout=LOAD_TIMEOUT_MS)
    page.get_by_text("被拒绝的行（1）").wait_for()  # drawn after the figures
    page.locator('[data-testid="stApp"][data-test-script-state="notRunning"]').wait_for()
    expect(page.locator('[data-testid="stMetric"]')).to_have_count(6)
    assert progress.count() == 0
    figures = {
        m.locator('[data-testid="stMetricLabel"]').inner_text(): m.locator('[data-testid="stMetricValue"]').inner_text()
        for m in page.locator('[data-testid="stMetric"]').all()
    }
    assert set(figures) == {"行数", "新增", "更新", "未变", "拒绝", "警告"}, figures
    assert [figures[k] for k in ("行数", "新增", "拒绝", "警告")] == ["6", "0", "1", "0"], figures
    assert int(figures["更新"]) + int(figures["未变"]) == 5, figures
    page.get_by_role("button", name="下载拒绝行原文（改正后可直接重新上传）").wait_for()
    page.screenshot(path=str(ARTIFACTS / "data_admin_summary.png"), full_page=True)
    assert admin_page.blocked == []
    # A new session (reload) still has the load in its history (its grid is a canvas: the
    # AppTest checks the rows).
    page.reload(wait_until="domcontentloaded")
    page.get_by_role("heading", name="载入记录").wait_for(timeout=60_000)
    page.locator('[data-testid="stDataFrame"] >> visible=true').last.wait_for()  # tabs hide the others
    page.screenshot(path=str(ARTIFACTS / "data_admin_history.png"), full_page=True)


def test_an_analyst_who_types_the_admin_address_gets_no_data_page(app_server, analyst_page):
    page = analyst_page.page
    page.goto(f"{app_server}/admin", wait_until="domcontentloaded")
    page.get_by_text("无权访问「数据管理」").first.wait_for(timeout=90_000)
    assert page.get_by_role("heading", name="数据管理").count() == 0
    assert page.locator('[data-testid="stFileUploader"]').count() == 0
