"""The shared table block of every page: sorted, paged on the server, columns to choose, totals,
links to the enterprise file, and Excel/CSV downloads made only when asked for.

Only one page of rows (100 by default) goes to the browser: the risk map's district tables
used to send all 20,004 enterprises and every overdue hazard on each load (≈3.4 MB of
websocket traffic inside hidden tabs). Sorting applies to every row, in the server's frame,
before the page is cut; the grid's own header sort would reorder only the page shown, so the
sort is chosen above the table. Downloads carry every row in the same order and columns,
obey the viewer's scope (the frame was read under it), are refused to viewers who may not
export (leaders, the wall screen) and leave one audit row each (db.audit, action "export").
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import quote

import pandas as pd
import streamlit as st

from dashboard.components import session
from dashboard.components.exports import to_csv_bytes, to_xlsx_bytes
from dashboard.components.offline import path_prefix
from dashboard.components.session import audited_export
from dashboard.components.table_rows import USCC_COLUMN

__all__ = ["ExportContext", "PAGE_SIZE", "enterprise_url", "export_detail", "export_file", "paged_table", "sort_rows"]

PAGE_SIZE = 100
FEW_ROWS = 10  # up to this many rows a table is drawn as it comes, without sort and column controls
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class ExportContext:
    """What a download says about itself: the title and filter line in the Excel header block,
    the data time, the file name stem, and the table's kind for the audit row."""

    title: str
    filters: str
    data_time: dt.datetime | str
    stem: str


def enterprise_url(uscc: str, base_url_path: str = "") -> str:
    """The enterprise file's address, absolute within the app (works under a baseUrlPath)."""
    return f"{path_prefix(base_url_path)}/enterprise?uscc={quote(str(uscc), safe='')}"


def sort_rows(frame: pd.DataFrame, by: str | None, *, descending: bool = False) -> pd.DataFrame:
    """All rows sorted by one column (stable, blanks last); ``by=None`` keeps the given order."""
    if by is None or by not in frame.columns:
        return frame
    return frame.sort_values(by, ascending=not descending, kind="stable", na_position="last")


def export_detail(frame: pd.DataFrame, fmt: str, context: ExportContext) -> dict:
    """What an export's audit row says: the table, filters, rows, columns and format."""
    return {
        "table": context.title,
        "filters": context.filters,
        "rows": len(frame),
        "columns": [str(c) for c in frame.columns],
        "format": fmt,
        "file": f"{context.stem}.{fmt}",
    }


def export_file(frame: pd.DataFrame, fmt: str, context: ExportContext) -> Callable[[], bytes]:
    """The download's deferred body: builds the file when the user clicks (the page wraps it in
    session.audited_export, which records :func:`export_detail`)."""

    def build() -> bytes:
        if fmt == "xlsx":
            return to_xlsx_bytes(frame, title=context.title, filters=context.filters, data_time=context.data_time)
        return to_csv_bytes(frame)

    return build


def _step(key: str, delta: int) -> None:
    st.session_state[key] = max(1, int(st.session_state.get(key, 1)) + delta)


def _reset(key: str) -> None:
    st.session_state[key] = 1


def _column_config(frame: pd.DataFrame) -> dict[str, object]:
    config: dict[str, object] = {}
    for name in frame.columns:
        if pd.api.types.is_datetime64_any_dtype(frame[name]):
            config[name] = st.column_config.DateColumn(name, format="YYYY-MM-DD")
    if USCC_COLUMN in frame.columns:
        config[USCC_COLUMN] = st.column_config.LinkColumn(
            USCC_COLUMN, display_text=r"uscc=([0-9A-Z]+)", help="打开一企一档", width="medium"
        )
    return config


def _controls(frame: pd.DataFrame, key: str, sort_by: str | None, descending: bool, columns: Sequence[str]):
    """The sort and column choices, each behind a small button (the table stays in view on a phone)."""
    names = list(frame.columns)
    default_sort = sort_by if sort_by in names else None
    if len(frame) <= FEW_ROWS:
        return default_sort, descending, [c for c in columns if c in names] or names
    sort_key, desc_key, page_key = f"{key}_sort", f"{key}_desc", f"{key}_page"
    current = st.session_state.get(sort_key, default_sort)
    current_desc = st.session_state.get(desc_key, descending)
    label = f"排序：{current}{'（降序）' if current_desc else ''}" if current else "排序：默认顺序"
    with st.popover(label, icon=":material/sort:"):
        sort_choices = [None, *names]
        chosen_sort = st.selectbox(
            "排序",
            sort_choices,
            index=sort_choices.index(default_sort),
            format_func=lambda c: "默认顺序" if c is None else c,
            key=sort_key,
            on_change=_reset,
            args=(page_key,),
        )
        chosen_desc = st.toggle("降序", value=descending, key=desc_key, on_change=_reset, args=(page_key,))
    with st.popover("显示列", icon=":material/view_column:"):
        shown = st.multiselect("显示列", names, default=[c for c in columns if c in names], key=f"{key}_cols")
    return chosen_sort, chosen_desc, [c for c in names if c in shown] or names


