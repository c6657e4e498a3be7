"""The enterprise file's facts on hand-made rows: how a grade was derived, each hazard's place
in the closed loop, markdown escaping, and the shared tables' rows, sorting and exports."""

import csv
import datetime as dt
import io

import pandas as pd
import pytest
from python_calamine import CalamineWorkbook

from dashboard.components.table_rows import enterprise_rows, hazard_rows, inspection_rows
from dashboard.components.tables import ExportContext, enterprise_url, export_detail, export_file, sort_rows
from geo.enterprise_file import derive_grade, hazard_loop
from geo.grading import DEFAULT_BANDS, AssessmentBands
from geo.safe_text import escape_markdown

TODAY = dt.date(2026, 11, 23)


def _row(**values):
    base = {"grade": None, "lec_l": None, "lec_e": None, "lec_c": None, "ls_l": None, "ls_s": None}
    return pd.Series({**base, **values})


def test_an_input_grade_is_said_to_come_from_the_list():
    derived = derive_grade(_row(grade=2, lec_l=10, lec_e=10, lec_c=10), DEFAULT_BANDS)
    assert (derived.grade, derived.source, derived.grade_zh) == (2, "input", "较大风险")
    assert "企业名单给定" in derived.explanation_zh


def test_lec_inputs_are_banded_with_the_version_in_force_and_the_formula_is_shown():
    bands = {**DEFAULT_BANDS, "LEC": AssessmentBands("LEC", "皖-2027", (300, 150, 60), dt.date(2027, 1, 1))}
    derived = derive_grade(_row(lec_l=3, lec_e=6, lec_c=15), bands)  # D = 270
    assert (derived.grade, derived.source, derived.score) == (2, "LEC", 270)
    text = derived.explanation_zh
    assert "D = L×E×C = 3×6×15 = 270 → 较大风险" in text
    assert "皖-2027" in text and "2027-01-01" in text and "≥ 300 重大" in text


def test_ls_inputs_win_over_lec_and_no_inputs_mean_ungraded():
    derived = derive_grade(_row(ls_l=4, ls_s=5, lec_l=0.1, lec_e=1, lec_c=1), DEFAULT_BANDS)  # R = 20
    assert (derived.grade, derived.source) == (1, "LS")
    assert "R = L×S = 4×5 = 20 → 重大风险" in derived.explanation_zh and "通用-1" in derived.explanation_zh
    nothing = derive_grade(_row(), DEFAULT_BANDS)
    assert (nothing.grade, nothing.source, nothing.grade_zh) == (None, None, "未定级")


def _hazards() -> pd.DataFrame:
    rows = [
        # code, found, deadline, rectified, closed, grade, listed
        ("closed-on-time", "2026-01-05", "2026-01-20", "2026-01-18", "2026-01-25", 2, None),
        ("rectified-late", "2026-03-01", "2026-03-10", "2026-03-15", None, 2, None),
        ("open-soon", "2026-11-10", "2026-11-30", None, None, 2, None),
        ("open-later", "2026-11-12", "2026-12-20", None, None, 2, None),
        ("overdue-3", "2026-10-01", "2026-11-20", None, None, 1, "市级"),
        ("overdue-30", "2026-09-01", "2026-10-24", None, None, 2, None),
        ("no-deadline", "2026-11-01", None, None, None, 2, None),
    ]
    frame = pd.DataFrame(
        rows,
        columns=[
            "hazard_code",
            "found_date",
            "deadline_date",
            "rectified_date",
            "closed_date",
            "hazard_grade",
            "listed_level",
        ],
    )
    for column in ("found_date", "deadline_date", "rectified_date", "closed_date"):
        frame[column] = pd.to_datetime(frame[column])
    return frame.assign(source="检查", place_type="仓库", enterprise_id=1)


