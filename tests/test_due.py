"""The grid officer's due list: buckets, order and wording, by hand."""

import datetime as dt

import pandas as pd

from geo.due import due_list

TODAY = dt.date(2026, 11, 25)  # a Wednesday: this week runs to Sunday 29 November


def _hazards(rows):
    return pd.DataFrame(rows, columns=["code", "deadline_date", "rectified_date"]).astype(
        {"deadline_date": "datetime64[s]", "rectified_date": "datetime64[s]"}
    )


def test_due_today_and_this_week_come_first_then_overdue_then_later():
    hazards = _hazards(
        [
            ("later", "2026-12-10", None),
            ("overdue-3", "2026-11-22", None),
            ("sunday", "2026-11-29", None),
            ("today", "2026-11-25", None),
            ("monday", "2026-11-30", None),
            ("overdue-30", "2026-10-26", None),
            ("done", "2026-11-20", "2026-11-19"),
            ("no-deadline", None, None),
            ("thursday", "2026-11-26", None),
        ]
    )
    due = due_list(hazards, TODAY)
    assert due["code"].tolist() == [
        "today",
        "thursday",
        "sunday",
        "overdue-30",
        "overdue-3",
        "monday",
        "later",
        "no-deadline",
    ]
    texts = dict(zip(due["code"], due["due_text"], strict=True))
    assert texts["today"] == "今日到期"
    assert texts["sunday"] == "剩余 4 天"
    assert texts["overdue-3"] == "逾期 3 天"
    assert texts["monday"] == "剩余 5 天"  # next week: after the overdue items
    assert texts["no-deadline"] == "未设期限"
    assert dict(zip(due["code"], due["bucket"], strict=True))["monday"] == "later"


def test_on_a_sunday_the_week_is_today_only():
    due = due_list(_hazards([("mon", "2026-11-30", None), ("sun", "2026-11-29", None)]), dt.date(2026, 11, 29))
    assert due["bucket"].tolist() == ["today", "later"]


def test_no_open_hazards_gives_an_empty_list():
    due = due_list(_hazards([("done", "2026-11-20", "2026-11-19")]), TODAY)
    assert due.empty and {"days_left", "bucket", "due_text"} <= set(due.columns)
