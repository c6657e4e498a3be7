"""Daily upkeep of a running install: the stored risk grades as of today, the demo's dates.

Grades are stored as of a day; when the day changes (midnight in the bureau's time zone) they
must be recomputed even if no load happened, or the map would show yesterday's colours. The
launcher (dashboard/serve.py) runs :func:`daily_upkeep` at start-up and then every few minutes;
both steps do nothing when there is nothing to do, so the frequent check costs one query.
``python -m loaders regrade --if-stale`` is the same step for installs run by cron.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy import Engine

from config import get_settings
from db.grading import refresh_grades, refresh_if_stale

__all__ = ["daily_upkeep", "regrade_after_load"]


def regrade_after_load(
    engine: Engine, district: str, result: object | None = None
) -> tuple[dt.date, dict[str, int]] | None:
    """Refresh the stored risk grades after a load that may change them, as of today.

    ``result``: a tabular load's result; a load that inserted and updated nothing changes no
    grade and is skipped (returns None). Without one (boundaries, new bands) the grades are
    always refreshed. Its own transaction: the load has committed, and a failure here leaves
    the previous grades, marked by their date. Returns the as-of day and the units graded per
    rule. The command line and the data administration page (through it) both use this.
    """
    if result is not None and result.inserted + result.updated == 0:
        return None
    today = get_settings().today()
    with engine.begin() as conn:
        return today, refresh_grades(conn, district, as_of=today)


def daily_upkeep(engine: Engine, *, say: Callable[[str], None] = lambda _: None) -> list[str]:
    """Shift an older demo's dates to today (demo installs only), then refresh stale grades.

    Returns what was done (empty when everything was current).
    """
    from loaders.demo import shift_demo_dates

    settings = get_settings()
    today = settings.today()
    done: list[str] = []
    if settings.demo and shift_demo_dates(engine, today, say):
        done.append("demo_shift")
    with engine.begin() as conn:
        if refresh_if_stale(conn, settings.district_code, today=today):
            done.append("regrade")
            say(f"风险等级已按 {today} 重新计算")
    return done