def test_the_loop_puts_overdue_first_then_open_then_awaiting_verification_then_closed():
    loop = hazard_loop(_hazards(), TODAY)
    assert loop["hazard_code"].tolist() == [
        "overdue-30",
        "overdue-3",
        "open-soon",
        "open-later",
        "no-deadline",
        "rectified-late",
        "closed-on-time",
    ]
    by_code = loop.set_index("hazard_code")
    assert by_code.loc["overdue-30", "overdue_days"] == 30  # 2026-10-24 → 2026-11-23
    assert by_code.loc["overdue-3", "overdue_days"] == 3
    assert by_code.loc["open-soon", "overdue_days"] == 0
    assert by_code.loc["rectified-late", "overdue_days"] == 5  # rectified five days after its deadline
    assert pd.isna(by_code.loc["no-deadline", "overdue_days"])
    assert by_code["stage_zh"].to_dict() == {
        "overdue-30": "逾期未整改",
        "overdue-3": "逾期未整改",
        "open-soon": "整改中",
        "open-later": "整改中",
        "no-deadline": "整改中",
        "rectified-late": "已整改待验收",
        "closed-on-time": "已验收销号",
    }


def test_a_deadline_of_today_is_not_yet_overdue():
    hazards = _hazards().assign(deadline_date=pd.Timestamp(TODAY), rectified_date=pd.NaT, closed_date=pd.NaT)
    assert set(hazard_loop(hazards, TODAY)["stage"]) == {"open"}


def test_markdown_from_data_cannot_link_embed_or_format():
    escaped = escape_markdown("![x](http://evil/a.png) [点我](javascript:alert(1)) **粗** <b>:red[红]</b> $x$\n# 标题")
    for raw in ("![", "](", "**", "<b>", ":red[", "$x$"):
        assert raw not in escaped
    assert "\n" not in escaped
    assert escape_markdown(None) == ""


def _enterprises() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": [1, 2, 3],
            "uscc": ["91330100799655058B", "91440300708461136T", "914403001922038216"],
            "name": ['=HYPERLINK("http://x","点我")', "+乙公司", "丙公司"],
            "address": ["-1 号", "@二路", "三路"],
            "sector": ["危险化学品", "商贸", "商贸"],
            "grade": pd.array([4, 1, None], dtype="Int64"),
            "supervision_class": ["A", "B", "C"],
            "special_flags": [["有限空间"], [], []],
            "cell_code": ["C1", "C2", None],
            "region_path": [["D", "T", "V", "C1"], ["D", "T", "V", "C2"], ["D"]],
            "employees": [-3, 12, None],
            "status": ["在营", "在营", "停产"],
        }
    )


def test_enterprise_rows_count_open_and_overdue_hazards_and_sort_grades_by_severity():
    names = pd.Series({"T": "西街道", "V": "西社区", "C1": "第1网格", "C2": "第2网格"})
    rows = enterprise_rows(_enterprises(), _hazards(), names, TODAY)
    first = rows.iloc[0]
    assert (first["未整改隐患"], first["逾期隐患"]) == (5, 2)
    assert (first["乡镇/街道"], first["社区/村"], first["所在网格"]) == ("西街道", "西社区", "第1网格")
    assert rows.iloc[2]["所在网格"] == "未落格"
    ordered = sort_rows(rows, "风险等级")
    assert ordered["风险等级"].tolist() == ["重大风险", "低风险", "未定级"]  # by severity, not by character code
    assert sort_rows(rows, None) is rows


def test_hazard_and_inspection_rows_keep_dates_as_dates_and_name_the_enterprise():
    rows = hazard_rows(_hazards(), _enterprises(), TODAY)
    assert rows.columns[:3].tolist() == ["企业名称", "统一社会信用代码", "隐患编号"]
    assert pd.api.types.is_datetime64_any_dtype(rows["整改期限"])
    assert rows.iloc[0]["状态"] == "逾期未整改" and rows.iloc[0]["逾期天数"] == 30
    inspections = pd.DataFrame(
        {
            "inspection_code": ["J1", "J2"],
            "enterprise_id": [1, 1],
            "inspection_date": pd.to_datetime(["2026-01-05", "2026-06-01"]),
            "kind": ["日常", "专项"],
            "unit": ["区应急局", "区应急局"],
            "inspector": ["张三", "李四"],
            "findings_count": [0, 2],
            "hazard_codes": [[], ["H1", "H2"]],
        }
    )
    shown = inspection_rows(inspections)
    assert shown["检查编号"].tolist() == ["J2", "J1"]  # newest first
    assert shown.iloc[0]["隐患编号"] == "H1、H2"