def _pager(total_rows: int, key: str, page_size: int) -> int:
    pages = max(1, math.ceil(total_rows / page_size))
    page_key = f"{key}_page"
    st.session_state[page_key] = min(max(1, int(st.session_state.get(page_key, 1))), pages)
    if pages == 1:
        return 1
    st.button(
        "‹ 上一页", key=f"{key}_prev", on_click=_step, args=(page_key, -1), disabled=st.session_state[page_key] <= 1
    )
    page = st.number_input(
        "页码", min_value=1, max_value=pages, step=1, key=page_key, label_visibility="collapsed", width=96
    )
    st.markdown(f"/ {pages:,} 页")
    st.button(
        "下一页 ›", key=f"{key}_next", on_click=_step, args=(page_key, 1), disabled=st.session_state[page_key] >= pages
    )
    return int(page)


def _downloads(frame: pd.DataFrame, context: ExportContext, key: str) -> None:
    """Excel and CSV of every row, for viewers who may export; each file made on the click
    leaves one audit row (session.audited_export: who, from where, what)."""
    viewer = session.current_viewer()
    if not viewer.can_export:
        st.caption("当前账号无导出权限。")
        return
    with st.container(horizontal=True, gap="small"):
        for fmt, label, mime in (("xlsx", "下载 Excel", XLSX_MIME), ("csv", "下载 CSV", "text/csv")):
            st.download_button(
                label,
                audited_export(
                    viewer,
                    f"{context.stem}.{fmt}",
                    len(frame),
                    export_file(frame, fmt, context),
                    detail=export_detail(frame, fmt, context),
                ),
                file_name=f"{context.stem}.{fmt}",
                mime=mime,
                key=f"{key}_{fmt}",
                on_click="ignore",
                icon=":material/download:",
            )


def paged_table(
    frame: pd.DataFrame,
    *,
    key: str,
    export: ExportContext | None,
    sort_by: str | None = None,
    descending: bool = False,
    columns: Sequence[str] | None = None,
    totals: Sequence[str] = (),
    page_size: int = PAGE_SIZE,
) -> pd.DataFrame:
    """Draw ``frame`` (built by dashboard.components.table_rows) one page at a time.

    Above the table: the row count and the totals of ``totals`` columns over every row, the
    sort (``sort_by``/``descending`` to start with; None keeps the frame's own order), the
    columns shown (``columns`` to start with, else all). Below: page controls and, for viewers
    who may export, the downloads of every row as sorted with the columns shown. A USCC column
    links each row to its enterprise file. Returns the rows drawn (for tests and callers).
    """
    summary = [f"共 {len(frame):,} 行"]
    summary += [f"{name}合计 {int(frame[name].fillna(0).sum()):,}" for name in totals if name in frame.columns]
    st.caption("　·　".join(summary))
    with st.container(horizontal=True, vertical_alignment="center", gap="small"):
        chosen_sort, chosen_desc, shown = _controls(frame, key, sort_by, descending, columns or list(frame.columns))
        page = _pager(len(frame), key, page_size)
    ordered = sort_rows(frame, chosen_sort, descending=chosen_desc)[shown]
    rows = ordered.iloc[(page - 1) * page_size : page * page_size]
    base_url_path = st.get_option("server.baseUrlPath") or ""
    shown_rows = rows.copy()
    if USCC_COLUMN in shown_rows.columns:
        shown_rows[USCC_COLUMN] = shown_rows[USCC_COLUMN].map(lambda uscc: enterprise_url(uscc, base_url_path))
    st.dataframe(
        shown_rows,
        hide_index=True,
        width="stretch",
        height=min(38 + 35 * max(len(rows), 1), 430),
        column_config=_column_config(shown_rows),
        key=f"{key}_grid",
        placeholder="—",
    )
    if export is not None:
        _downloads(ordered, export, key)
    return rows
