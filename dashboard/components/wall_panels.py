"""HTML of the wall screen's panels: pure functions, figures in, escaped markup out.

The panels are plain HTML and inline SVG drawn on a 1920×1080 design grid (dashboard/components/
wall.css scales it to the screen): text and charts stay sharp and keep their proportions on a
4K wall, and a test can measure every label's size and contrast. Every string that comes from
data is escaped here (``st.html`` inserts markup as given).
"""

from __future__ import annotations

import datetime as dt
import html
import math
from pathlib import Path

import pandas as pd

from config.settings import Palette
from dashboard.components.view_model import TIER_NAMES_ZH
from dashboard.components.wall_model import WallSnapshot, WallView
from geo.palette import GRADE_NAMES_ZH, GRADES

__all__ = [
    "CSS_FILE",
    "MAP_TITLE",
    "style",
    "header",
    "headline",
    "grade_panel",
    "trend_panel",
    "bar_panel",
    "ranking_panel",
    "centre_panel",
    "alert_strip",
    "message_page",
    "clock_script",
]

CSS_FILE = Path(__file__).with_name("wall.css")
MAP_TITLE = "大屏风险地图"  # the map iframe's title, which wall.css positions
WEEKDAYS_ZH = "一二三四五六日"
GRADE_SHORT_ZH = {1: "重大", 2: "较大", 3: "一般", 4: "低", 0: "无数据"}

# Panel frames on the 1920×1080 design grid: x, y, width, height in design pixels.
FRAMES = {
    "kpis": (24, 92, 1872, 120),
    "grades": (24, 228, 600, 214),
    "trend": (24, 458, 600, 270),
    "places": (24, 744, 600, 240),
    "centre": (640, 228, 640, 756),  # the map frame inside it is placed by wall.css
    "communities": (1296, 228, 600, 480),
    "sectors": (1296, 724, 600, 260),
    "alerts": (24, 1000, 1872, 56),
}


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _count(value: object) -> str:
    return "—" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{int(value):,}"


def _rate(rate: float | None) -> str:
    return "—" if rate is None or (isinstance(rate, float) and math.isnan(rate)) else f"{rate * 100:.1f}"


def _frame(name: str, body: str, *, extra_class: str = "", attrs: str = "") -> str:
    x, y, w, h = FRAMES[name]
    return (
        f'<section class="wall wp {extra_class}" data-testid="wall-{name}" {attrs}'
        f'style="--x:{x};--y:{y};--w:{w};--h:{h}">{body}</section>'
    )


def _title(text: str, note: str = "") -> str:
    note_html = f'<span class="wp-note">{note}</span>' if note else ""
    return f'<h2 class="wp-title"><span class="wall-label">{_e(text)}</span>{note_html}</h2>'


def style(palette: Palette) -> str:
    """The wall's stylesheet, with the palette's grade colours as CSS variables."""
    colours = ";".join(f"--g{g}:{palette.colour_for(g)}" for g in GRADES) + f";--g0:{palette.no_data}"
    return f"<style>:root{{{colours}}}\n{CSS_FILE.read_text(encoding='utf-8')}</style>"


def _clock_text(now: dt.datetime) -> tuple[str, str]:
    return f"{now:%H:%M:%S}", f"{now:%Y年%m月%d日} 星期{WEEKDAYS_ZH[now.weekday()]}"


def header(
    *,
    bureau: str,
    title: str,
    now: dt.datetime,
    updated_at: dt.datetime | None,
    grades_note: str,
    interrupted: bool,
    demo: bool,
) -> str:
    """The title bar: bureau, title, data time (or the interruption notice) and the clock."""
    time_text, date_text = _clock_text(now)
    if interrupted:
        shown = f"，显示 {updated_at:%H:%M} 的数据" if updated_at else ""
        status = f'<span class="wh-stale" data-testid="wall-interrupted">数据更新中断{shown}，恢复后自动更新</span>'
    elif updated_at:
        status = f"数据更新 {updated_at:%H:%M:%S}" + (f" · {_e(grades_note)}" if grades_note else "")
    else:
        status = "正在连接数据服务…"
    demo_tag = '<span class="wh-demo">演示数据</span>' if demo else ""
    return (
        '<header class="wall wh" data-testid="wall-header">'
        f'<div><div class="wh-bureau">{_e(bureau)}{demo_tag}</div>'
        f'<div class="wh-status" data-testid="wall-status">{status}</div></div>'
        f'<h1 class="wh-title">{_e(title)}</h1>'
        f'<div class="wh-right"><div class="wh-clock" id="wall-clock">{time_text}</div>'
        f'<div class="wh-date" id="wall-date">{date_text}</div></div>'
        "</header>"
    )


