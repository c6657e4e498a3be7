"""The data administration page under AppTest: only administrators reach it, and an upload made
through it reports exactly what the loader command reports for the same file."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import create_engine, text
from streamlit.testing.v1 import AppTest

from config import get_settings
from dashboard.components.session import Viewer
from db.scope import Scope
from tests.support.viewers import ANALYST, as_viewer

pytestmark = pytest.mark.db
ROOT = Path(__file__).resolve().parents[2]
HOME = str(ROOT / "dashboard" / "Home.py")
PAGE = str(ROOT / "dashboard" / "pages" / "data_admin.py")
DISTRICT = "340303"
ADMIN = Viewer("测试管理员", "admin", Scope.whole_district(DISTRICT))
LOAD_TIMEOUT_S = 180


@pytest.fixture()
def as_admin():
    with as_viewer(ADMIN):
        yield ADMIN


@pytest.fixture()
def uploads(app_env, tmp_path, monkeypatch):
    """Uploads go to the test's own directory (the registry is made anew: app_env clears it)."""
    monkeypatch.setattr("loaders.jobs.UPLOADS_DIR", tmp_path / "uploads")
    return tmp_path / "uploads"


def _admin_page() -> AppTest:
    at = AppTest.from_file(HOME, default_timeout=120)
    at.switch_page("pages/data_admin.py").run()
    assert not at.exception
    return at


def _upload(at: AppTest, kind: str, name: str, data: bytes) -> None:
    if kind != "enterprises":
        at.segmented_control(key="adm_kind").set_value(kind).run()
    at.file_uploader(key=f"adm_file_{kind}").set_value((name, data, "application/octet-stream"))
    next(b for b in at.button if b.label == "开始载入").click().run()
    assert not at.exception


def _wait_for_outcome(at: AppTest) -> None:
    """Rerun (as the page's fragment does each second) until the load has ended."""
    deadline = time.monotonic() + LOAD_TIMEOUT_S
    while any(el.type == "progress" for el in at.get("progress")) or not (at.success or at.warning or at.error):
        assert time.monotonic() < deadline, "the load did not end in time"
        time.sleep(0.5)
        at.run()
        assert not at.exception


def _metrics(at: AppTest) -> dict[str, int]:
    return {m.label: int(m.value.replace(",", "")) for m in at.metric}


def _table(at: AppTest, column: str) -> pd.DataFrame:
    return next(d.value for d in at.dataframe if column in d.value.columns)


# ------------------------------------------------------------------------------ who may open it


def test_an_analyst_is_not_offered_the_page_and_cannot_switch_to_it(app_env):
    with as_viewer(ANALYST):
        at = AppTest.from_file(HOME, default_timeout=120).run()
        assert not at.exception
        # AppTest switches only to page scripts Home.py registered for this viewer; the gate puts
        # a "无权访问" page (tests/pages/test_login_apptest.py) under the admin URL instead.
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            at.switch_page("pages/data_admin.py")


def test_the_page_itself_refuses_a_non_administrator(app_env):
    with as_viewer(ANALYST):
        at = AppTest.from_file(PAGE, default_timeout=60).run()
    assert [e.value for e in at.error] == ["只有管理员可以打开数据管理页面。"]
    assert not at.file_uploader and not at.title


def test_an_administrator_opens_it_with_its_three_sections(app_env, as_admin, uploads):
    at = _admin_page()
    assert at.title[0].value == "数据管理"
    assert [t.label for t in at.tabs] == ["数据载入", "账号管理", "大屏链接"]
    assert at.file_uploader(key="adm_file_enterprises").allowed_type == [".csv", ".xlsx", ".xls"]
    assert any("账号" in df.value.columns for df in at.dataframe), "the accounts are listed"
    assert not at.error


def _submit(at: AppTest, label: str) -> None:
    next(b for b in at.button if b.label == label).click().run()


