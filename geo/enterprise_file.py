"""The enterprise file (一企一档) as facts: how a grade was derived and each hazard's closed loop.

Pure: rows and assessment bands in, a dataclass or DataFrame out. The page only renders them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from geo.grading import AssessmentBands, enterprise_grades
from geo.palette import GRADE_NAMES_ZH

__all__ = ["GradeDerivation", "derive_grade", "hazard_loop", "HAZARD_STAGES_ZH", "OPEN_STAGES"]

# The closed loop of a hazard (DOMAIN.md §3): found → deadline → rectified → verified/closed.
HAZARD_STAGES_ZH = {
    "overdue": "逾期未整改",
    "open": "整改中",
    "rectified": "已整改待验收",
    "closed": "已验收销号",
}
OPEN_STAGES = ("overdue", "open")
_STAGE_ORDER = {stage: i for i, stage in enumerate(HAZARD_STAGES_ZH)}


@dataclass(frozen=True)
class GradeDerivation:
    """Where an enterprise's grade comes from: the list's own grade, or an LEC/LS score banded
    by the version of the bands in force.

    ``source`` is ``input``, ``LEC``, ``LS`` or None (no grade and no complete assessment).
    """

    grade: int | None
    source: str | None
    score: float | None = None
    factors: tuple[tuple[str, float], ...] = ()
    bands: AssessmentBands | None = None

    @property
    def grade_zh(self) -> str:
        return GRADE_NAMES_ZH.get(self.grade, "未定级") if self.grade else "未定级"

    @property
    def explanation_zh(self) -> str:
        """One line saying how the grade was reached, e.g.
        ``LEC 评价：D = L×E×C = 3×6×15 = 270 → 较大风险（分级版本 通用-1：D ≥ 320 重大，≥ 160 较大，≥ 70 一般）``."""
        if self.source == "input":
            return "企业名单给定的风险等级（未按评价分值计算）"
        if self.source is None or self.bands is None or self.score is None:
            return "无风险等级，也无完整的 LEC/LS 评价数据"
        letter = "D" if self.source == "LEC" else "R"
        names = "×".join(name for name, _ in self.factors)
        values = "×".join(_number(value) for _, value in self.factors)
        high, middle, low = (_number(t) for t in self.bands.thresholds)
        return (
            f"{self.source} 评价：{letter} = {names} = {values} = {_number(self.score)} → {self.grade_zh}"
            f"（分级版本 {self.bands.version}，{self.bands.valid_from:%Y-%m-%d} 起施行："
            f"{letter} ≥ {high} 重大，≥ {middle} 较大，≥ {low} 一般，其余为低风险）"
        )


def _number(value: float) -> str:
    return f"{value:g}"


def derive_grade(enterprise: pd.Series, bands: dict[str, AssessmentBands]) -> GradeDerivation:
    """The grade of one enterprise row (``grade``, ``lec_l``, ``lec_e``, ``lec_c``, ``ls_l``,
    ``ls_s``) and how it was derived, with ``bands`` (db.bands.bands_in_force).

    The grade itself comes from :func:`geo.grading.enterprise_grades`, the same function the
    map and the region grades use, so the file can never disagree with them.

    Examples
    --------
    >>> from geo.grading import DEFAULT_BANDS
    >>> row = pd.Series({"grade": None, "lec_l": 3, "lec_e": 6, "lec_c": 15, "ls_l": None, "ls_s": None})
    >>> derive_grade(row, DEFAULT_BANDS).grade
    2
    """
    frame = pd.DataFrame([enterprise[["grade", "lec_l", "lec_e", "lec_c", "ls_l", "ls_s"]].to_dict()])
    graded = enterprise_grades(frame, bands).iloc[0]
    grade = None if pd.isna(graded["grade"]) else int(graded["grade"])
    source = graded["grade_source"]
    if source == "LS":
        factors = (("L", float(enterprise["ls_l"])), ("S", float(enterprise["ls_s"])))
    elif source == "LEC":
        factors = tuple((name, float(enterprise[f"lec_{name.lower()}"])) for name in ("L", "E", "C"))
    else:
        return GradeDerivation(grade=grade, source=source)
    score = float(np.prod([value for _, value in factors]))
    return GradeDerivation(grade=grade, source=source, score=score, factors=factors, bands=bands[source])


def hazard_loop(hazards: pd.DataFrame, today: dt.date) -> pd.DataFrame:
    """Each hazard's place in the closed loop on ``today``, open items first.

    Adds ``stage`` (overdue / open / rectified / closed), ``stage_zh`` and ``overdue_days``:
    for an open hazard the days past its deadline so far; for a rectified one the days it was
    rectified late (0 when on time, NA without a deadline). Order: overdue (longest first),
    open (nearest deadline first), rectified awaiting verification, closed (newest first).

    Overdue follows :func:`geo.grading.hazard_state`: open at the end of ``today`` with the
    deadline before ``today``.
    """
    out = hazards.copy()
    day = pd.Timestamp(today)
    deadline = pd.to_datetime(out["deadline_date"])
    rectified = pd.to_datetime(out["rectified_date"])
    closed = pd.to_datetime(out["closed_date"])
    is_open = rectified.isna() | (rectified > day)
    overdue = is_open & (deadline < day)
    stage = np.select(
        [overdue.to_numpy(), is_open.to_numpy(), closed.notna().to_numpy() & (closed <= day).to_numpy()],
        ["overdue", "open", "closed"],
        "rectified",
    )
    end = rectified.where(~is_open, day)
    late = (end - deadline).dt.days
    out["stage"] = stage
    out["stage_zh"] = pd.Series(stage, index=out.index).map(HAZARD_STAGES_ZH)
    out["overdue_days"] = pd.array(late.clip(lower=0).where(deadline.notna()), dtype="Int64")
    rank = pd.Series(stage, index=out.index).map(_STAGE_ORDER)
    key = pd.DataFrame(
        {
            "rank": rank,
            "overdue": -out["overdue_days"].fillna(0).astype(int).where(rank == 0, 0),
            "deadline": deadline.where(rank == 1),  # NaT (no deadline) sorts last
            "found": -pd.to_datetime(out["found_date"]).astype("int64"),
        },
        index=out.index,
    )
    ordered = key.sort_values(["rank", "overdue", "deadline", "found"], na_position="last").index
    return out.loc[ordered].reset_index(drop=True)
