"""Bench reference (a) of bench/bench_map.py: a bare Streamlit page showing one title, served
with the dashboard's own config flags — the framework's floor for any page."""

import streamlit as st

st.title("风险地图基准：空白页")
