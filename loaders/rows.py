"""Row validation shared by every tabular loader: collect every problem of every row at once.

Checks are vectorised: each takes a boolean mask over the rows and records one
:class:`~loaders.errors.Problem` per flagged row, with the file's own row number, the column as
the file names it, and the value received. Problems are either rejections (the row is not
loaded) or warnings (the row is loaded and flagged).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from loaders.errors import Problem
from loaders.tabular import RawTable

__all__ = ["RowChecks", "REJECT", "WARN", "flag_duplicates", "map_unique", "parse_number", "parse_dates", "split_list"]

REJECT, WARN = "reject", "warn"


@dataclass
class RowChecks:
    """Problems found so far in ``table``; ``columns`` maps field → the file's column."""

    table: RawTable
    columns: dict[str, str]
    problems: list[Problem] = field(default_factory=list)
    severity: list[str] = field(default_factory=list)
    _rejected: set[int] = field(default_factory=set)  # positional row indexes

    def __post_init__(self) -> None:
        for row in self.table.ragged_rows:
            position = self.table.row_numbers.index(row)
            self.problems.append(
                Problem(
                    self.table.file_name,
                    row,
                    None,
                    None,
                    "too_many_cells",
                    "该行的单元格比表头多（常见原因：地址等文字中有未加引号的逗号）",
                )
            )
            self.severity.append(REJECT)
            self._rejected.add(position)

    def cell(self, key: str) -> pd.Series:
        """The column for ``key`` as text ('' when the file lacks it)."""
        column = self.columns.get(key)
        frame = self.table.frame
        return frame[column] if column else pd.Series("", index=frame.index, dtype=object)

    def flag(
        self,
        mask: pd.Series,
        key: str,
        code: str,
        message: str | Callable[[str], str],
        *,
        severity: str = REJECT,
        values: pd.Series | None = None,
    ) -> None:
        values = self.cell(key) if values is None else values
        column = self.columns.get(key, key)
        for position in mask.to_numpy().nonzero()[0]:
            value = str(values.iat[position])
            text = message(value) if callable(message) else message
            self.problems.append(
                Problem(self.table.file_name, self.table.row_numbers[position], column, value, code, text)
            )
            self.severity.append(severity)
            if severity == REJECT:
                self._rejected.add(int(position))

    @property
    def rejected_mask(self) -> pd.Series:
        mask = pd.Series(False, index=self.table.frame.index)
        mask.iloc[sorted(self._rejected)] = True
        return mask

    def rejections(self) -> list[Problem]:
        return [p for p, s in zip(self.problems, self.severity, strict=True) if s == REJECT]

    def warnings(self) -> list[Problem]:
        return [p for p, s in zip(self.problems, self.severity, strict=True) if s == WARN]


_FULL_WIDTH_DIGITS = str.maketrans("０１２３４５６７８９．－＋", "0123456789.-+")


def parse_number(text: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Numbers from text (full-width digits and thousands separators tolerated).

    Returns (values as float, mask of cells that are non-empty but not a number).
    """
    cleaned = text.str.strip()
    filled = cleaned != ""
    if not filled.any():  # an optional column left empty (LEC, LS …): nothing to parse
        return pd.Series(np.nan, index=text.index, dtype=float), filled
    unusual = cleaned.str.contains("[０-９．－＋,]", regex=True)  # vectorised: most cells are plain
    if unusual.any():
        fixed = cleaned[unusual].str.translate(_FULL_WIDTH_DIGITS).str.replace(",", "", regex=False)
        cleaned = cleaned.mask(unusual, fixed)
    values = pd.to_numeric(cleaned.where(filled), errors="coerce").astype(float)
    values = values.where(np.isfinite(values))  # "inf", "1e400": not a usable number
    return values, filled & values.isna()


def split_list(text: str) -> list[str]:
    """'粉尘涉爆、有限空间' → ['粉尘涉爆', '有限空间'] (、 , ， ; ； / and spaces separate)."""
    for separator in ("，", ",", "；", ";", "/", "|", " "):
        text = text.replace(separator, "、")
    return [item for item in (part.strip() for part in text.split("、")) if item]


def map_unique(values: pd.Series, mapping: dict | Callable[[str], object]) -> pd.Series:
    """``values.map(mapping)`` computed once per distinct value (columns such as 行业领域 or
    坐标系 hold a handful of values over thousands of rows)."""
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    lookup = mapping.get if isinstance(mapping, dict) else mapping
    mapped = pd.Series([lookup(u) for u in uniques], dtype=object)
    return pd.Series(mapped.to_numpy()[codes], index=values.index, dtype=object)


def parse_dates(checks: RowChecks, key: str, *, today: object | None, required: bool = False) -> pd.Series:
    """Dates from text (YYYY-MM-DD, YYYY/MM/DD, YYYY年M月D日 …) as datetime64 at midnight, NaT
    when empty or bad (COPY writes them as dates and NULL).

    Bad dates, and with ``today`` dates after it, are rejected.
    """
    raw = checks.cell(key).str.strip()
    unusual = raw.str.contains("[年/]", regex=True)  # most lists write ISO dates: leave them be
    normalised = raw
    if unusual.any():
        fixed = raw[unusual].str.replace(r"(\d{4})年(\d{1,2})月(\d{1,2})日?", r"\1-\2-\3", regex=True)
        normalised = raw.mask(unusual, fixed.str.replace("/", "-"))
    stamps = pd.to_datetime(normalised.where(normalised != ""), errors="coerce", format="mixed").dt.normalize()
    checks.flag((raw != "") & stamps.isna(), key, "bad_date", "日期格式应为 YYYY-MM-DD")
    if required:
        checks.flag(raw == "", key, "missing_date", "日期为空")
    if today is not None:
        checks.flag(stamps.notna() & (stamps > pd.Timestamp(today)), key, "future_date", f"日期晚于今天（{today}）")
    return stamps


def flag_duplicates(checks: RowChecks, key: str, values: pd.Series, label: str) -> None:
    """Reject every later copy of a key; a copy of a row rejected for another reason is kept."""
    live = values.where(~checks.rejected_mask, "")
    copies = (live != "") & live.duplicated()
    if not copies.any():
        return
    repeated = live[(live != "") & live.isin(set(live[copies]))]
    numbers = pd.Series(checks.table.row_numbers, index=live.index)[repeated.index]
    first = numbers.groupby(repeated.to_numpy()).min().to_dict()
    checks.flag(
        copies,
        key,
        "duplicate_in_file",
        lambda v: f"{label}与第 {first.get(v.strip().upper(), first.get(v.strip(), '?'))} 行重复（保留第一次出现的行）",
    )
