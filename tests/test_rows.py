"""Row checks shared by the loaders: dates and duplicates, named by the file's own rows."""

import datetime as dt

import pandas as pd

from loaders.rows import RowChecks, flag_duplicates, parse_dates
from loaders.tabular import RawTable


def _checks(column: str, values: list[str]) -> RowChecks:
    frame = pd.DataFrame({column: values}, dtype="str")
    return RowChecks(RawTable("t.csv", frame, list(range(2, len(values) + 2))), {"d": column})


def test_dates_in_the_usual_spellings_parse_and_bad_or_future_ones_are_named():
    checks = _checks(
        "发现日期", ["2026-11-01", "2026/1/5", "2026年3月7日", "2026-11-23 08:30", "", "明天", "2026-11-24"]
    )
    dates = parse_dates(checks, "d", today=dt.date(2026, 11, 23))
    assert [None if pd.isna(d) else d.date() for d in dates] == [
        dt.date(2026, 11, 1),
        dt.date(2026, 1, 5),
        dt.date(2026, 3, 7),
        dt.date(2026, 11, 23),  # a time of day today is not "in the future"
        None,
        None,
        dt.date(2026, 11, 24),
    ]
    assert [(p.row, p.column, p.value, p.code) for p in checks.problems] == [
        (7, "发现日期", "明天", "bad_date"),
        (8, "发现日期", "2026-11-24", "future_date"),
    ]


def test_every_later_copy_of_a_key_is_rejected_and_names_the_first_row():
    checks = _checks("编号", ["A", "B", "A", "C", "B", "A"])
    flag_duplicates(checks, "d", checks.cell("d"), "编号")
    assert [(p.row, p.value, p.message) for p in checks.problems] == [
        (4, "A", "编号与第 2 行重复（保留第一次出现的行）"),
        (6, "B", "编号与第 3 行重复（保留第一次出现的行）"),
        (7, "A", "编号与第 2 行重复（保留第一次出现的行）"),
    ]
