"""Shared table block: a table with its Excel and CSV downloads (built only when clicked, for
viewers who may export, each download an audit row)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from dashboard.components.exports import to_csv_bytes, to_xlsx_bytes
from dashboard.components.session import audited_export, current_viewer

__all__ = ["table_with_downloads"]


def table_with_downloads(
    frame: pd.DataFrame,
    *,
    title: str,
    filters: str,
    data_time: dt.datetime | str,
    stem: str,
    key: str,
    height: int = 360,
) -> None:
    """The table, then "下载 Excel" and "下载 CSV"; the files are made on click, from exactly
    the rows shown, with text neutralised against formula injection."""
    st.dataframe(frame, hide_index=True, width="stretch", height=height)
    viewer = current_viewer()
    if not viewer.can_export:  # leaders read, they do not export
        return
    left, right, _ = st.columns([1, 1, 4])
    left.download_button(
        "下载 Excel",
        audited_export(
            viewer,
            f"{stem}.xlsx",
            len(frame),
            lambda: to_xlsx_bytes(frame, title=title, filters=filters, data_time=data_time),
        ),
        file_name=f"{stem}.xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        key=f"{key}_xlsx",
        on_click="ignore",
    )
    right.download_button(
        "下载 CSV",
        audited_export(viewer, f"{stem}.csv", len(frame), lambda: to_csv_bytes(frame)),
        file_name=f"{stem}.csv",
        mime="text/csv",
        key=f"{key}_csv",
        on_click="ignore",
    )