def clock_script(timezone: str) -> str:
    """Ticks the header clock in the browser every second (no rerun per second); installed once
    per page even though the header is redrawn at every refresh. (No ``<`` in the script:
    Streamlit's sanitiser drops a script holding one.)"""
    return (
        "<script>(function(){if(window.__wallClock){return;}"
        f"var tz={_e(timezone)!r};var days='{WEEKDAYS_ZH}';"
        "function tick(){var p={};new Intl.DateTimeFormat('en-GB',{timeZone:tz,year:'numeric',month:'2-digit',"
        "day:'2-digit',hour:'2-digit',minute:'2-digit',second:'2-digit',weekday:'short',hour12:false})"
        ".formatToParts(new Date()).forEach(function(x){p[x.type]=x.value;});"
        "var w={Mon:0,Tue:1,Wed:2,Thu:3,Fri:4,Sat:5,Sun:6}[p.weekday];"
        "var c=document.getElementById('wall-clock'),d=document.getElementById('wall-date');"
        "if(c){c.textContent=p.hour+':'+p.minute+':'+p.second;}"
        "if(d){d.textContent=p.year+'年'+p.month+'月'+p.day+'日 星期'+days[w];}}"
        "window.__wallClock=setInterval(tick,1000);tick();})();</script>"
    )


def headline(snapshot: WallSnapshot) -> str:
    """The seven headline figures."""
    h = snapshot.headline
    tiles = [
        ("在册企业", _count(h["enterprises"]), "家", "", "enterprises"),
        ("本月发现隐患", _count(h["found_month"]), "条", "", "found_month"),
        ("整改率（近12个月）", _rate(h["rectification_rate"]), "%", "", "rectification_rate"),
        ("未整改隐患", _count(h["open"]), "条", "", "open"),
        ("逾期未整改", _count(h["overdue"]), "条", "is-warn", "overdue"),
        ("重大隐患未整改", _count(h["major_open"]), "条", "is-alert", "major_open"),
        ("挂牌督办未销号", _count(h["listed_open"]), "条", "is-alert", "listed_open"),
    ]
    cells = "".join(
        f'<div class="wk-tile {kind}"><div class="wk-label wall-label">{label}</div>'
        f'<div class="wk-value"><span class="wk-num wall-figure{" is-nonzero" if value not in ("0", "—") else ""}" '
        f'data-kpi="{key}">{value}</span><span class="wk-unit">{unit}</span></div></div>'
        for label, value, unit, kind, key in tiles
    )
    return _frame("kpis", cells, extra_class="wk")


def grade_panel(snapshot: WallSnapshot) -> str:
    """Enterprises by risk grade, in the map's colours."""
    h = snapshot.headline
    total = sum(int(h[f"grade_{g}"]) for g in GRADES)
    cells = "".join(
        f'<div class="wg-cell" style="--swatch:var(--g{g})" data-grade="{g}">'
        f'<div><div class="wg-label wall-label">{GRADE_NAMES_ZH[g]}</div>'
        f'<div class="wg-share">{(int(h[f"grade_{g}"]) / total if total else 0):.1%}</div></div>'
        f'<div class="wg-num wall-figure">{_count(h[f"grade_{g}"])}</div></div>'
        for g in GRADES
    )
    return _frame(
        "grades", _title("企业风险等级", f"共 {_count(h['enterprises'])} 家") + f'<div class="wg">{cells}</div>'
    )


