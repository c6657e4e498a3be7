"""Table downloads: CSV (UTF-8 with BOM, so Excel and WPS open it) and Excel (xlsxwriter: a
header block with the filters and data time, frozen column header, widths, dates as dates).

Pure: a DataFrame in, bytes out. Text cells that a spreadsheet would run as a formula
(``=``, ``+``, ``-``, ``@``, tab, CR) are neutralised; numbers stay numbers.
"""

from __future__ import annotations

import datetime as dt
import io

import pandas as pd

from geo.safe_text import neutralise_formula

__all__ = ["safe_frame", "to_csv_bytes", "to_xlsx_bytes"]


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy whose text cells cannot run as formulas (object/string columns only)."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            out[column] = out[column].map(neutralise_formula).astype(object)
    out.columns = [neutralise_formula(str(c)) for c in out.columns]
    return out


def to_csv_bytes(frame: pd.DataFrame) -> bytes:
    # CRLF rows (RFC 4180): fields holding a CR or LF are then quoted too.
    return safe_frame(frame).to_csv(index=False, lineterminator="\r\n").encode("utf-8-sig")


def _display_width(text: str) -> int:
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)  # CJK characters are two columns wide


def _width(series: pd.Series, header: str) -> float:
    sample = ["" if value is None else str(value) for value in series.head(500).tolist()]
    return float(min(max([_display_width(header), *map(_display_width, sample)]) + 2, 60))


def to_xlsx_bytes(frame: pd.DataFrame, *, title: str, filters: str, data_time: dt.datetime | str) -> bytes:
    """One sheet: title, the filter in force and the data time above a frozen header row."""
    import xlsxwriter

    safe = safe_frame(frame)
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False})
    sheet = workbook.add_worksheet("数据")
    bold = workbook.add_format({"bold": True, "font_size": 13})
    muted = workbook.add_format({"font_color": "#475569"})
    head = workbook.add_format({"bold": True, "bg_color": "#E2E8F0", "border": 1})
    date_format = workbook.add_format({"num_format": "yyyy-mm-dd"})
    sheet.write_string(0, 0, neutralise_formula(title), bold)
    sheet.write_string(1, 0, neutralise_formula(f"筛选条件：{filters}"), muted)
    stamp = data_time if isinstance(data_time, str) else f"{data_time:%Y-%m-%d %H:%M}"
    sheet.write_string(2, 0, f"数据时间：{stamp}　导出行数：{len(safe)}", muted)
    header_row = 4
    for col, name in enumerate(safe.columns):
        sheet.write_string(header_row, col, str(name), head)
        series = safe.iloc[:, col]
        sheet.set_column(col, col, _width(series, str(name)))
        is_date = pd.api.types.is_datetime64_any_dtype(series)
        for row, value in enumerate(series.tolist(), start=header_row + 1):
            if value is None or (not isinstance(value, str) and pd.isna(value)):
                continue
            if is_date or isinstance(value, dt.date):
                sheet.write_datetime(row, col, pd.Timestamp(value).to_pydatetime(), date_format)
            elif isinstance(value, bool):
                sheet.write_boolean(row, col, value)
            elif isinstance(value, (int, float)) and not isinstance(value, bool):
                sheet.write_number(row, col, value)
            else:
                sheet.write_string(row, col, str(value))
    sheet.freeze_panes(header_row + 1, 0)
    if len(safe.columns):
        sheet.autofilter(header_row, 0, header_row + max(len(safe), 1), len(safe.columns) - 1)
    workbook.close()
    return buffer.getvalue()
