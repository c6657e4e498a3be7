"""Charts of the analyst pages (Vega-Lite through Altair, bundled with Streamlit: no network),
with Chinese axis labels and the map's palette."""

from __future__ import annotations

import altair as alt
import pandas as pd

__all__ = ["trend_chart", "place_type_chart"]

FOUND_COLOUR = "#2563EB"
RECTIFIED_COLOUR = "#16A34A"
OVERDUE_COLOUR = "#C8102E"


def trend_chart(trend: pd.DataFrame, *, weekly: bool) -> alt.Chart:
    """Hazards found (bars) and rectified (line) per week or month."""
    frame = trend.assign(周期=pd.to_datetime(trend["period"]).dt.strftime("%m-%d" if weekly else "%Y-%m"))
    frame = frame.rename(columns={"found": "发现", "rectified": "整改"})
    x = alt.X("周期:N", sort=None, title="按周（周一起）" if weekly else "按月", axis=alt.Axis(labelAngle=0))
    bars = (
        alt.Chart(frame)
        .mark_bar(color=FOUND_COLOUR, opacity=0.75)
        .encode(x=x, y=alt.Y("发现:Q", title="隐患数"), tooltip=["周期", "发现", "整改"])
    )
    line = alt.Chart(frame).mark_line(color=RECTIFIED_COLOUR, point=True, strokeWidth=2.5).encode(x=x, y="整改:Q")
    return (bars + line).properties(height=260)


def place_type_chart(place_types: pd.DataFrame) -> alt.Chart:
    """Hazards found and overdue per 场所类型, most found first."""
    frame = place_types.rename(columns={"place_type": "场所类型", "found": "发现", "overdue": "逾期"})
    long = frame.melt(id_vars="场所类型", value_vars=["发现", "逾期"], var_name="指标", value_name="数量")
    return (
        alt.Chart(long)
        .mark_bar()
        .encode(
            y=alt.Y("场所类型:N", sort=frame["场所类型"].tolist(), title=None),
            x=alt.X("数量:Q", title="隐患数"),
            color=alt.Color(
                "指标:N", scale=alt.Scale(domain=["发现", "逾期"], range=[FOUND_COLOUR, OVERDUE_COLOUR]), title=None
            ),
            yOffset="指标:N",
            tooltip=["场所类型", "指标", "数量"],
        )
        .properties(height=max(200, 34 * len(frame)))
    )
