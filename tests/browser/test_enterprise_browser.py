"""The enterprise file in Debian's chromium, every non-local request blocked: a table row's link
opens the file, search → file → back to the map keeps the view, a name made of HTML runs no
script, and the page at desktop and phone sizes (screenshots in test-artifacts/)."""

import pytest
from sqlalchemy import create_engine, text

from db.scope import Scope, apply_scope
from tests.conftest import ARTIFACTS
from tests.support.html_enterprise import HTML_NAME, html_named_enterprise

pytestmark = [pytest.mark.db, pytest.mark.browser]
MAP_FRAME = 'iframe[title="streamlit_folium.st_folium"]'
_POINTERS = "g => Array.from(g.querySelectorAll('*')).filter(e => getComputedStyle(e).cursor === 'pointer').length"


def _wait_for_map(page) -> None:
    page.frame_locator(MAP_FRAME).first.locator(".leaflet-container").wait_for(state="visible", timeout=90_000)


def _wait_for_risk_map(page) -> None:
    page.frame_locator(MAP_FRAME).locator('[data-testid="risk-legend"]').wait_for(state="visible", timeout=90_000)


def _title(page) -> str:
    heading = page.locator('[data-testid="stHeading"] h1').first
    heading.wait_for(state="visible", timeout=90_000)
    return heading.inner_text()


def _first_link(page, grid) -> tuple[float, float]:
    """Where the first row's link is drawn. The grid is a canvas: move along the first row until
    the grid shows the pointer it shows over a link (it follows a link only when hovered)."""
    box = grid.bounding_box()
    y = box["y"] + 35 + 17  # below the header row, in the middle of the first row (35 px each)
    page.mouse.move(box["x"] + 4, y)
    plain = grid.evaluate(_POINTERS)
    for dx in range(10, int(box["width"]), 12):
        page.mouse.move(box["x"] + dx, y)
        if grid.evaluate(_POINTERS) > plain:
            return box["x"] + dx + 6, y
    raise AssertionError("no link drawn in the table's first row")


def test_a_table_rows_link_opens_the_file(app_server, analyst_page):
    page = analyst_page.page
    page.set_viewport_size({"width": 1600, "height": 1400})
    page.goto(app_server, wait_until="domcontentloaded")
    _wait_for_risk_map(page)
    page.get_by_role("tab", name="企业列表").click()
    grid = page.locator('[role="tabpanel"]:visible [data-testid="stDataFrame"]')
    grid.scroll_into_view_if_needed()
    first_link = grid.locator('[role="gridcell"]').nth(1)  # row 1, column 统一社会信用代码 (a11y mirror)
    first_link.wait_for(state="attached", timeout=60_000)
    uscc = first_link.inner_text().rsplit("uscc=", 1)[1]
    x, y = _first_link(page, grid)
    with analyst_page.context.expect_page(timeout=30_000) as opened:
        page.mouse.click(x, y, delay=150)
    file_page = opened.value
    file_page.wait_for_load_state("domcontentloaded")
    assert file_page.url.endswith(f"/enterprise?uscc={uscc}")
    _title(file_page)
    file_page.get_by_text("隐患闭环").wait_for(timeout=60_000)
    facts = "\n".join(file_page.locator('[data-testid="stMarkdown"]').all_inner_texts())
    assert f"统一社会信用代码：{uscc}" in facts
    _wait_for_risk_map(page)  # the map tab stays where it was
    assert analyst_page.blocked == []