def test_an_administrator_manages_accounts_and_kiosk_links_and_each_action_is_audited(app_env, as_admin, uploads):
    from db.kiosk import check_kiosk_token

    at = _admin_page()
    name = f"page-user-{time.time_ns() % 10**8}"
    at.text_input(key="adm_user_name").input(name)
    at.text_input(key="adm_user_display").input("页面测试")
    at.selectbox(key="adm_user_role").set_value("analyst")
    at.text_input(key="adm_user_password").input("short")
    _submit(at, "添加")
    assert at.error and "10" in at.error[0].value, "a weak password is refused, saying why"
    at.text_input(key="adm_user_name").input(name)
    at.selectbox(key="adm_user_role").set_value("analyst")
    at.text_input(key="adm_user_password").input("Huaihe-river-2026!")
    _submit(at, "添加")
    assert any(name in s.value for s in at.success)
    at.selectbox(key="adm_change_name").set_value(name)
    at.radio(key="adm_change_action").set_value("disable")
    _submit(at, "执行")
    assert any("停用账号" in s.value for s in at.success)

    at.text_input(key="adm_kiosk_label").input("页面测试大屏")
    _submit(at, "创建")
    (link,) = [c.value for c in at.code if "kiosk=" in c.value]
    token = link.split("kiosk=", 1)[1].split("&", 1)[0]
    engine = create_engine(app_env.admin_url)
    with engine.begin() as conn:
        check = check_kiosk_token(conn, token)
    assert check.status == "valid"
    token_id = check.token_id
    at.selectbox(key="adm_kiosk_revoke_id").set_value(token_id)
    _submit(at, "停用")
    with engine.begin() as conn:
        assert check_kiosk_token(conn, token).status == "revoked"
        actions = set(
            conn.execute(
                text("SELECT action FROM audit_event WHERE actor = :a AND (target = :n OR target = :k)"),
                {"a": ADMIN.name, "n": name, "k": f"kiosk:{token_id}"},
            ).scalars()
        )
    engine.dispose()
    assert {"account_created", "account_disabled", "kiosk_create", "kiosk_revoke"} <= actions, actions


def test_without_the_owner_url_the_page_says_it_cannot_load(app_env, as_admin, uploads, monkeypatch):
    monkeypatch.setenv("DATABASE_ADMIN_URL", "")
    get_settings.cache_clear()
    at = _admin_page()
    assert "DATABASE_ADMIN_URL" in at.error[0].value
    assert next(b for b in at.button if b.label == "开始载入").disabled


# ------------------------------------------------------------------------------ uploads


