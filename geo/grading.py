"""Risk grading (DOMAIN.md §2–3): enterprise grades from assessments, region grades by a named,
versioned rule, and the hazard state behind them on any date. Pure: DataFrames in, DataFrames out.

Grades are 1 重大 (red), 2 较大 (orange), 3 一般 (yellow), 4 低 (blue); "no data" (grey) is
``<NA>``. A lower number is a higher risk, so "the highest grade" is the minimum.

This is the reference implementation: the database computes the same results in SQL
(db/grading.py) and a property test holds them equal.

Regions are graded on their own enterprises, never on their children's grades: every placed
enterprise counts in each unit of its stored ancestry (``region_path``), so a township's counts
are the sums of its cells' counts and, under the max rule, its grade is the highest of its
cells' grades. Enterprises without a cell (no coordinates, outside the grid) and closed ones
are not graded into any region.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

__all__ = [
    "ASSESSMENT_METHODS",
    "AssessmentBands",
    "DEFAULT_BANDS",
    "Escalation",
    "RegionRule",
    "MAX_RULE",
    "WEIGHTED_RULE",
    "DEFAULT_RULE",
    "RULES",
    "band_scores",
    "enterprise_grades",
    "hazard_state",
    "region_counts",
    "grade_regions",
    "COUNT_COLUMNS",
]

GRADES = (1, 2, 3, 4)
CLOSED_STATUS = "关闭"


ASSESSMENT_METHODS = ("LEC", "LS")


@dataclass(frozen=True)
class AssessmentBands:
    """Score bands of an assessment method: a score ≥ thresholds[0] is grade 1, ≥ [1] grade 2,
    ≥ [2] grade 3, anything lower grade 4. Changing the bands makes a new version, in force
    from ``valid_from`` (the database keeps every version: db/bands.py)."""

    method: str  # "LEC" (D = L×E×C) or "LS" (R = L×S)
    version: str
    thresholds: tuple[float, float, float]
    valid_from: dt.date

    def __post_init__(self) -> None:
        if self.method not in ASSESSMENT_METHODS:
            raise ValueError(f"unknown assessment method {self.method!r} (expected one of {ASSESSMENT_METHODS})")
        if not self.version:
            raise ValueError(f"{self.method} bands need a version name")
        edges = tuple(float(t) for t in self.thresholds)
        if len(edges) != 3 or not edges[0] > edges[1] > edges[2] > 0:
            raise ValueError(
                f"{self.method} band thresholds {self.thresholds!r} must be three positive numbers, "
                "highest first (the lowest score of 重大, 较大 and 一般), e.g. 320 160 70"
            )
        object.__setattr__(self, "thresholds", edges)


# The common bands (DOMAIN.md §2): LEC D ≥ 320 / 160 / 70; LS R ≥ 20 / 15 / 9. Migration 0009
# seeds the database with the same version; a test holds the two equal.
DEFAULT_BANDS = {
    "LEC": AssessmentBands("LEC", "通用-1", (320.0, 160.0, 70.0), dt.date(2020, 1, 1)),
    "LS": AssessmentBands("LS", "通用-1", (20.0, 15.0, 9.0), dt.date(2020, 1, 1)),
}


def band_scores(scores: pd.Series, thresholds: tuple[float, float, float]) -> pd.Series:
    """Grades 1–4 for scores (``<NA>`` where the score is missing)."""
    values = scores.to_numpy(dtype=float, na_value=np.nan)
    grades = np.select([values >= thresholds[0], values >= thresholds[1], values >= thresholds[2]], [1, 2, 3], 4)
    return pd.Series(pd.array(np.where(np.isnan(values), pd.NA, grades), dtype="Int64"), index=scores.index)


def enterprise_grades(enterprises: pd.DataFrame, bands: dict[str, AssessmentBands] | None = None) -> pd.DataFrame:
    """Each enterprise's grade: the input grade when given, else LS (R = L×S), else LEC
    (D = L×E×C), banded by ``bands``. Columns: grade, grade_source, bands_version."""
    bands = bands or DEFAULT_BANDS
    given = pd.array(enterprises["grade"], dtype="Int64")
    ls = band_scores(enterprises["ls_l"].astype(float) * enterprises["ls_s"].astype(float), bands["LS"].thresholds)
    lec = band_scores(
        enterprises["lec_l"].astype(float) * enterprises["lec_e"].astype(float) * enterprises["lec_c"].astype(float),
        bands["LEC"].thresholds,
    )
    has_given, has_ls, has_lec = ~pd.isna(given), ls.notna().to_numpy(), lec.notna().to_numpy()
    grade = pd.Series(given, index=enterprises.index).where(has_given, ls.where(has_ls, lec))
    source = np.select([has_given, has_ls, has_lec], ["input", "LS", "LEC"], "")
    version = np.select([has_given, has_ls, has_lec], ["", bands["LS"].version, bands["LEC"].version], "")
    return pd.DataFrame(
        {
            "grade": grade.astype("Int64"),
            "grade_source": pd.Series(np.where(source == "", None, source), index=enterprises.index, dtype=object),
            "bands_version": pd.Series(np.where(version == "", None, version), index=enterprises.index, dtype=object),
        }
    )


def hazard_state(hazards: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """Each hazard's state at the end of ``as_of``: found by then, open (not yet rectified),
    overdue (open with its deadline passed), major open, 挂牌督办 open, overdue major."""
    day = pd.Timestamp(as_of)
    found = pd.to_datetime(hazards["found_date"]) <= day
    rectified = pd.to_datetime(hazards["rectified_date"])
    open_ = found & (rectified.isna() | (rectified > day))
    overdue = open_ & (pd.to_datetime(hazards["deadline_date"]) < day)
    major = hazards["hazard_grade"].to_numpy() == 1
    return pd.DataFrame(
        {
            "found": found,
            "open": open_,
            "overdue": overdue,
            "major_open": open_ & major,
            "listed_open": open_ & hazards["listed_level"].notna(),
            "overdue_major": overdue & major,
        },
        index=hazards.index,
    )


HAZARD_COUNTS = ("open", "overdue", "major_open", "listed_open", "overdue_major")
COUNT_COLUMNS = (
    "enterprises",
    "enterprises_g1",
    "enterprises_g2",
    "enterprises_g3",
    "enterprises_g4",
    "enterprises_ungraded",
    *(f"hazards_{name}" for name in HAZARD_COUNTS),
)


@dataclass(frozen=True)
class Escalation:
    """When a region has ``indicator`` > 0 (e.g. hazards_major_open), its grade is at least ``grade``."""

    indicator: str
    grade: int
    label: str  # shown beside the colour, e.g. "有未整改重大隐患"


@dataclass(frozen=True)
class RegionRule:
    """A named, versioned region-grading rule (DOMAIN.md §2 "A region's grade").

    ``method`` "max": the highest enterprise grade (就高). ``method`` "weighted": points per
    enterprise by grade, plus points per open general / major hazard and per overdue hazard,
    divided by the region's enterprises, banded by the tier's ``thresholds`` (score ≥
    thresholds[tier][0] is grade 1 …; a tier without its own bands uses the nearest tier's).
    Averages over more enterprises spread less, so coarser tiers need narrower bands.
    ``escalations`` lift a region on top of either.
    """

    name: str
    version: str
    method: str
    label: str  # the rule's Chinese name in the UI
    grade_points: dict[int, float] = field(default_factory=dict)
    open_general_points: float = 0.0
    open_major_points: float = 0.0
    overdue_points: float = 0.0
    thresholds: dict[int, tuple[float, float, float]] = field(default_factory=dict)
    escalations: tuple[Escalation, ...] = ()

    def __post_init__(self) -> None:
        # Checked once here for both implementations; the SQL one splices the indicator names.
        if self.method not in ("max", "weighted"):
            raise ValueError(f"unknown rule method {self.method!r} (expected 'max' or 'weighted')")
        if self.method == "weighted" and not self.thresholds:
            raise ValueError(f"rule {self.name}: the weighted method needs thresholds for at least one tier")
        unknown = [e.indicator for e in self.escalations if e.indicator not in COUNT_COLUMNS]
        if unknown:
            raise ValueError(
                f"rule {self.name}: unknown escalation indicators {unknown} (expected one of {COUNT_COLUMNS})"
            )

    def thresholds_for(self, tier: int) -> tuple[float, float, float]:
        nearest = min(self.thresholds, key=lambda t: (abs(t - tier), -t))
        return self.thresholds[nearest]

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


_ESCALATIONS = (
    Escalation("hazards_major_open", 1, "有未整改的重大隐患"),
    Escalation("hazards_listed_open", 1, "有挂牌督办隐患"),
    Escalation("hazards_overdue_major", 2, "有逾期未整改的重大隐患"),
)
MAX_RULE = RegionRule(name="max", version="1", method="max", label="就高")
# Calibrated on the demo district (README "How the default rule was calibrated").
WEIGHTED_RULE = RegionRule(
    name="weighted",
    version="1",
    method="weighted",
    label="加权评分+升级",
    grade_points={1: 10.0, 2: 4.0, 3: 1.5, 4: 0.5},
    open_general_points=0.5,
    open_major_points=3.0,
    overdue_points=1.0,
    thresholds={4: (1.64, 1.19, 0.83), 3: (1.29, 1.13, 0.98)},
    escalations=_ESCALATIONS,
)
DEFAULT_RULE = WEIGHTED_RULE
RULES = {rule.name: rule for rule in (WEIGHTED_RULE, MAX_RULE)}


def region_counts(
    units: pd.DataFrame, enterprises: pd.DataFrame, hazards: pd.DataFrame, as_of: dt.date
) -> pd.DataFrame:
    """Counts behind each unit's grade on ``as_of``, indexed by unit code.

    ``units``: code, tier, path. ``enterprises``: id, region_path, cell_code, status, grade
    (effective). ``hazards``: enterprise_id and the dates, hazard_grade, listed_level.
    """
    graded = enterprises[enterprises["cell_code"].notna() & (enterprises["status"] != CLOSED_STATUS)]
    state = hazard_state(hazards, as_of)
    per_enterprise = state[list(HAZARD_COUNTS)].astype(int).groupby(hazards["enterprise_id"].to_numpy()).sum()
    frame = pd.DataFrame({"id": graded["id"].to_numpy(), "grade": pd.array(graded["grade"], dtype="Int64")})
    frame = frame.join(per_enterprise.add_prefix("hazards_"), on="id").fillna(
        dict.fromkeys((f"hazards_{n}" for n in HAZARD_COUNTS), 0)
    )
    frame["enterprises"] = 1
    for g in GRADES:
        frame[f"enterprises_g{g}"] = (frame["grade"] == g).fillna(False).astype(int)
    frame["enterprises_ungraded"] = frame["grade"].isna().astype(int)
    pairs = frame.assign(code=list(graded["region_path"])).explode("code")
    sums = pairs.groupby("code")[list(COUNT_COLUMNS)].sum()
    best = pairs.groupby("code")["grade"].min()
    counts = (
        pd.DataFrame(index=pd.Index(units["code"], name="code"))
        .join(sums)
        .fillna(0)
        .astype({c: "int64" for c in COUNT_COLUMNS})
    )
    counts["highest_grade"] = pd.array(best.reindex(counts.index), dtype="Int64")
    return counts


def grade_regions(
    units: pd.DataFrame, enterprises: pd.DataFrame, hazards: pd.DataFrame, rule: RegionRule, as_of: dt.date
) -> pd.DataFrame:
    """Every unit's grade on ``as_of`` under ``rule``, with the counts and score behind it.

    Columns: code, tier, grade (``<NA>`` = no data), score, escalated_by, the counts.
    """
    counts = region_counts(units, enterprises, hazards, as_of)
    has_data = counts["enterprises"] > 0
    tiers = units.set_index("code")["tier"].reindex(counts.index)
    if rule.method == "max":
        score = pd.Series(np.nan, index=counts.index)
        grade = counts["highest_grade"].copy()
    else:  # weighted (RegionRule checks the method)
        points = sum(counts[f"enterprises_g{g}"] * rule.grade_points.get(g, 0.0) for g in GRADES)
        open_major = counts["hazards_major_open"]
        points = points + (counts["hazards_open"] - open_major) * rule.open_general_points
        points = points + open_major * rule.open_major_points + counts["hazards_overdue"] * rule.overdue_points
        score = (points / counts["enterprises"].where(has_data)).round(6)
        grade = pd.Series(pd.NA, index=counts.index, dtype="Int64")
        for tier in tiers.unique():
            at_tier = (tiers == tier).to_numpy()
            grade[at_tier] = band_scores(score[at_tier], rule.thresholds_for(int(tier)))
    escalated_by = pd.Series(None, index=counts.index, dtype=object)
    for escalation in rule.escalations:
        lifts = has_data & (counts[escalation.indicator] > 0) & ~(grade <= escalation.grade).fillna(False)
        grade = grade.mask(lifts, escalation.grade)
        escalated_by = escalated_by.mask(lifts & escalated_by.isna(), escalation.label)
    grade = pd.array(grade.where(has_data), dtype="Int64")
    escalated_by = escalated_by.astype(object).where(escalated_by.notna(), None)
    result = counts.drop(columns="highest_grade").assign(
        tier=tiers.to_numpy(), grade=grade, score=score, escalated_by=escalated_by
    )
    return result.reset_index()[["code", "tier", "grade", "score", "escalated_by", *COUNT_COLUMNS]]
