"""Deadlines of open hazards as a grid officer reads them: what is due today, this week, overdue.

Pure: a DataFrame of open hazards in, the same rows ordered and labelled out. Days are calendar
days in the bureau's time zone (``today`` is given); the week ends on Sunday. The deadlines are
the records' own (the working-day 交办/销号 deadlines are a later capability).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

__all__ = ["DUE_BUCKETS_ZH", "due_list"]

# In the order the list shows them: what to do today and this week first, then what is late,
# then the rest by deadline, then items recorded without a deadline.
DUE_BUCKETS_ZH = {
    "today": "今日到期",
    "week": "本周到期",
    "overdue": "已逾期",
    "later": "其后到期",
    "none": "未设整改期限",
}
_ORDER = {bucket: i for i, bucket in enumerate(DUE_BUCKETS_ZH)}


def due_list(hazards: pd.DataFrame, today: dt.date) -> pd.DataFrame:
    """Open hazards (no ``rectified_date``) with ``days_left`` (negative: days overdue),
    ``bucket`` (a key of :data:`DUE_BUCKETS_ZH`) and ``due_text``, in reading order: due
    today, due this week, overdue (most overdue first), later by deadline, no deadline.

    ``hazards`` needs ``deadline_date`` and ``rectified_date`` (dates or NaT); other columns
    are kept.
    """
    open_items = hazards[pd.isna(hazards["rectified_date"])].copy()
    deadline = pd.to_datetime(open_items["deadline_date"])
    days_left = (deadline - pd.Timestamp(today)).dt.days
    end_of_week = 6 - today.weekday()  # days from today to Sunday
    bucket = np.select(
        [days_left.isna(), days_left < 0, days_left == 0, days_left <= end_of_week],
        ["none", "overdue", "today", "week"],
        default="later",
    )
    open_items["days_left"] = pd.array(days_left, dtype="Int64")
    open_items["bucket"] = bucket
    open_items["due_text"] = [_due_text(b, d) for b, d in zip(bucket, open_items["days_left"], strict=True)]
    order = pd.Series(bucket, index=open_items.index).map(_ORDER)
    return (
        open_items.assign(_order=order, _deadline=deadline)
        .sort_values(["_order", "_deadline"], kind="stable", na_position="last")
        .drop(columns=["_order", "_deadline"])
    )


def _due_text(bucket: str, days_left) -> str:
    if bucket == "none":
        return "未设期限"
    if bucket == "overdue":
        return f"逾期 {-int(days_left)} 天"
    if bucket == "today":
        return "今日到期"
    return f"剩余 {int(days_left)} 天"
