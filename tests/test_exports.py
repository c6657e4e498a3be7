"""Downloads: CSV with BOM, Excel with a header block; formulas neutralised, numbers kept."""

import datetime as dt
import io

import pandas as pd
from python_calamine import CalamineWorkbook

from dashboard.components.exports import to_csv_bytes, to_xlsx_bytes

FRAME = pd.DataFrame(
    {
        "企业名称": ['=HYPERLINK("http://x")', "+cmd", "-1+2", "@SUM(A1)", "\tx", "\rx", "正常企业"],
        "逾期天数": [-3, 0, 1, 2, 3, 4, 5],
        "整改期限": pd.to_datetime(["2026-11-01"] * 7),
        "整改率": [0.5, 1.0, None, 0.25, 0.0, 1.0, 0.75],
    }
)


def test_csv_has_a_bom_and_neutralised_text_but_plain_numbers():
    data = to_csv_bytes(FRAME)
    assert data.startswith(b"\xef\xbb\xbf")
    back = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig", keep_default_na=False)
    assert back["企业名称"].tolist()[:6] == ['\'=HYPERLINK("http://x")', "'+cmd", "'-1+2", "'@SUM(A1)", "'\tx", "'\rx"]
    assert back["逾期天数"].tolist() == [-3, 0, 1, 2, 3, 4, 5]


def test_excel_round_trip_gives_the_rows_with_formulas_as_text():
    data = to_xlsx_bytes(
        FRAME,
        title="逾期隐患清单",
        filters="蚌山区；时段：2026-01-01至2026-11-23",
        data_time=dt.datetime(2026, 11, 23, 8, 0),
    )
    sheet = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0).to_python()
    assert sheet[0][0] == "逾期隐患清单" and "蚌山区" in sheet[1][0] and "2026-11-23 08:00" in sheet[2][0]
    header = sheet[4]
    assert header[:4] == ["企业名称", "逾期天数", "整改期限", "整改率"]
    rows = sheet[5:]
    assert [r[0] for r in rows][:4] == ['\'=HYPERLINK("http://x")', "'+cmd", "'-1+2", "'@SUM(A1)"]
    assert [r[1] for r in rows] == [-3, 0, 1, 2, 3, 4, 5]  # numbers stay numbers
    assert rows[0][2] == dt.datetime(2026, 11, 1) or rows[0][2] == dt.date(2026, 11, 1)  # dates as dates
    assert rows[2][3] == ""  # a missing rate is an empty cell, not "nan"
