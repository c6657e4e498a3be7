"""Background loads without a database: the command line each request becomes, where an upload
is kept, the JSON lines a load writes and how the page reads them back."""

import io
import json
import sys
from pathlib import Path

import pytest

from loaders.events import JsonLines
from loaders.jobs import EVENTS_FILE, KINDS, LOG_FILE, LoadRequest, read_job_state, upload_path


def test_a_tabular_request_becomes_the_loader_command_with_its_options(tmp_path):
    request = LoadRequest(
        "enterprises", crs="gcj02", sheet="企业名单", encoding="gbk", columns={"uscc": "信用代码X"}, strict=True
    )
    argv = request.argv(tmp_path / "名单.xlsx")
    assert argv[:5] == [sys.executable, "-m", "loaders", "enterprises", str(tmp_path / "名单.xlsx")]
    assert argv[5:] == [
        "--encoding",
        "gbk",
        "--crs",
        "gcj02",
        "--sheet",
        "企业名单",
        "--map",
        "uscc=信用代码X",
        "--strict",
        "--json",
    ]


def test_only_the_enterprise_command_is_given_a_coordinate_system(tmp_path):
    argv = LoadRequest("hazards", crs="gcj02").argv(tmp_path / "h.csv")
    assert "--crs" not in argv and argv[-1] == "--json"


def test_a_boundary_request_carries_the_boundary_options(tmp_path):
    request = LoadRequest(
        "boundaries",
        code_year=2024,
        crs="EPSG:4549",
        layer="grid",
        encoding="gbk",
        columns={"code": "网格编码", "parent": "上级"},
        repair=True,
        allow=("multipart", "holes"),
        tolerances={"outside_m": 1.0, "overlap_m2": 0.5, "gap_m2": 2.5},
    )
    argv = request.argv(tmp_path / "grid.gpkg")[5:]
    assert argv == [
        "--encoding",
        "gbk",
        "--code-year",
        "2024",
        "--crs",
        "EPSG:4549",
        "--layer",
        "grid",
        "--code-column",
        "网格编码",
        "--parent-column",
        "上级",
        "--repair",
        "--allow",
        "multipart",
        "--allow",
        "holes",
        "--outside-m",
        "1",
        "--overlap-m2",
        "0.5",
        "--gap-m2",
        "2.5",
        "--json",
    ]


def _full_request(kind: str) -> LoadRequest:
    if kind == "boundaries":
        return LoadRequest(
            kind,
            code_year=2024,
            crs="wgs84",
            layer="x",
            encoding="gbk",
            columns={"code": "a", "name": "b", "tier": "c", "parent": "d"},
            repair=True,
            allow=("holes",),
            tolerances={"outside_m": 1.0, "overlap_m2": 1.0, "gap_m2": 1.0},
        )
    return LoadRequest(kind, crs="wgs84", sheet="s", encoding="gbk", columns={"name": "x"}, strict=True)


@pytest.mark.parametrize("kind", KINDS)
def test_every_option_the_page_passes_is_one_the_command_knows(kind):
    from typer.main import get_command

    from loaders.cli import app

    command = get_command(app).commands[kind]
    known = {opt for param in command.params for opt in param.opts}
    flags = {arg for arg in _full_request(kind).argv(Path("f")) if arg.startswith("--")}
    assert flags <= known


def test_unknown_kinds_and_boundaries_without_a_code_year_are_refused():
    with pytest.raises(ValueError, match="kind='roads'"):
        LoadRequest("roads")
    with pytest.raises(ValueError, match="code_year"):
        LoadRequest("boundaries")


@pytest.mark.parametrize(
    ("uploaded", "kept"),
    [
        ("企业名单_蚌山区.xlsx", "企业名单_蚌山区.xlsx"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\张三\\隐患台账.csv", "隐患台账.csv"),
        ('a:b*c?"d<e>f|.csv', "a_b_c__d_e_f_.csv"),
        ("..", "upload"),
    ],
)
def test_an_upload_keeps_its_name_inside_the_job_directory(tmp_path, uploaded, kept):
    path = upload_path(tmp_path, uploaded)
    assert path.parent == tmp_path
    assert path.name == kept


def test_json_lines_stand_in_for_rich_progress():
    stream = io.StringIO()
    events = JsonLines(stream)
    task = events.add_task("读取 a.csv", total=4)
    events.update(task, advance=1, description="校验每一行")
    events.emit("result", inserted=3, 名称="中文")
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert lines[0] == {"event": "progress", "completed": 0.0, "total": 4, "description": "读取 a.csv"}
    assert lines[1] == {"event": "progress", "completed": 1.0, "total": 4, "description": "校验每一行"}
    assert lines[2] == {"event": "result", "inserted": 3, "名称": "中文"}
    assert "中文" in stream.getvalue()  # readable, not \\u escapes


def _events(tmp_path, *lines: dict, tail: str = "") -> None:
    text = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines)
    (tmp_path / EVENTS_FILE).write_text(text + tail, encoding="utf-8")


def test_a_running_load_reports_its_step_and_a_half_written_line_is_skipped(tmp_path):
    _events(
        tmp_path,
        {"event": "progress", "completed": 0, "total": 4, "description": "读取 a.csv"},
        {"event": "progress", "completed": 2, "total": 4, "description": "写入数据库"},
        tail='{"event": "progress", "compl',
    )
    state = read_job_state(tmp_path, None)
    assert state.running and state.outcome == "running"
    assert state.description == "写入数据库"
    assert state.fraction == pytest.approx(0.45)


def test_a_finished_load_reports_its_result_and_regrade(tmp_path):
    result = {"event": "result", "kind": "enterprises", "status": "loaded_with_rejects", "rejected": 2}
    regraded = {"event": "regraded", "as_of": "2026-01-05", "units": {"weighted": 10}}
    _events(tmp_path, {"event": "progress", "completed": 3, "total": 4, "description": "x"}, result, regraded)
    running = read_job_state(tmp_path, None)
    assert running.fraction == 0.9  # loaded, still regrading
    state = read_job_state(tmp_path, 1)
    assert state.outcome == "loaded_with_rejects" and state.fraction == 1.0
    assert state.result["rejected"] == 2
    assert state.regraded["units"] == {"weighted": 10}


def test_a_refused_file_and_a_configuration_error_are_told_apart(tmp_path):
    problem = {
        "file": "a.csv",
        "row": None,
        "column": "企业名称",
        "value": None,
        "code": "missing_column",
        "message": "m",
    }
    _events(tmp_path, {"event": "refused", "problems": [problem]})
    assert read_job_state(tmp_path, 2).outcome == "refused"
    _events(tmp_path, {"event": "error", "code": "config", "message": "DATABASE_ADMIN_URL is not set"})
    state = read_job_state(tmp_path, 3)
    assert state.outcome == "failed" and "DATABASE_ADMIN_URL" in state.error


def test_a_crash_shows_the_end_of_the_loader_log(tmp_path):
    _events(tmp_path, {"event": "progress", "completed": 1, "total": 4, "description": "校验每一行"})
    (tmp_path / LOG_FILE).write_text("Traceback …\nMemoryError\n", encoding="utf-8")
    state = read_job_state(tmp_path, -9)
    assert state.outcome == "failed"
    assert state.error.endswith("MemoryError")
