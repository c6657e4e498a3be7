"""The shared tables on the risk map under AppTest: the first load carries one page of rows, not
the district's 20,004 enterprises; paging and sorting act on every row; a download is made on
request, holds the rows on screen, and leaves an audit row; leaders get no download."""

import io
import json
from pathlib import Path
from unittest import mock

import pandas as pd
import pytest
from python_calamine import CalamineWorkbook
from sqlalchemy import create_engine, text
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.testing.v1 import AppTest

from dashboard.components.session import Viewer
from dashboard.components.tables import PAGE_SIZE
from db.scope import Scope
from tests.support.maps import choose_map_tab, fake_maps
from tests.support.viewers import as_viewer

# Every run is a whole-district analyst's unless a test says otherwise (the login itself is
# tested in test_login_apptest.py).
pytestmark = [pytest.mark.db, pytest.mark.usefixtures("as_analyst")]


HOME = str(Path(__file__).resolve().parents[2] / "dashboard" / "Home.py")
DISTRICT = "340303"
# Before paging the district view sent ≈3.4 MB of table rows; one page of each table is a
# few tens of kilobytes.
MAX_TABLE_BYTES = 120_000


@pytest.fixture()
def quiet_map():
    with fake_maps(lambda text, kwargs: {}):
        yield


class Downloads:
    """Records each deferred download's callable by file name instead of serving it."""

    def __init__(self):
        self.by_name: dict[str, object] = {}

    def add_deferred(self, manager, data_callable, mimetype, coordinates, file_name=None, **kwargs):
        self.by_name[file_name] = data_callable
        return f"deferred-{len(self.by_name)}"


@pytest.fixture()
def downloads():
    recorder = Downloads()
    with mock.patch.object(MediaFileManager, "add_deferred", autospec=True, side_effect=recorder.add_deferred):
        yield recorder


def _enterprise_grid(at: AppTest) -> pd.DataFrame:
    return next(df.value for df in at.dataframe if "逾期隐患" in df.value.columns and "企业名称" in df.value.columns)


def _uscc(url: str) -> str:
    return url.rsplit("uscc=", 1)[1]


def _open_tab(at: AppTest, label: str) -> AppTest:
    choose_map_tab(at, label)
    at.run()
    assert not at.exception
    return at


def _enterprise_list() -> AppTest:
    return _open_tab(AppTest.from_file(HOME, default_timeout=180), "企业列表")


def test_each_table_carries_one_page_of_rows_and_only_when_its_tab_is_open(app_env, quiet_map):
    at = AppTest.from_file(HOME, default_timeout=180).run()
    assert not at.exception
    assert not any("逾期隐患" in df.value.columns for df in at.dataframe), "the lists wait for their tabs"
    for tab in ("逾期清单", "企业列表"):
        _open_tab(at, tab)
        sizes = [len(df.proto.arrow_data.data) for df in at.dataframe]
        assert all(len(df.value) <= PAGE_SIZE for df in at.dataframe)
        assert max(sizes) < MAX_TABLE_BYTES and sum(sizes) < 2 * MAX_TABLE_BYTES
    grid = _enterprise_grid(at)
    assert len(grid) == PAGE_SIZE
    assert any(c.value.startswith("共 20,004 行") for c in at.caption)
    assert grid["统一社会信用代码"].str.startswith("/enterprise?uscc=").all()  # each row links to its file


def test_paging_and_sorting_act_on_every_row(app_env, quiet_map):
    at = _enterprise_list()
    first = _enterprise_grid(at)
    red = int(next(m.value for m in at.metric if m.label == "重大/较大风险企业").split("/")[0])
    # Sorted by grade (重大 first) over all 20,004 rows, not only the page shown.
    assert first["风险等级"].cat.codes.is_monotonic_increasing
    assert (first["风险等级"] == "重大风险").sum() == min(red, PAGE_SIZE)
    at.button(key="tbl_enterprises_next").click().run()
    second = _enterprise_grid(at)
    assert at.number_input(key="tbl_enterprises_page").value == 2
    assert not set(second["统一社会信用代码"]) & set(first["统一社会信用代码"])
    at.selectbox(key="tbl_enterprises_sort").set_value("逾期隐患").run()
    at.toggle(key="tbl_enterprises_desc").set_value(True).run()
    assert at.number_input(key="tbl_enterprises_page").value == 1  # a new order starts at page 1
    top = _enterprise_grid(at)
    engine = create_engine(app_env.admin_url)
    with engine.begin() as conn:
        conn.execute(text("SELECT set_config('gridrisk.scope', :d, true)"), {"d": DISTRICT})
        most = conn.execute(
            text(
                "SELECT max(n) FROM (SELECT count(*) AS n FROM hazard WHERE rectified_date IS NULL "
                "AND deadline_date < :today GROUP BY enterprise_id) c"
            ),
            {"today": pd.Timestamp.now(tz="Asia/Shanghai").date()},
        ).scalar_one()
    engine.dispose()
    assert top["逾期隐患"].iloc[0] == most


def test_the_excel_download_holds_the_rows_on_screen_and_is_audited(app_env, quiet_map, downloads):
    at = _enterprise_list()
    grid = _enterprise_grid(at)
    name = next(n for n in downloads.by_name if n.startswith("企业列表_") and n.endswith(".xlsx"))
    body = downloads.by_name[name]()
    sheet = CalamineWorkbook.from_filelike(io.BytesIO(body)).get_sheet_by_index(0).to_python()
    assert sheet[0][0] == "企业列表" and "蚌山区" in sheet[1][0] and "导出行数：20004" in sheet[2][0]
    assert sheet[4] == list(grid.columns)
    rows = pd.DataFrame(sheet[5 : 5 + len(grid)], columns=sheet[4])
    assert rows["统一社会信用代码"].tolist() == grid["统一社会信用代码"].map(_uscc).tolist()
    assert rows["企业名称"].tolist() == grid["企业名称"].tolist()
    assert rows["未整改隐患"].tolist() == grid["未整改隐患"].astype(float).tolist()  # numbers stay numbers
    assert len(sheet) == 5 + 20_004
    engine = create_engine(app_env.admin_url)
    with engine.connect() as conn:
        audit = conn.execute(
            text("SELECT actor, target, detail FROM audit_event WHERE action = 'export' ORDER BY id DESC LIMIT 1")
        ).one()
    engine.dispose()
    detail = audit.detail if isinstance(audit.detail, dict) else json.loads(audit.detail)
    assert audit.target == name and detail["rows"] == 20_004 and detail["table"] == "企业列表"
    assert detail["format"] == "xlsx" and "蚌山区" in detail["filters"]


def test_a_csv_download_starts_with_a_bom(app_env, quiet_map, downloads):
    _open_tab(AppTest.from_file(HOME, default_timeout=180), "逾期清单")
    name = next(n for n in downloads.by_name if n.startswith("逾期隐患_") and n.endswith(".csv"))
    body = downloads.by_name[name]()
    assert body.startswith(b"\xef\xbb\xbf")
    back = pd.read_csv(io.BytesIO(body), encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert back.columns[:3].tolist() == ["企业名称", "统一社会信用代码", "隐患编号"]
    assert back["逾期天数"].astype(int).gt(0).all()


def test_leaders_get_no_downloads(app_env, quiet_map, downloads):
    leader = Viewer(name="领导", role="leader", scope=Scope.whole_district(DISTRICT))
    with as_viewer(leader):
        at = _enterprise_list()
    assert downloads.by_name == {}
    assert any(c.value == "当前账号无导出权限。" for c in at.caption)
