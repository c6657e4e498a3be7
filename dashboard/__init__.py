"""Streamlit app. Pages only render: state → query/core → draw."""