@pytest.fixture(scope="module")
def demo_list_with_two_bad_rows(tmp_path_factory) -> tuple[Path, dict[int, str]]:
    """Today's demo enterprise list (as live_db loaded it) with two more bad rows; returns the
    file and the file row numbers of the two rows broken here with the problem each must get."""
    from loaders.demo import DEMO_OUTPUT, demo_grid_path, write_demo_enterprises

    today = get_settings().today()
    source = DEMO_OUTPUT / f"企业名单_蚌山区_{today:%Y%m%d}.csv"
    if not source.exists():
        _, source, _ = write_demo_enterprises(demo_grid_path(), tmp_path_factory.mktemp("demo"), today=today)
    table = pd.read_csv(source, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    uscc = table.at[10, "统一社会信用代码"]
    table.at[10, "统一社会信用代码"] = uscc[:-1] + ("0" if uscc[-1] != "0" else "1")  # wrong check character
    table.at[20, "企业名称"] = ""
    path = tmp_path_factory.mktemp("upload") / "企业名单_两行错误.csv"
    table.to_csv(path, index=False, encoding="utf-8-sig")
    return path, {12: "统一社会信用代码", 22: "企业名称"}  # data row i is file row i + 2 (header = row 1)


def _cli(path: Path, env_db) -> tuple[int, dict]:
    env = {
        **os.environ,
        "DATABASE_URL": env_db.app_url,
        "DATABASE_ADMIN_URL": env_db.admin_url,
    }
    done = subprocess.run(
        [sys.executable, "-m", "loaders", "enterprises", str(path), "--json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=LOAD_TIMEOUT_S,
        check=False,
    )
    events = [json.loads(line) for line in done.stdout.splitlines()]
    return done.returncode, next(e for e in events if e["event"] == "result")


def _audit_rows(live_db, job_id: str) -> list[tuple]:
    engine = create_engine(live_db.admin_url)
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT action, actor, target, detail FROM audit_event WHERE detail ->> 'job' = :j ORDER BY id"),
            {"j": job_id},
        ).all()
    engine.dispose()
    return rows


def test_an_upload_reports_what_the_command_line_reports_for_the_same_file(
    app_env, as_admin, uploads, demo_list_with_two_bad_rows
):
    path, broken = demo_list_with_two_bad_rows
    # The command line first: the database then holds this file's rows, so the page's load
    # and the command's second load below start from the same state and must agree exactly.
    _cli(path, app_env)

    at = _admin_page()
    _upload(at, "enterprises", path.name, path.read_bytes())
    assert at.get("progress"), "a progress bar while the load runs"
    assert next(b for b in at.button if b.label == "开始载入").disabled, "one load at a time"
    _wait_for_outcome(at)
    status, cli = _cli(path, app_env)

    assert status == 1  # loaded with rejects
    assert at.warning[0].value == f"已载入（部分行被拒绝）：{path.name}"
    assert _metrics(at) == {
        "行数": cli["total_rows"],
        "新增": cli["inserted"],
        "更新": cli["updated"],
        "未变": cli["unchanged"],
        "拒绝": cli["rejected"],
        "警告": len(cli["warnings"]),
    }
    assert cli["total_rows"] == 20_006 and cli["unchanged"] + cli["rejected"] == cli["total_rows"]
    rejects = _table(at, "问题说明")
    expected = pd.DataFrame(cli["rejections"])
    assert rejects["行号"].tolist() == expected["row"].tolist()
    assert rejects["问题说明"].tolist() == expected["message"].tolist()
    assert rejects["问题代码"].tolist() == expected["code"].tolist()
    for row, column in broken.items():
        assert column in rejects.loc[rejects["行号"] == row, "列"].tolist(), f"row {row} rejected for {column}"

    # The upload was kept under its own name, and its rejects report is the command's, byte for byte.
    (job_dir,) = [d for d in uploads.iterdir() if d.is_dir()]
    assert (job_dir / path.name).read_bytes() == path.read_bytes()
    page_report = (job_dir / path.name).with_name(f"{path.stem}.rejects.csv")
    assert page_report.read_bytes() == Path(cli["rejects_file"]).read_bytes()
    deadline = time.monotonic() + 30  # the outcome's last block may come with the fragment's next run
    while not any(b.label == "下载拒绝行原文（改正后可直接重新上传）" for b in at.get("download_button")):
        assert time.monotonic() < deadline, "no download of the rejected rows' original text"
        time.sleep(0.5)
        at.run()

    # Audited under the administrator's name, linked to the load's own audit row.
    deadline = time.monotonic() + 30
    while len(rows := _audit_rows(app_env, job_dir.name)) < 2:
        assert time.monotonic() < deadline, "the outcome was not audited"
        time.sleep(0.2)
    (start, end) = rows
    assert (start.action, start.actor, start.target) == ("data_upload", "测试管理员", path.name)
    assert start.detail["kind"] == "enterprises"
    assert (end.action, end.actor) == ("data_upload_finished", "测试管理员")
    assert end.detail["outcome"] == "loaded_with_rejects"
    at.run()
    history = _table(at, "操作人")
    mine = history[history["编号"] == end.detail["load_audit_id"]]
    assert mine[["文件", "操作人", "拒绝"]].values.tolist() == [[path.name, "测试管理员", cli["rejected"]]]


def test_a_refused_file_shows_every_problem_and_writes_nothing(app_env, as_admin, uploads):
    at = _admin_page()
    _upload(at, "staff", "名册.csv", "姓名,电话\n张三,13800000000\n".encode())
    _wait_for_outcome(at)
    assert at.error[0].value.startswith("载入被拒绝，未写入任何数据")
    problems = _table(at, "问题说明")
    assert set(problems["问题代码"]) == {"missing_column"}
    assert not at.metric


OUTLINES = ROOT / "tests" / "data" / "outline"


def test_a_shapefile_is_uploaded_as_its_set_of_files(app_env, as_admin, uploads):
    at = _admin_page()
    at.segmented_control(key="adm_kind").set_value("boundaries").run()
    assert at.file_uploader(key="adm_file_boundaries").accept_multiple_files
    parts = [(p.name, p.read_bytes(), "application/octet-stream") for p in sorted(OUTLINES.glob("no_prj.*"))]
    at.file_uploader(key="adm_file_boundaries").set_value(parts)
    next(b for b in at.button if b.label == "开始载入").click().run()
    _wait_for_outcome(at)
    # The file has no .prj and no 坐标系 was chosen: refused, as on the command line.
    assert at.error[0].value.startswith("载入被拒绝，未写入任何数据")
    assert "no_crs" in set(_table(at, "问题说明")["问题代码"])
    (job_dir,) = [d for d in uploads.iterdir() if d.is_dir()]
    assert sorted(p.name for p in job_dir.glob("no_prj.*")) == [name for name, _, _ in parts]


def test_a_shapefile_without_its_dbf_is_refused_before_anything_runs(app_env, as_admin, uploads):
    at = _admin_page()
    at.segmented_control(key="adm_kind").set_value("boundaries").run()
    parts = [(p.name, p.read_bytes(), "application/octet-stream") for p in OUTLINES.glob("no_prj.sh*")]
    at.file_uploader(key="adm_file_boundaries").set_value(parts)
    next(b for b in at.button if b.label == "开始载入").click().run()
    assert "缺少 no_prj.dbf" in at.error[0].value
    assert not uploads.exists()  # no job was started
