"""The analyst's view as URL query parameters: where the map is, which filters apply.

Pure: a dict of query parameters in, a :class:`ViewState` out, and back. Everything in a URL is
user input, so a value that does not parse falls back to its default instead of failing the
page; a shared or reloaded link restores the same view.

Parameters: ``region`` (unit code), ``tier`` (tier drawn), ``rule``, ``asof``, ``from``/``to``
(hazard period), ``sector``/``grade``/``flag`` (comma lists), ``hgrade`` (1 重大 / 2 一般),
``hstate`` (open / overdue), ``ent`` (the enterprise shown beside the map, by USCC).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace

from geo.grading import DEFAULT_RULE, RULES

__all__ = ["ViewState", "HAZARD_STATES", "SPECIAL_FLAGS", "default_period"]

SPECIAL_FLAGS = ("重大危险源", "粉尘涉爆", "涉氨制冷", "有限空间")
HAZARD_STATES = {"all": "全部", "open": "未整改", "overdue": "逾期未整改"}


def default_period(today: dt.date) -> tuple[dt.date, dt.date]:
    """Twelve calendar months up to ``today``: from the first day of the month eleven months
    before it (the trend's twelve bars) to ``today``."""
    month_index = today.year * 12 + today.month - 1 - 11
    return dt.date(month_index // 12, month_index % 12 + 1, 1), today


def _date(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _items(value: str | None) -> tuple[str, ...]:
    return tuple(dict.fromkeys(item.strip() for item in (value or "").split(",") if item.strip()))


@dataclass(frozen=True)
class ViewState:
    region: str | None = None  # None: the district
    tier: int | None = None  # None: one tier below the region
    rule: str = DEFAULT_RULE.name
    as_of: dt.date | None = None  # None: today
    start: dt.date | None = None  # None: default_period
    end: dt.date | None = None
    sectors: tuple[str, ...] = field(default_factory=tuple)
    grades: tuple[int, ...] = field(default_factory=tuple)
    flags: tuple[str, ...] = field(default_factory=tuple)
    hazard_grade: int | None = None
    hazard_state: str = "all"
    enterprise: str | None = None  # USCC

    @classmethod
    def from_params(cls, params: dict[str, str], *, today: dt.date) -> ViewState:
        tier = params.get("tier", "")
        hgrade = params.get("hgrade", "")
        as_of = _date(params.get("asof"))
        start, end = _date(params.get("from")), _date(params.get("to"))
        if start and end and start > end:
            start, end = end, start
        return cls(
            region=params.get("region") or None,
            tier=int(tier) if tier in ("2", "3", "4") else None,
            rule=params["rule"] if params.get("rule") in RULES else DEFAULT_RULE.name,
            as_of=as_of if as_of and as_of <= today else None,
            start=start,
            end=end if end is None or end <= today else today,
            sectors=_items(params.get("sector")),
            grades=tuple(int(g) for g in _items(params.get("grade")) if g in ("1", "2", "3", "4")),
            flags=tuple(f for f in _items(params.get("flag")) if f in SPECIAL_FLAGS),
            hazard_grade=int(hgrade) if hgrade in ("1", "2") else None,
            hazard_state=params.get("hstate") if params.get("hstate") in HAZARD_STATES else "all",
            enterprise=params.get("ent") or None,
        )

    def to_params(self) -> dict[str, str]:
        """Only what differs from the defaults, so a plain view has a plain URL."""
        pairs = {
            "region": self.region,
            "tier": str(self.tier) if self.tier else None,
            "rule": self.rule if self.rule != DEFAULT_RULE.name else None,
            "asof": self.as_of.isoformat() if self.as_of else None,
            "from": self.start.isoformat() if self.start else None,
            "to": self.end.isoformat() if self.end else None,
            "sector": ",".join(self.sectors) or None,
            "grade": ",".join(map(str, self.grades)) or None,
            "flag": ",".join(self.flags) or None,
            "hgrade": str(self.hazard_grade) if self.hazard_grade else None,
            "hstate": self.hazard_state if self.hazard_state != "all" else None,
            "ent": self.enterprise,
        }
        return {key: value for key, value in pairs.items() if value}

    def with_changes(self, **changes: object) -> ViewState:
        return replace(self, **changes)

    def effective_as_of(self, today: dt.date) -> dt.date:
        return self.as_of or today

    def period(self, today: dt.date) -> tuple[dt.date, dt.date]:
        default_start, default_end = default_period(today)
        return self.start or default_start, self.end or default_end
