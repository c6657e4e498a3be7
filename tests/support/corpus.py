"""Shared pieces of the bad-input corpora: building CSV/XLSX inputs exactly, reading reports back,
and asserting a problem names its file, row, column and value."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import xlsxwriter

from loaders.errors import Problem
from loaders.report import REPORT_COLUMN, ROW_COLUMN

UTF8_BOM = b"\xef\xbb\xbf"


def csv_bytes(
    rows: Sequence[Sequence[object]],
    *,
    header: Sequence[str] | None,
    encoding: str = "utf-8",
    bom: bool = False,
) -> bytes:
    """Rows as Excel writes a CSV (CRLF, minimal quoting), encoded exactly as asked."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    if header is not None:
        writer.writerow(header)
    writer.writerows(rows)
    data = out.getvalue().encode(encoding)
    return UTF8_BOM + data if bom else data


def write_xlsx(path: Path, sheets: dict[str, Sequence[Sequence[object]]]) -> Path:
    """A workbook with one sheet per entry; str cells stay text, numbers and dates stay typed."""
    workbook = xlsxwriter.Workbook(path, {"strings_to_numbers": False, "strings_to_formulas": False})
    date_format = workbook.add_format({"num_format": "yyyy-mm-dd"})
    for sheet_name, rows in sheets.items():
        sheet = workbook.add_worksheet(sheet_name)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if isinstance(value, dt.date):
                    sheet.write_datetime(r, c, dt.datetime.combine(value, dt.time()), date_format)
                elif isinstance(value, str):
                    sheet.write_string(r, c, value)
                else:
                    sheet.write(r, c, value)
    workbook.close()
    return path


def read_report(path: Path | None) -> pd.DataFrame:
    """A rejects/warnings CSV as text, after checking it opens in Excel/WPS (UTF-8 with BOM)."""
    assert path is not None and path.is_file(), "the report must be written"
    assert path.read_bytes().startswith(UTF8_BOM), "reports start with the UTF-8 BOM so Excel reads Chinese"
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert {ROW_COLUMN, REPORT_COLUMN} <= set(frame.columns)
    return frame


def only_problem(problems: Sequence[Problem], code: str) -> Problem:
    found = [p for p in problems if p.code == code]
    assert len(found) == 1, f"expected one {code!r} problem, got {[str(p) for p in problems]}"
    return found[0]


def assert_problem(
    problem: Problem, *, file: str, row: int | None, column: str | None, fragment: str, value: str | None = None
) -> None:
    assert (problem.file, problem.row, problem.column) == (file, row, column), str(problem)
    assert fragment in problem.message, str(problem)
    if value is not None:
        assert problem.value == value, str(problem)