def _nice_max(value: float) -> float:
    """A round axis maximum at or above ``value`` (1, 1.2, 1.5, 2 … 8 × a power of ten)."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    return next(step * power for step in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10) if step * power >= value)


def trend_panel(snapshot: WallSnapshot) -> str:
    """Hazards found and rectified per month over the twelve months, as paired bars."""
    trend = snapshot.trend
    peak = _nice_max(float(max(trend["found"].max(), trend["rectified"].max(), 1)))
    axis = "".join(f'<span style="bottom:{k * 50}%">{_axis(peak * k / 2)}</span>' for k in (0, 1, 2))
    grid = "".join(
        f'<div class="wt-grid" style="bottom:calc({k * 50}% * 162 / 192 + 30 * var(--u))"></div>' for k in (1, 2)
    )
    months = "".join(
        f'<div class="wt-month"><div class="wt-bars">'
        f'<i class="found" style="height:{100 * row.found / peak:.1f}%" title="发现 {row.found}"></i>'
        f'<i class="rectified" style="height:{100 * row.rectified / peak:.1f}%" title="整改 {row.rectified}"></i>'
        f'</div><div class="wt-x">{pd.Timestamp(row.period).month}月</div></div>'
        for row in trend.itertuples()
    )
    chart = f'<div class="wt"><div class="wt-axis">{axis}</div><div class="wt-plot">{grid}{months}</div></div>'
    start, end = snapshot.period
    key = (
        '<span class="wt-key"><i style="background:#3b82f6"></i>发现</span>'
        '<span class="wt-key"><i style="background:#10b981"></i>整改</span>'
    )
    return _frame("trend", _title("近12个月隐患趋势", f"{start:%Y.%m}–{end:%Y.%m}{key}") + chart)


def _axis(value: float) -> str:
    return f"{value / 10000:g}万" if value >= 10000 else f"{value:,.0f}"


def bar_panel(name: str, title: str, frame: pd.DataFrame, label_column: str, *, note: str = "") -> str:
    """A ranked list with a bar per row (found) and the overdue count beside it."""
    peak = max(int(frame["found"].max()) if len(frame) else 0, 1)
    rows = "".join(
        f'<div class="wb-row"><span class="wb-label wall-label">{_e(row[label_column])}</span>'
        f'<span class="wb-track"><span class="wb-bar" style="display:block;width:{100 * row["found"] / peak:.1f}%"></span></span>'
        f'<span class="wb-num">{_count(row["found"])}</span><span class="wb-over">逾期 {_count(row["overdue"])}</span></div>'
        for _, row in frame.iterrows()
    )
    if not len(frame):
        rows = '<div class="wp-sub">近12个月没有隐患记录</div>'
    return _frame(name, _title(title, note) + rows)


def ranking_panel(snapshot: WallSnapshot) -> str:
    """The communities (villages) with the most overdue hazards, then open ones."""
    tier_name = TIER_NAMES_ZH.get(snapshot.communities_tier, "单元")
    parent_name = TIER_NAMES_ZH.get(snapshot.communities_tier - 1, "所属")
    body = "".join(
        f'<tr><td><span class="wr-rank{" is-top" if row.rank <= 3 else ""}">{row.rank}</span></td>'
        f'<td class="wall-label">{_e(row.name)}</td><td class="muted">{_e(row.parent)}</td>'
        f'<td class="num">{_count(row.open)}</td><td class="num over">{_count(row.overdue)}</td></tr>'
        for row in snapshot.communities.itertuples()
    )
    table = (
        '<table class="wr"><colgroup><col style="width:12%"><col style="width:34%"><col style="width:26%">'
        '<col style="width:14%"><col style="width:14%"></colgroup>'
        f"<thead><tr><th>排名</th><th>{_e(tier_name)}</th><th>{_e(parent_name)}</th>"
        '<th class="num">未整改</th><th class="num">逾期</th></tr></thead>'
        f"<tbody>{body}</tbody></table>"
    )
    return _frame("communities", _title(f"{tier_name}隐患排名 TOP{len(snapshot.communities)}", "按逾期未整改") + table)


def _facts(row: pd.Series | None, view: WallView, structure: dict[int, int]) -> str:
    if view.kind == "district" or row is None:
        parts = [f"<b>{n:,}</b>个{TIER_NAMES_ZH[t]}" for t, n in sorted(structure.items())]
        return "全区 " + " · ".join(parts) if parts else ""
    return (
        f"企业<b>{_count(row['enterprises'])}</b>家 · 未整改<b>{_count(row['open'])}</b> · "
        f'逾期<b class="over">{_count(row["overdue"])}</b> · 重大隐患<b>{_count(row["major_open"])}</b>'
    )


def _grade_badge(row: pd.Series | None) -> str:
    if row is None:
        return ""
    grade = 0 if pd.isna(row["grade"]) else int(row["grade"])
    return (
        f'<span class="wc-badge" style="--swatch:var(--g{grade})" data-grade="{grade}">'
        f"{GRADE_NAMES_ZH.get(grade, '无数据')}</span>"
    )


def _compare(snapshot: WallSnapshot) -> str:
    children = snapshot.children
    peak = max(int(children["open"].max()) if len(children) else 0, 1)
    rows = "".join(
        f'<div class="wv-row" data-code="{_e(row.code)}">'
        f'<span class="wv-swatch" style="--swatch:var(--g{0 if pd.isna(row.grade) else int(row.grade)})"></span>'
        f'<span class="wv-name wall-label">{_e(row.name)}</span>'
        f'<span class="wv-bars"><span class="wv-bar open" style="width:{100 * row.open / peak:.1f}%"></span>'
        f'<span class="wv-bar over" style="width:{100 * row.overdue / peak:.1f}%"></span></span>'
        f'<span class="wv-num">{_count(row.open)}</span><span class="wv-num over">{_count(row.overdue)}</span></div>'
        for row in children.itertuples()
    )
    head = (
        f'<div class="wv-row wv-head"><span></span><span>{_e(TIER_NAMES_ZH.get(snapshot.children_tier, ""))}</span>'
        '<span class="wv-legend"><i style="background:var(--accent)"></i>未整改<i style="background:var(--warn)"></i>逾期</span>'
        '<span class="wv-num" style="font-weight:400">未整改</span><span class="wv-num" style="font-weight:400">逾期</span></div>'
    )
    return head + rows


def _legend(counts: dict[int, int], tier: int) -> str:
    keys = "".join(
        f'<span class="wc-key{" is-none" if g == 0 else ""}" style="--swatch:var(--g{g})"><i></i>'
        f"{GRADE_SHORT_ZH[g]} <b>{counts.get(g, 0)}</b></span>"
        for g in (*GRADES, 0)
    )
    return f'<div class="wc-legend" data-testid="wall-legend">{keys}</div>'


def centre_panel(
    snapshot: WallSnapshot,
    view: WallView,
    *,
    position: tuple[int, int],
    rotate_s: float,
    structure: dict[int, int],
    legend: dict[int, int] | None = None,
) -> str:
    """The rotating centre: a map's title and facts (the map itself is an iframe placed by
    wall.css), or the townships compared."""
    index, total = position
    if view.kind == "trends":
        tier_name = TIER_NAMES_ZH.get(snapshot.children_tier, "")
        title = f"{tier_name}隐患对比"
        facts = f"{_e(snapshot.top_name)} · 当前未整改与逾期隐患 · 色块为风险等级"
        body = f'<div class="wv" data-testid="wall-compare">{_compare(snapshot)}</div>'
        badge = ""
    else:
        tier_name = TIER_NAMES_ZH.get(view.tier, "")
        scope_name = "全区" if view.kind == "district" else view.name
        title = f"{scope_name} · {tier_name}风险四色图"
        match = snapshot.children[snapshot.children["code"] == view.code]
        row = match.iloc[0] if len(match) and view.kind == "township" else None
        facts = _facts(row, view, structure)
        badge = _grade_badge(row)
        body = _legend(legend or {}, view.tier)
    head = (
        f'<div class="wc-head"><span class="wc-title wall-label" data-testid="wall-view-title">{_e(title)}</span>'
        f'{badge}<span class="wc-pos">{index + 1} / {total}</span></div><div class="wc-facts">{facts}</div>'
    )
    progress = f'<div class="wc-progress" style="--rotate:{rotate_s:g}s"></div>'
    return _frame("centre", head + body + progress, attrs=f'data-view="{_e(view.key)}" ')


def alert_strip(snapshot: WallSnapshot, *, page: int, per_page: int, days: int) -> str:
    """重大隐患 that became overdue in the last ``days`` days (enterprise names are published for
    these), a page at a time; a calm line with the totals when there are none."""
    alerts = snapshot.alerts
    label = '<div class="wa-label wall-label">重大隐患逾期预警</div>'
    if not len(alerts):
        h = snapshot.headline
        text = (
            f'<div class="wa-items"><span class="wa-calm">近{days}日无新增逾期重大隐患</span>'
            f'<span class="wa-item">重大隐患未整改 <b>{_count(h["major_open"])}</b> 条 · '
            f"挂牌督办未销号 <b>{_count(h['listed_open'])}</b> 条</span></div>"
        )
        return _frame("alerts", label + text, extra_class="wa")
    pages = math.ceil(len(alerts) / per_page)
    shown = alerts.iloc[(page % pages) * per_page :][:per_page]
    items = "".join(
        f'<span class="wa-item" data-testid="wall-alert"><span class="wa-tag">逾期{int(row.days_overdue)}天</span>'
        f"<b>{_e(row.enterprise)}</b> · {_e(row.unit)} · 期限{row.deadline_date:%m-%d}"
        + (f" · {_e(row.listed_level)}挂牌" if isinstance(row.listed_level, str) and row.listed_level else "")
        + "</span>"
        for row in shown.itertuples()
    )
    count = f'<div class="wa-count">近{days}日新增 {len(alerts)} 条 · {page % pages + 1}/{pages}</div>'
    return _frame("alerts", label + f'<div class="wa-items">{items}</div>' + count, extra_class="wa")


def message_page(title: str, detail: str) -> str:
    """A plain full-screen message (a refused link, a screen waiting for its data)."""
    return (
        f'<div class="wall wm" data-testid="wall-message"><h1 class="wall-label">{_e(title)}</h1>'
        f"<p>{_e(detail)}</p></div>"
    )
