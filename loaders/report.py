"""Reports written next to the input: rejected rows (to correct and load again) and warnings.

UTF-8 with BOM so Excel and WPS open them correctly; every text cell neutralised against
formula injection. A rejects file holds the rows exactly as received plus a 问题说明 column;
loading it again after correction works (that column is ignored, the neutralising apostrophe
is removed).
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from config.settings import PROJECT_ROOT
from geo.safe_text import neutralise_formula
from loaders.errors import Problem
from loaders.tabular import RawTable

__all__ = ["REPORT_COLUMN", "ROW_COLUMN", "IGNORED_COLUMNS", "write_row_report", "report_path"]

REPORT_COLUMN = "问题说明"
ROW_COLUMN = "原文件行号"
IGNORED_COLUMNS = (ROW_COLUMN, REPORT_COLUMN)  # dropped when a corrected report is loaded again


def report_path(source: Path, kind: str) -> Path:
    return source.with_name(f"{source.stem}.{kind}.csv")


def write_row_report(source: Path, table: RawTable, problems: list[Problem], kind: str) -> Path | None:
    """Write the rows named in ``problems`` with their messages; remove a stale report if none."""
    target = report_path(source, kind)
    if not problems:
        target.unlink(missing_ok=True)
        return None
    messages: dict[int, list[str]] = defaultdict(list)
    for p in problems:
        messages[p.row].append(f"[{p.column}] {p.message}（收到: {p.value}）")
    positions = {row: i for i, row in enumerate(table.row_numbers)}
    rows = [r for r in sorted(messages) if r in positions]
    frame = table.frame.iloc[[positions[r] for r in rows]].copy()
    frame = frame.drop(columns=list(IGNORED_COLUMNS), errors="ignore")
    frame.insert(0, ROW_COLUMN, rows)
    frame[REPORT_COLUMN] = ["；".join(messages[r]) for r in rows]
    frame = frame.map(neutralise_formula)
    try:
        frame.to_csv(target, index=False, encoding="utf-8-sig")
    except OSError:
        target = PROJECT_ROOT / ".data" / "reports" / target.name
        target.parent.mkdir(parents=True, exist_ok=True)
        frame.to_csv(target, index=False, encoding="utf-8-sig")
    return target