def test_search_opens_the_file_and_back_returns_to_the_same_view(app_server, analyst_page):
    page = analyst_page.page
    page.set_viewport_size({"width": 1600, "height": 1000})
    page.goto(f"{app_server}/?region=340303001&hstate=open", wait_until="domcontentloaded")
    _wait_for_risk_map(page)
    box = page.locator('[data-testid="stSidebar"] input[aria-label="查找企业"]')
    box.fill("科信")
    box.press("Enter")
    link = page.locator('[data-testid="stSidebar"] [data-testid="stPageLink"] a').first
    link.wait_for(timeout=60_000)
    name = link.inner_text().strip().split("\n")[-1]
    link.click()
    page.wait_for_url("**/enterprise?uscc=*", timeout=60_000)
    page.wait_for_function(
        "(name) => Array.from(document.querySelectorAll('h1')).some(h => h.textContent.includes(name))",
        arg=name,
        timeout=60_000,
    )
    _wait_for_map(page)
    page.go_back()
    page.wait_for_url("**/?region=340303001&hstate=open", timeout=60_000)
    page.wait_for_function(
        """() => { var f = document.querySelector('iframe[title="streamlit_folium.st_folium"]');
                   var t = f && f.contentDocument && f.contentDocument.querySelector('[data-testid="risk-legend"] .gr-title');
                   return t && t.textContent === "社区/村风险等级"; }""",
        timeout=60_000,
    )
    assert page.get_by_role("button", name="天桥街道").is_disabled()  # still drilled into the street
    radio = page.locator('[data-testid="stRadio"]', has_text="隐患状态")
    assert radio.get_by_role("radio", name="未整改", exact=True).is_checked()
    assert "hstate=open" in page.url  # the filters did not reset
    assert analyst_page.blocked == []


def test_a_name_made_of_html_runs_no_script(app_server, analyst_page, live_db):
    page = analyst_page.page
    with html_named_enterprise(live_db.admin_url) as firm:
        page.goto(f"{app_server}/enterprise?uscc={firm['uscc']}", wait_until="domcontentloaded")
        title = _title(page)
        _wait_for_map(page)
        tooltip = page.frame_locator(MAP_FRAME).locator(".leaflet-tooltip .gr-ent-tip")
        tooltip.wait_for(state="visible", timeout=60_000)
        shown_in_map = tooltip.inner_text()
        pwned_page = page.evaluate("() => window.__pwned === undefined")
        frame = page.locator(MAP_FRAME).element_handle().content_frame()
        pwned_map = frame.evaluate("() => window.__pwned === undefined")
        injected = page.locator("h1 img, h1 script, h1 a, [data-testid='stMarkdown'] a[href^='javascript']").count()
    assert title == HTML_NAME  # shown as the text it is
    assert shown_in_map == HTML_NAME
    assert pwned_page and pwned_map, "a script from the name ran"
    assert injected == 0
    assert analyst_page.blocked == []


def _enterprise_with_overdue_hazards(live_db) -> str:
    engine = create_engine(live_db.admin_url)
    with engine.begin() as conn:
        apply_scope(conn, Scope.whole_district("340303"))
        uscc = conn.execute(
            text(
                "SELECT e.uscc FROM enterprise e JOIN hazard h ON h.enterprise_id = e.id "
                "WHERE h.rectified_date IS NULL AND h.deadline_date < current_date AND e.grade_source = 'LEC' "
                "AND EXISTS (SELECT 1 FROM inspection i WHERE i.enterprise_id = e.id) "
                "GROUP BY e.uscc ORDER BY count(*) DESC, e.uscc LIMIT 1"
            )
        ).scalar_one()
    engine.dispose()
    return uscc


@pytest.mark.parametrize(("width", "height"), [(1600, 1000), (390, 844)])
def test_screenshot_the_file(app_server, analyst_page, live_db, width, height):
    page = analyst_page.page
    page.set_viewport_size({"width": width, "height": height})
    uscc = _enterprise_with_overdue_hazards(live_db)
    page.goto(f"{app_server}/enterprise?uscc={uscc}", wait_until="domcontentloaded")
    _title(page)
    _wait_for_map(page)
    page.get_by_text("逾期未整改").first.wait_for(timeout=60_000)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"enterprise_file_{width}x{height}.png"))
    page.screenshot(path=str(ARTIFACTS / f"enterprise_file_{width}x{height}_full.png"), full_page=True)
    assert analyst_page.blocked == []