def test_file_links_are_absolute_within_the_app_and_quote_their_code():
    assert enterprise_url("91330100799655058B") == "/enterprise?uscc=91330100799655058B"
    assert enterprise_url("91330100799655058B", "gridrisk/") == "/gridrisk/enterprise?uscc=91330100799655058B"
    assert enterprise_url("a&b=c") == "/enterprise?uscc=a%26b%3Dc"


def _read_csv_like_a_spreadsheet(data: bytes) -> list[list[str]]:
    """UTF-8 when the file starts with a BOM, else GBK: what Excel and WPS do with a CSV."""
    text = data[3:].decode("utf-8") if data.startswith(b"\xef\xbb\xbf") else data.decode("gbk")
    return list(csv.reader(io.StringIO(text, newline="")))


@pytest.fixture()
def exported():
    names = pd.Series({"C1": "第1网格", "C2": "第2网格"})
    frame = enterprise_rows(_enterprises(), _hazards(), names, TODAY)
    context = ExportContext("企业列表", "行业：危险化学品", "2026-11-23 08:00", "企业列表_20261123")
    files = {fmt: export_file(frame, fmt, context)() for fmt in ("xlsx", "csv")}
    records = [export_detail(frame, fmt, context) for fmt in ("xlsx", "csv")]  # what each download's audit row says
    return frame, files, records


def test_each_download_leaves_an_audit_record_with_table_filters_and_row_count(exported):
    frame, _, records = exported
    assert [r["format"] for r in records] == ["xlsx", "csv"]
    assert records[0]["table"] == "企业列表" and records[0]["filters"] == "行业：危险化学品"
    assert records[0]["rows"] == len(frame) and records[0]["file"] == "企业列表_20261123.xlsx"


def test_excel_round_trip_gives_the_rows_with_formula_text_as_text_and_numbers_as_numbers(exported):
    frame, files, _ = exported
    sheet = CalamineWorkbook.from_filelike(io.BytesIO(files["xlsx"])).get_sheet_by_index(0).to_python()
    assert sheet[0][0] == "企业列表" and "行业：危险化学品" in sheet[1][0] and "导出行数：3" in sheet[2][0]
    assert sheet[4] == list(frame.columns)
    rows = sheet[5:]
    assert [r[0] for r in rows] == ['\'=HYPERLINK("http://x","点我")', "'+乙公司", "丙公司"]
    assert [r[list(frame.columns).index("地址")] for r in rows] == ["'-1 号", "'@二路", "三路"]
    employees = [r[list(frame.columns).index("从业人数")] for r in rows]
    assert employees[:2] == [-3, 12] and all(isinstance(v, float) for v in employees[:2])
    assert [r[1] for r in rows] == frame["统一社会信用代码"].tolist()


def test_csv_starts_with_a_bom_and_reads_back_every_cell(exported):
    frame, files, _ = exported
    assert files["csv"].startswith(b"\xef\xbb\xbf")
    table = _read_csv_like_a_spreadsheet(files["csv"])
    assert table[0] == list(frame.columns)
    assert len(table) == len(frame) + 1
    assert table[1][0] == '\'=HYPERLINK("http://x","点我")'
    assert table[1][list(frame.columns).index("从业人数")] == "-3"
    assert [row[2] for row in table[1:]] == frame["行业领域"].tolist()
    assert [row[3] for row in table[1:]] == frame["风险等级"].astype(str).tolist()
