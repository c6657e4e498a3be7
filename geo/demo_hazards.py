"""Synthetic demo hazard records (隐患台账), inspections (检查记录) and grid staff (网格员名册).

Two years of closed-loop hazard records (DOMAIN.md §3) for the demo enterprise list of
:mod:`geo.demo_enterprises`, shaped like a bureau's export. Every parameter is data
(``data/demo/hazard_*.csv`` and ``inspection_kinds.csv``, see its README); this module combines them:

1. findings: per enterprise a negative-binomial count whose mean follows the enterprise's sector,
   sub-type, flags, township, status, supervision class and scale (``hazard_rates.csv``), scaled so
   the list averages ``hazards_per_enterprise_year``; hazards come in findings (one inspection or
   self-check records several), each on a day drawn by month (``hazard_months.csv``) and weekday
   inside the enterprise's active window, each with a source (自查/检查/专家/举报);
2. grades: a quota of 重大 hazards weighted towards high-risk enterprises, a quota of them
   挂牌督办; 一般 hazards get a place type and text (``hazard_texts.csv``), 重大 ones a judgement
   basis with its own text (``hazard_bases.csv``);
3. closure: a deadline by grade, then by quota per group of due hazards: rectified on time,
   rectified late or still overdue; verification (验收销号) a few days after rectification. Dates
   never pass ``today``; anything that would is left empty (not yet done).

:func:`generate_demo_inspections` derives the inspections the 检查/专家 hazards were found at
(one per enterprise, day and source) and adds inspections that found nothing, up to the
frequencies of ``inspection_kinds.csv``. :func:`generate_demo_staff` makes a roster covering
every bottom-tier cell. All people, phone numbers and texts are invented (示例数据).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.uscc import uscc_problems

__all__ = [
    "DemoHazardError",
    "HAZARD_COLUMNS",
    "HAZARD_PROFILE_FILES",
    "HazardProfile",
    "INSPECTION_COLUMNS",
    "STAFF_COLUMNS",
    "generate_demo_hazards",
    "generate_demo_inspections",
    "generate_demo_staff",
]

# --- input columns (the enterprise list of geo.demo_enterprises) --------------------------------
USCC = "统一社会信用代码"
NAME = "企业名称"
SECTOR = "行业领域"
SUBTYPE = "行业类别"
FLAGS = "特殊作业/风险标签"
TOWN = "所属乡镇（街道）"
STATUS = "经营状态"
SUPERVISION = "监管分类"
SCALE = "企业规模"
DEPARTMENT = "监管部门"
AGENCY = "安全生产承包服务机构"
FOUNDED = "成立日期"
ENTERPRISE_INPUT_COLUMNS = [USCC, NAME, SECTOR, SUBTYPE, FLAGS, TOWN, STATUS, SUPERVISION, SCALE, DEPARTMENT, AGENCY]
FLAG_SEPARATOR = "、"  # how Chinese lists join several labels (or codes) in one cell

# --- output columns -----------------------------------------------------------------------------
HAZARD_ID = "隐患编号"
FOUND = "发现日期"
SOURCE = "隐患来源"
DESCRIPTION = "隐患描述"
LEVEL = "隐患等级"
BASIS = "判定依据"
PLACE = "场所类型"
DEADLINE = "整改期限"
RECTIFIED = "整改完成日期"
CLOSED = "验收销号日期"
LISTED = "挂牌督办"
HAZARD_COLUMNS = [
    HAZARD_ID,
    USCC,
    NAME,
    FOUND,
    SOURCE,
    DESCRIPTION,
    LEVEL,
    BASIS,
    PLACE,
    DEADLINE,
    RECTIFIED,
    CLOSED,
    LISTED,
]
GENERAL, MAJOR = "一般", "重大"
SOURCES = ("自查", "检查", "专家", "举报")
INSPECTED_SOURCES = ("检查", "专家")  # hazards found at an inspection, linked to it

INSPECTION_ID = "检查编号"
INSPECTED = "检查日期"
UNIT = "检查单位"
INSPECTORS = "检查人员"
KIND = "检查类型"
PROBLEMS = "发现问题数"
LINKED = "关联隐患编号"
INSPECTION_COLUMNS = [INSPECTION_ID, USCC, NAME, INSPECTED, UNIT, INSPECTORS, KIND, PROBLEMS, LINKED]
INSPECTION_KINDS = ("日常", "专项", "执法", "专家")

STAFF_NAME = "姓名"
ROLE = "角色"
PHONE = "手机号码"
CELLS = "负责网格"
STAFF_COLUMNS = [STAFF_NAME, ROLE, PHONE, CELLS]
OFFICER, LEADER = "网格员", "网格长"

# --- generation constants -----------------------------------------------------------------------
HAZARD_ID_FORMAT = "YH-{year}-{seq:06d}"  # numbered per year of 发现日期, in date order
INSPECTION_ID_FORMAT = "JC-{year}-{seq:06d}"
# On-time rectification falls early rather than late in the allowed time: Beta(1.3, 2.5) has
# its mean at a third of the way to the deadline (assumption: most fixes are simple).
ON_TIME_BETA = (1.3, 2.5)
# {n} in a hazard text: a small count (灭火器 2 具, 3 台设备 …).
COUNT_RANGE = (2, 7)
# An officer covers 1, 2 or 3 neighbouring cells of one village with these shares (assumption).
CELLS_PER_OFFICER = (0.6, 0.3, 0.1)
# Invented people: common surnames (公安部 household-register ranking, top of the list) with rough
# weights, and given-name characters. Reference words, not parameters of the demo.
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林高罗郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余于杜叶程魏苏吕丁任沈姚卢"
_SURNAME_WEIGHTS = np.r_[np.full(5, 6.0), np.full(10, 2.5), np.full(len(_SURNAMES) - 15, 1.0)]
_GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰文辉建国红梅志海燕晓东立新春林永波宁浩宇欣怡子涵佳俊凯雪琳"
)
_TWO_CHARACTER_NAME_SHARE = 0.3
# Mainland mobile number blocks (号段) in use; the remaining 8 digits are random, so a number may
# exist: the roster is a demo and says so.
_MOBILE_PREFIXES = (
    *(str(p) for p in range(130, 140)),
    "145",
    "147",
    *(str(p) for p in (150, 151, 152, 153, 155, 156, 157, 158, 159)),
    "166",
    *(str(p) for p in (173, 175, 176, 177, 178)),
    *(str(p) for p in range(180, 190)),
    "191",
    "193",
    *(str(p) for p in range(195, 200)),
)
_PLACEHOLDER = re.compile(r"\{(\w+)\}")
_TEXT_PLACEHOLDERS = {"where", "n"}
_UNIT_PLACEHOLDERS = {"town", "town_office", "department", "agency"}
_RATE_KINDS = {
    "sector": SECTOR,
    "subtype": SUBTYPE,
    "town": TOWN,
    "status": STATUS,
    "class": SUPERVISION,
    "scale": SCALE,
}
_FLAG_KIND = "flag"
_LIST_SEPARATOR = ";"
_SHARE_TOLERANCE = 1e-6
_MAX_REDRAWS = 100
_DAYS_PER_YEAR = 365.25


class DemoHazardError(ValueError):
    """Raised when the hazard profile tables or the inputs cannot make consistent demo records."""


@dataclass(frozen=True)
class HazardProfile:
    """The demo hazard records' parameters: one cleaned table per ``HAZARD_PROFILE_FILES`` entry.

    Build it with :meth:`from_tables`, which checks every table and reports all problems at once.
    ``settings`` is indexed by key with float values (``hazard_profile.csv``).
    """

    settings: pd.Series
    rates: pd.DataFrame
    months: pd.DataFrame
    choices: pd.DataFrame
    places: pd.DataFrame
    texts: pd.DataFrame
    bases: pd.DataFrame
    inspection_kinds: pd.DataFrame

    @classmethod
    def from_tables(cls, tables: Mapping[str, pd.DataFrame]) -> HazardProfile:
        """Check and normalise the profile tables (as read with ``dtype=str, keep_default_na=False``).

        Parameters
        ----------
        tables : mapping of str to DataFrame
            One table per key of ``HAZARD_PROFILE_FILES``.

        Returns
        -------
        HazardProfile

        Raises
        ------
        DemoHazardError
            Listing every problem: missing tables, columns or settings, shares out of range or
            not summing to 1, unknown place types, kinds, sources or placeholders.

        Examples
        --------
        >>> tables = {k: pd.read_csv(f"data/demo/{f}", dtype=str, keep_default_na=False)
        ...           for k, f in HAZARD_PROFILE_FILES.items()}  # doctest: +SKIP
        >>> HazardProfile.from_tables(tables).settings["major_share"]  # doctest: +SKIP
        0.02
        """
        missing = [name for name in HAZARD_PROFILE_FILES if name not in tables]
        if missing:
            raise DemoHazardError(
                f"hazard profile tables {missing} are missing; expected one per key of HAZARD_PROFILE_FILES "
                f"({HAZARD_PROFILE_FILES})."
            )
        problems: list[str] = []
        cleaned = {name: _clean_table(name, tables[name], problems) for name in HAZARD_PROFILE_FILES}
        if not problems:
            cleaned["settings"] = _settings_series(cleaned["settings"], problems)
        if not problems:
            _check_profile(cleaned, problems)
        if problems:
            raise DemoHazardError("hazard profile: " + "; ".join(problems) + ". Fix the tables.")
        return cls(**cleaned)

    def setting(self, key: str) -> float:
        """One value of ``hazard_profile.csv``."""
        return float(self.settings[key])

    def shares(self, field: str) -> pd.Series:
        """The shares of one ``hazard_choices.csv`` field, indexed by value, in table order."""
        rows = self.choices[self.choices["field"] == field]
        return pd.Series(rows["share"].to_numpy(), index=rows["value"].to_numpy(), name=field)


HAZARD_PROFILE_FILES: dict[str, str] = {
    "settings": "hazard_profile.csv",
    "rates": "hazard_rates.csv",
    "months": "hazard_months.csv",
    "choices": "hazard_choices.csv",
    "places": "hazard_places.csv",
    "texts": "hazard_texts.csv",
    "bases": "hazard_bases.csv",
    "inspection_kinds": "inspection_kinds.csv",
}
assert set(HAZARD_PROFILE_FILES) == {f.name for f in fields(HazardProfile)}

_TEXT_COLUMNS: dict[str, list[str]] = {
    "settings": ["key"],
    "rates": ["kind", "value"],
    "months": [],
    "choices": ["field", "value"],
    "places": ["place_type", "where"],
    "texts": ["place_type", "sectors", "flags", "description"],
    "bases": ["sectors", "flags", "basis", "article", "place_type", "description"],
    "inspection_kinds": ["kind", "source", "units"],
}
_NUMBER_COLUMNS: dict[str, list[str]] = {
    "settings": ["value"],
    "rates": ["hazard_factor", "major_factor", "inspection_factor"],
    "months": ["month", "factor"],
    "choices": ["share"],
    "places": [],
    "texts": ["weight"],
    "bases": ["weight"],
    "inspection_kinds": ["per_enterprise_year", "source_share"],
}
_SHARE_SETTINGS = (
    "major_share",
    "listed_share",
    "on_time_share",
    "overdue_recent_share",
    "overdue_old_share",
    "weekend_factor",
)
_COUNT_SETTINGS = (
    "recent_days",
    "late_mean_days",
    f"close_max_days_{GENERAL}",
    f"close_max_days_{MAJOR}",
    "inspectors_per_inspection",
    "inspectors_per_unit",
)
_POSITIVE_SETTINGS = ("hazards_per_enterprise_year", "hazards_per_finding", "count_dispersion")
_CHOICE_FIELDS = (SOURCE, LISTED, f"{DEADLINE}_{GENERAL}", f"{DEADLINE}_{MAJOR}")


@dataclass(frozen=True)
class _Window:
    """The days of the records: day 0 is ``start``, day ``days - 1`` is today."""

    start: dt.date
    days: int
    weights: np.ndarray  # relative chance of a finding on each day (month × weekday)

    @property
    def today_index(self) -> int:
        return self.days - 1

    def to_dates(self, offsets: np.ndarray) -> np.ndarray:
        """Day offsets (NaN = empty) as an object array of ``datetime.date`` and None."""
        out = np.full(len(offsets), None, dtype=object)
        known = ~np.isnan(offsets)
        days = np.datetime64(self.start, "D") + offsets[known].astype(np.int64)
        out[known] = days.astype(object)
        return out


# ================================================================================================
# Public API
# ================================================================================================


def generate_demo_hazards(
    enterprises: pd.DataFrame,
    profile: HazardProfile,
    *,
    today: dt.date,
    seed: int = 340303,
    years: int = 2,
) -> pd.DataFrame:
    """Generate a believable closed-loop hazard list for the demo enterprises.

    Parameters
    ----------
    enterprises : DataFrame
        The demo enterprise list (:func:`geo.demo_enterprises.generate_demo_enterprises`, Chinese
        headers). Rows whose 统一社会信用代码 fails its check, and repeats of a code, are skipped.
    profile : HazardProfile
        The parameter tables (:meth:`HazardProfile.from_tables`).
    today : datetime.date
        The last day of the records; no date lies after it.
    seed : int, default 340303
        The same inputs and seed give an identical frame.
    years : int, default 2
        Length of the window: findings lie in ``(today - years, today]`` and after each
        enterprise's 成立日期.

    Returns
    -------
    DataFrame
        ``HAZARD_COLUMNS``, one row per hazard in 发现日期 order. Dates are ``datetime.date``;
        empty dates are None, empty text is missing. For every row 发现日期 ≤ 整改期限,
        发现日期 ≤ 整改完成日期 ≤ today and 整改完成日期 ≤ 验收销号日期 ≤ today; 判定依据 is
        set exactly on 重大 rows; 挂牌督办 only on 重大 rows.

    Raises
    ------
    DemoHazardError
        When the enterprise list lacks columns or valid rows, or no enterprise can carry a 重大
        hazard (no row of ``hazard_bases.csv`` applies).

    Examples
    --------
    >>> hazards = generate_demo_hazards(enterprises, profile, today=dt.date(2026, 11, 23))  # doctest: +SKIP
    >>> hazards[["隐患编号", "发现日期", "隐患等级"]].head(2)  # doctest: +SKIP
    """
    firms = _check_enterprises(enterprises, years)
    window = _window(profile, today, years)
    rng = np.random.default_rng(seed)
    hazards = _draw_findings(firms, profile, window, rng)
    hazards = _draw_grades(hazards, firms, profile, rng)
    hazards = _draw_texts(hazards, firms, profile, rng)
    hazards = _draw_closure(hazards, profile, window, rng)
    return _to_hazard_list(hazards, firms, window)


def generate_demo_inspections(
    enterprises: pd.DataFrame,
    hazards: pd.DataFrame,
    profile: HazardProfile,
    *,
    today: dt.date,
    seed: int = 340303,
    years: int = 2,
) -> pd.DataFrame:
    """Generate the inspection records behind the demo hazards, plus those that found nothing.

    Parameters
    ----------
    enterprises : DataFrame
        The enterprise list the hazards were made for.
    hazards : DataFrame
        Output of :func:`generate_demo_hazards`.
    profile : HazardProfile
        Uses ``inspection_kinds.csv`` (kinds, frequencies, units), the ``inspection_factor`` of
        ``hazard_rates.csv``, the month weights and the inspector settings.
    today : datetime.date
        As for the hazards; no inspection lies after it.
    seed : int, default 340303
    years : int, default 2
        As for the hazards: inspections that found nothing lie in the same window.

    Returns
    -------
    DataFrame
        ``INSPECTION_COLUMNS`` in 检查日期 order. Each hazard with source 检查 or 专家 is listed in
        关联隐患编号 (``、``-joined) of exactly one inspection of the same enterprise on its
        发现日期 (专家 hazards at a 专家 inspection); 发现问题数 counts the linked hazards.

    Raises
    ------
    DemoHazardError
        When the hazards name enterprises missing from ``enterprises`` or lack columns.

    Examples
    --------
    >>> inspections = generate_demo_inspections(enterprises, hazards, profile, today=dt.date(2026, 11, 23))  # doctest: +SKIP
    """
    firms = _check_enterprises(enterprises, years)
    found = _check_hazards(hazards, firms)
    window = _window(profile, today, years)
    rng = np.random.default_rng([seed, 1])  # a stream apart from the hazards' own
    linked = _linked_inspections(found, profile, rng)
    clean = _clean_inspections(linked, firms, profile, window, rng)
    return _to_inspection_list(pd.concat([linked, clean], ignore_index=True), firms, profile, rng)


def generate_demo_staff(
    grid: gpd.GeoDataFrame,
    *,
    seed: int = 340303,
    cells_per_officer: Sequence[float] = CELLS_PER_OFFICER,
) -> pd.DataFrame:
    """Generate a grid-staff roster (网格员名册) covering every bottom-tier cell.

    Parameters
    ----------
    grid : GeoDataFrame
        Columns ``code``, ``tier``, ``parent_code`` and geometry (as :func:`geo.demo_grid.
        generate_demo_grid` makes). The bottom tier is the highest tier present, so a three-tier
        grid works as well.
    seed : int, default 340303
    cells_per_officer : sequence of float, default (0.6, 0.3, 0.1)
        Shares of officers covering 1, 2, 3 … cells.

    Returns
    -------
    DataFrame
        ``STAFF_COLUMNS``: per parent unit (社区/村) one 网格长 whose 负责网格 lists all its cells,
        then 网格员 each covering a run of neighbouring cells (consecutive codes whose polygons
        touch) of that unit; every cell has exactly one 网格员. Names and mobile numbers
        (``^1[3-9]\\d{9}$``) are invented and unique within the roster.

    Raises
    ------
    DemoHazardError
        When the grid lacks columns or bottom cells lack a parent code.

    Examples
    --------
    >>> generate_demo_staff(grid).head(3)  # doctest: +SKIP
    """
    cells = _bottom_cells(grid)
    shares = _check_cell_shares(cells_per_officer)
    rng = np.random.default_rng([seed, 2])
    assignments = _assign_cells(cells, shares, rng)
    return _to_roster(assignments, rng)


# ================================================================================================
# Profile tables
# ================================================================================================


def _clean_table(name: str, table: pd.DataFrame, problems: list[str]) -> pd.DataFrame:
    required = _TEXT_COLUMNS[name] + _NUMBER_COLUMNS[name]
    absent = [column for column in required if column not in table.columns]
    if absent:
        problems.append(f"{HAZARD_PROFILE_FILES[name]} lacks column(s) {absent}")
        return table
    frame = table[required].copy()
    for column in _TEXT_COLUMNS[name]:
        frame[column] = frame[column].fillna("").astype(str).str.strip()
    for column in _NUMBER_COLUMNS[name]:
        text = frame[column].astype(str).str.strip()
        values = pd.to_numeric(text, errors="coerce")
        bad = values.isna()
        if bad.any():
            problems.append(f"{HAZARD_PROFILE_FILES[name]} column {column!r}: not numbers {text[bad].tolist()[:5]}")
        frame[column] = values.astype(float)
    return frame.reset_index(drop=True)


def _settings_series(frame: pd.DataFrame, problems: list[str]) -> pd.Series:
    settings = pd.Series(frame["value"].to_numpy(), index=frame["key"].to_numpy(), name="value")
    needed = [*_SHARE_SETTINGS, *_COUNT_SETTINGS, *_POSITIVE_SETTINGS]
    absent = [key for key in needed if key not in settings.index]
    if absent:
        problems.append(f"hazard_profile.csv lacks key(s) {absent}")
        return settings
    problems.extend(
        f"hazard_profile.csv {key} = {settings[key]}: expected a share in [0, 1]"
        for key in _SHARE_SETTINGS
        if not 0 <= settings[key] <= 1
    )
    problems.extend(
        f"hazard_profile.csv {key} = {settings[key]}: expected a whole number >= 0"
        for key in _COUNT_SETTINGS
        if settings[key] < 0 or settings[key] != round(settings[key])
    )
    problems.extend(
        f"hazard_profile.csv {key} = {settings[key]}: expected a positive number"
        for key in _POSITIVE_SETTINGS
        if settings[key] <= 0
    )
    if settings["hazards_per_finding"] < 1:
        problems.append("hazard_profile.csv hazards_per_finding must be at least 1 (a finding records a hazard)")
    for key in ("overdue_recent_share", "overdue_old_share"):
        if settings["on_time_share"] + settings[key] > 1:
            problems.append(f"hazard_profile.csv on_time_share + {key} exceeds 1")
    if settings["inspectors_per_unit"] < settings["inspectors_per_inspection"]:
        problems.append("hazard_profile.csv inspectors_per_unit must be at least inspectors_per_inspection")
    return settings


def _check_profile(tables: dict, problems: list[str]) -> None:
    _check_months(tables["months"], problems)
    _check_choices(tables["choices"], problems)
    _check_rates(tables["rates"], problems)
    places = set(tables["places"]["place_type"])
    if tables["places"]["place_type"].duplicated().any():
        problems.append("hazard_places.csv lists a place_type twice")
    for name in ("texts", "bases"):
        _check_texts(name, tables[name], tables["places"], problems)
    _check_inspection_kinds(tables["inspection_kinds"], tables["choices"], problems)
    if not places:
        problems.append("hazard_places.csv is empty")


def _check_months(months: pd.DataFrame, problems: list[str]) -> None:
    if sorted(months["month"].tolist()) != list(range(1, 13)):
        problems.append(f"hazard_months.csv must list months 1..12 once each, got {months['month'].tolist()}")
    if (months["factor"] < 0).any() or months["factor"].sum() <= 0:
        problems.append("hazard_months.csv factors must be >= 0 and not all 0")


def _check_choices(choices: pd.DataFrame, problems: list[str]) -> None:
    for field in _CHOICE_FIELDS:
        rows = choices[choices["field"] == field]
        if rows.empty:
            problems.append(f"hazard_choices.csv has no rows for field {field!r}")
            continue
        if (rows["share"] < 0).any() or abs(rows["share"].sum() - 1) > _SHARE_TOLERANCE:
            problems.append(f"hazard_choices.csv {field} shares must be >= 0 and sum to 1, got {rows['share'].sum():g}")
    unknown = set(choices.loc[choices["field"] == SOURCE, "value"]) - set(SOURCES)
    if unknown:
        problems.append(f"hazard_choices.csv {SOURCE} values {sorted(unknown)} unknown; expected {SOURCES}")
    for field in _CHOICE_FIELDS[2:]:
        days = pd.to_numeric(choices.loc[choices["field"] == field, "value"], errors="coerce")
        if days.isna().any() or (days < 0).any() or (days != days.round()).any():
            problems.append(f"hazard_choices.csv {field} values must be whole days >= 0")


def _check_rates(rates: pd.DataFrame, problems: list[str]) -> None:
    kinds = set(_RATE_KINDS) | {_FLAG_KIND}
    unknown = sorted(set(rates["kind"]) - kinds)
    if unknown:
        problems.append(f"hazard_rates.csv kinds {unknown} unknown; expected {sorted(kinds)}")
    factors = rates[["hazard_factor", "major_factor", "inspection_factor"]]
    if (factors < 0).any().any():
        problems.append("hazard_rates.csv factors must be >= 0")


def _check_texts(name: str, table: pd.DataFrame, places: pd.DataFrame, problems: list[str]) -> None:
    label = HAZARD_PROFILE_FILES[name]
    unknown = sorted(set(table["place_type"]) - set(places["place_type"]))
    if unknown:
        problems.append(f"{label} place types {unknown} are not in hazard_places.csv")
    if (table["weight"] <= 0).any():
        problems.append(f"{label} weights must be positive")
    wordless = set(places.loc[places["where"] == "", "place_type"])
    for row in table.itertuples(index=False):
        used = set(_PLACEHOLDER.findall(row.description))
        if used - _TEXT_PLACEHOLDERS:
            problems.append(f"{label} {row.description!r}: unknown placeholder(s) {sorted(used - _TEXT_PLACEHOLDERS)}")
        if "where" in used and row.place_type in wordless:
            problems.append(f"{label} {row.description!r} uses {{where}} but {row.place_type} has no where words")


def _check_inspection_kinds(kinds: pd.DataFrame, choices: pd.DataFrame, problems: list[str]) -> None:
    unknown = sorted(set(kinds["kind"]) - set(INSPECTION_KINDS))
    if unknown:
        problems.append(f"inspection_kinds.csv kinds {unknown} unknown; expected {INSPECTION_KINDS}")
    sources = choices[(choices["field"] == SOURCE) & (choices["share"] > 0)]["value"]
    for source in INSPECTED_SOURCES:
        rows = kinds[kinds["source"] == source]
        if source in set(sources) and abs(rows["source_share"].sum() - 1) > _SHARE_TOLERANCE:
            problems.append(f"inspection_kinds.csv source_share of kinds for source {source} must sum to 1")
    if set(kinds["source"]) - set(INSPECTED_SOURCES):
        problems.append(f"inspection_kinds.csv source must be one of {INSPECTED_SOURCES}")
    if (kinds["per_enterprise_year"] < 0).any():
        problems.append("inspection_kinds.csv per_enterprise_year must be >= 0")
    for units in kinds["units"]:
        used = set(_PLACEHOLDER.findall(units))
        if used - _UNIT_PLACEHOLDERS or not units:
            problems.append(
                f"inspection_kinds.csv units {units!r}: expected templates with {sorted(_UNIT_PLACEHOLDERS)}"
            )


# ================================================================================================
# Inputs
# ================================================================================================


def _check_enterprises(enterprises: pd.DataFrame, years: int) -> pd.DataFrame:
    """The valid, distinct enterprises as the generator needs them, in list order."""
    missing = [column for column in [*ENTERPRISE_INPUT_COLUMNS, FOUNDED] if column not in enterprises.columns]
    if missing:
        raise DemoHazardError(
            f"enterprises lacks column(s) {missing}; expected the list of geo.demo_enterprises "
            f"(columns {ENTERPRISE_INPUT_COLUMNS + [FOUNDED]})."
        )
    if years < 1:
        raise DemoHazardError(f"years = {years}: expected a whole number of years >= 1.")
    valid = uscc_problems(enterprises[USCC]).isna().to_numpy() & ~enterprises[USCC].duplicated().to_numpy()
    firms = enterprises.loc[valid, ENTERPRISE_INPUT_COLUMNS].reset_index(drop=True)
    if firms.empty:
        raise DemoHazardError("enterprises has no row with a valid, distinct 统一社会信用代码.")
    for column in ENTERPRISE_INPUT_COLUMNS:
        firms[column] = firms[column].astype(object).where(firms[column].notna(), None)
    founded = pd.to_datetime(enterprises.loc[valid, FOUNDED], errors="coerce").dt.date.to_numpy()
    firms["founded"] = [value if isinstance(value, dt.date) else None for value in founded]
    firms["flag_set"] = [
        frozenset(str(value).split(FLAG_SEPARATOR)) if value else frozenset() for value in firms[FLAGS]
    ]
    return firms


def _check_hazards(hazards: pd.DataFrame, firms: pd.DataFrame) -> pd.DataFrame:
    missing = [column for column in (HAZARD_ID, USCC, FOUND, SOURCE) if column not in hazards.columns]
    if missing:
        raise DemoHazardError(f"hazards lacks column(s) {missing}; expected the output of generate_demo_hazards().")
    unknown = sorted(set(hazards[USCC]) - set(firms[USCC]))
    if unknown:
        raise DemoHazardError(
            f"hazards name {len(unknown)} enterprise(s) not in enterprises (e.g. {unknown[:3]}); "
            "pass the enterprise list the hazards were generated from."
        )
    found = hazards[hazards[SOURCE].isin(INSPECTED_SOURCES)][[HAZARD_ID, USCC, FOUND, SOURCE]]
    position = pd.Series(np.arange(len(firms)), index=firms[USCC].to_numpy())
    return found.assign(firm=position.loc[found[USCC].to_numpy()].to_numpy())


def _window(profile: HazardProfile, today: dt.date, years: int) -> _Window:
    if not isinstance(today, dt.date) or isinstance(today, dt.datetime):
        raise DemoHazardError(f"today = {today!r}: expected a datetime.date (use .date() on a datetime).")
    start = (pd.Timestamp(today) - pd.DateOffset(years=years) + pd.Timedelta(days=1)).date()
    days = (today - start).days + 1
    dates = pd.date_range(start, periods=days, freq="D")
    month_factor = profile.months.set_index("month")["factor"]
    weights = month_factor.loc[dates.month].to_numpy(dtype=float)
    weekend = dates.day_of_week.to_numpy() >= 5
    weights = np.where(weekend, weights * profile.setting("weekend_factor"), weights)
    if weights.sum() <= 0:
        raise DemoHazardError("hazard_months.csv and weekend_factor leave no day to draw a finding on.")
    return _Window(start=start, days=days, weights=weights)


def _active_from(firms: pd.DataFrame, window: _Window) -> np.ndarray:
    """First day offset each enterprise can have records on (its founding day, or the window start)."""
    offsets = np.array([(f - window.start).days if f is not None else 0 for f in firms["founded"]], dtype=np.int64)
    return np.clip(offsets, 0, window.today_index)


def _factors(firms: pd.DataFrame, rates: pd.DataFrame, column: str) -> np.ndarray:
    """Product of the matching ``hazard_rates.csv`` factors per enterprise."""
    out = np.ones(len(firms))
    for row in rates.itertuples(index=False):
        if row.kind == _FLAG_KIND:
            match = np.array([row.value in flags for flags in firms["flag_set"]], dtype=bool)
        else:
            match = (firms[_RATE_KINDS[row.kind]] == row.value).to_numpy(dtype=bool)
        out[match] *= getattr(row, column)
    return out


def _draw_days(active_from: np.ndarray, window: _Window, rng: np.random.Generator) -> np.ndarray:
    """One day per entry, between its active start and today, by the window's day weights."""
    cumulative = np.cumsum(window.weights)
    low = np.where(active_from > 0, cumulative[np.maximum(active_from - 1, 0)], 0.0)
    u = low + (1.0 - rng.random(len(active_from))) * (cumulative[-1] - low)
    return np.minimum(np.searchsorted(cumulative, u, side="left"), window.today_index)


def _quota(n: int, shares: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``n`` labels 0..k-1 in random order, counts matching ``shares`` by largest remainder."""
    exact = np.asarray(shares, dtype=float) * n / max(float(np.sum(shares)), _SHARE_TOLERANCE)
    counts = np.floor(exact).astype(np.int64)
    counts[np.argsort(counts - exact, kind="stable")[: n - counts.sum()]] += 1
    return rng.permutation(np.repeat(np.arange(len(counts)), counts))


def _weighted_sample(weights: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """Positions of ``k`` entries drawn without replacement, likelier by weight (Efraimidis-Spirakis)."""
    keys = np.full(len(weights), -np.inf)
    positive = weights > 0
    keys[positive] = np.log(1.0 - rng.random(int(positive.sum()))) / weights[positive]
    return np.sort(np.argpartition(-keys, k - 1)[:k]) if k > 0 else np.array([], dtype=np.int64)


# ================================================================================================
# Hazards
# ================================================================================================


def _draw_findings(
    firms: pd.DataFrame, profile: HazardProfile, window: _Window, rng: np.random.Generator
) -> pd.DataFrame:
    """Hazards per enterprise, grouped into findings that share a day and a source."""
    active_from = _active_from(firms, window)
    active_years = (window.days - active_from) / _DAYS_PER_YEAR
    weight = _factors(firms, profile.rates, "hazard_factor") * active_years
    target = profile.setting("hazards_per_enterprise_year") * len(firms) * window.days / _DAYS_PER_YEAR
    mean = weight * target / max(weight.sum(), _SHARE_TOLERANCE)
    shape = profile.setting("count_dispersion")
    counts = rng.poisson(mean * rng.gamma(shape, 1.0 / shape, len(firms)))
    firm = np.repeat(np.arange(len(firms)), counts)
    first = np.r_[True, firm[1:] != firm[:-1]] if len(firm) else np.array([], dtype=bool)
    starts = first | (rng.random(len(firm)) < 1.0 / profile.setting("hazards_per_finding"))
    finding = np.cumsum(starts) - 1
    finding_firm = firm[starts]
    finding_day = _draw_days(active_from[finding_firm], window, rng)
    sources = profile.shares(SOURCE)
    finding_source = np.asarray(sources.index)[_quota(len(finding_firm), sources.to_numpy(), rng)]
    return pd.DataFrame(
        {"firm": firm, "finding": finding, "found": finding_day[finding], "source": finding_source[finding]}
    )


def _draw_grades(
    hazards: pd.DataFrame, firms: pd.DataFrame, profile: HazardProfile, rng: np.random.Generator
) -> pd.DataFrame:
    """重大 by quota, likelier at high-risk enterprises that a judgement basis applies to; 挂牌督办 among them."""
    can_be_major = np.array([len(rows) > 0 for rows in _matching_rows(firms, profile.bases)], dtype=float)
    weights = (_factors(firms, profile.rates, "major_factor") * can_be_major)[hazards["firm"].to_numpy()]
    n_major = round(profile.setting("major_share") * len(hazards))
    if n_major > np.count_nonzero(weights):
        raise DemoHazardError(
            f"{n_major} 重大 hazards asked for but only {np.count_nonzero(weights)} hazards belong to enterprises "
            "a row of hazard_bases.csv applies to; add bases or lower major_share."
        )
    major = np.zeros(len(hazards), dtype=bool)
    major[_weighted_sample(weights, n_major, rng)] = True
    listed = np.full(len(hazards), None, dtype=object)
    majors = np.flatnonzero(major)
    chosen = rng.permutation(majors)[: round(profile.setting("listed_share") * len(majors))]
    levels = profile.shares(LISTED)
    listed[chosen] = np.asarray(levels.index)[_quota(len(chosen), levels.to_numpy(), rng)]
    return hazards.assign(level=np.where(major, MAJOR, GENERAL), listed=listed)


def _matching_rows(firms: pd.DataFrame, table: pd.DataFrame) -> list[np.ndarray]:
    """Per enterprise, the positions of the text (or basis) rows that apply to it."""
    sectors = [frozenset(s.split(_LIST_SEPARATOR)) if s else None for s in table["sectors"]]
    flags = [frozenset(f.split(_LIST_SEPARATOR)) if f else None for f in table["flags"]]
    cache: dict[tuple, np.ndarray] = {}
    out = []
    for sector, subtype, flag_set in zip(firms[SECTOR], firms[SUBTYPE], firms["flag_set"], strict=True):
        key = (sector, subtype, flag_set)
        if key not in cache:
            cache[key] = np.array(
                [
                    (s is None or sector in s or subtype in s) and (f is None or bool(f & flag_set))
                    for s, f in zip(sectors, flags, strict=True)
                ],
                dtype=bool,
            ).nonzero()[0]
        out.append(cache[key])
    return out


def _pick_rows(hazards: pd.DataFrame, firms: pd.DataFrame, table: pd.DataFrame, rng: np.random.Generator) -> np.ndarray:
    """A row of ``table`` for each hazard, among the rows applying to its enterprise, by weight."""
    candidates = _matching_rows(firms, table)
    keys = pd.Series([tuple(rows) for rows in candidates]).factorize()[0][hazards["firm"].to_numpy()]
    picked = np.full(len(hazards), -1, dtype=np.int64)
    weights = table["weight"].to_numpy()
    for key in np.unique(keys):
        members = np.flatnonzero(keys == key)
        rows = candidates[hazards["firm"].to_numpy()[members[0]]]
        if len(rows) == 0:
            raise DemoHazardError(
                f"no row of the hazard texts applies to enterprise "
                f"{firms[USCC].iloc[hazards['firm'].to_numpy()[members[0]]]}; add a row with empty sectors and flags."
            )
        picked[members] = rows[rng.choice(len(rows), size=len(members), p=weights[rows] / weights[rows].sum())]
    return picked


def _draw_texts(
    hazards: pd.DataFrame, firms: pd.DataFrame, profile: HazardProfile, rng: np.random.Generator
) -> pd.DataFrame:
    """Place type and description; 重大 hazards take theirs from a judgement basis."""
    place = np.empty(len(hazards), dtype=object)
    template = np.empty(len(hazards), dtype=object)
    basis = np.full(len(hazards), None, dtype=object)
    for level, table in ((GENERAL, profile.texts), (MAJOR, profile.bases)):
        mask = (hazards["level"] == level).to_numpy()
        if not mask.any():
            continue
        rows = table.iloc[_pick_rows(hazards[mask], firms, table, rng)]
        place[mask] = rows["place_type"].to_numpy()
        template[mask] = rows["description"].to_numpy()
        if level == MAJOR:
            basis[mask] = (rows["basis"] + rows["article"]).to_numpy()
    where_words = {
        row.place_type: row.where.split(FLAG_SEPARATOR) if row.where else [""]
        for row in profile.places.itertuples(index=False)
    }
    picks = rng.random(len(hazards))
    counts = rng.integers(*COUNT_RANGE, size=len(hazards))
    text = [
        t.replace("{where}", where_words[p][int(u * len(where_words[p]))]).replace("{n}", str(n))
        for t, p, u, n in zip(template, place, picks, counts, strict=True)
    ]
    return hazards.assign(place=place, description=text, basis=basis)


def _draw_closure(
    hazards: pd.DataFrame, profile: HazardProfile, window: _Window, rng: np.random.Generator
) -> pd.DataFrame:
    """Deadline, rectification and verification days (NaN = not yet), by quota per due group."""
    found = hazards["found"].to_numpy(dtype=float)
    major = (hazards["level"] == MAJOR).to_numpy()
    allowed = np.empty(len(hazards))
    for level, mask in ((GENERAL, ~major), (MAJOR, major)):
        options = profile.shares(f"{DEADLINE}_{level}")
        allowed[mask] = rng.choice(options.index.astype(float), size=int(mask.sum()), p=options.to_numpy())
    deadline = found + allowed
    today = window.today_index
    on_time = found + np.floor(rng.beta(*ON_TIME_BETA, size=len(hazards)) * (allowed + 1))
    rectified = np.where(np.minimum(on_time, deadline) <= today, np.minimum(on_time, deadline), np.nan)
    recent = today - profile.setting("recent_days")
    late_lag = rng.geometric(1.0 / max(profile.setting("late_mean_days"), 1.0), size=len(hazards))
    on_time_share = profile.setting("on_time_share")
    for group, overdue_share in (
        ((deadline < today) & (deadline >= recent), profile.setting("overdue_recent_share")),
        (deadline < recent, profile.setting("overdue_old_share")),
    ):
        members = np.flatnonzero(group)
        outcome = _quota(len(members), np.array([on_time_share, overdue_share, 1 - on_time_share - overdue_share]), rng)
        rectified[members[outcome == 1]] = np.nan
        late = members[outcome == 2]
        rectified[late] = np.minimum(deadline[late] + late_lag[late], today)
    close_max = np.where(
        major, profile.setting(f"close_max_days_{MAJOR}"), profile.setting(f"close_max_days_{GENERAL}")
    )
    closed = rectified + np.floor(rng.random(len(hazards)) * (close_max + 1))
    closed[closed > today] = np.nan
    return hazards.assign(deadline=deadline, rectified=rectified, closed=closed)


def _to_hazard_list(hazards: pd.DataFrame, firms: pd.DataFrame, window: _Window) -> pd.DataFrame:
    hazards = hazards.sort_values(["found", "firm", "finding"], kind="stable").reset_index(drop=True)
    found = window.to_dates(hazards["found"].to_numpy(dtype=float))
    firm = hazards["firm"].to_numpy()
    listed = pd.DataFrame(
        {
            HAZARD_ID: _numbered(found, HAZARD_ID_FORMAT),
            USCC: firms[USCC].to_numpy()[firm],
            NAME: firms[NAME].to_numpy()[firm],
            FOUND: found,
            SOURCE: hazards["source"].to_numpy(),
            DESCRIPTION: hazards["description"].to_numpy(),
            LEVEL: hazards["level"].to_numpy(),
            BASIS: hazards["basis"].to_numpy(),
            PLACE: hazards["place"].to_numpy(),
            DEADLINE: window.to_dates(hazards["deadline"].to_numpy(dtype=float)),
            RECTIFIED: window.to_dates(hazards["rectified"].to_numpy(dtype=float)),
            CLOSED: window.to_dates(hazards["closed"].to_numpy(dtype=float)),
            LISTED: hazards["listed"].to_numpy(),
        }
    )
    for column in (USCC, NAME, SOURCE, DESCRIPTION, LEVEL, BASIS, PLACE, LISTED):
        listed[column] = listed[column].astype("str")  # None (blank 判定依据, 挂牌督办) becomes missing
    return listed[HAZARD_COLUMNS]


def _numbered(dates: np.ndarray, pattern: str) -> list[str]:
    """Identifiers numbered 1, 2, … within each year of ``dates`` (already in date order)."""
    years = np.array([d.year for d in dates], dtype=np.int64)
    first = np.r_[True, years[1:] != years[:-1]] if len(years) else np.array([], dtype=bool)
    run_start = np.maximum.accumulate(np.where(first, np.arange(len(years)), 0)) if len(years) else years
    sequence = np.arange(len(years)) - run_start + 1
    return [pattern.format(year=y, seq=s) for y, s in zip(years, sequence, strict=True)]


# ================================================================================================
# Inspections
# ================================================================================================


def _linked_inspections(found: pd.DataFrame, profile: HazardProfile, rng: np.random.Generator) -> pd.DataFrame:
    """One inspection per enterprise, 发现日期 and source of the 检查/专家 hazards."""
    groups = found.groupby(["firm", FOUND, SOURCE], sort=True)[HAZARD_ID].agg(
        lambda ids: FLAG_SEPARATOR.join(sorted(ids))
    )
    groups = groups.reset_index()
    kind = np.empty(len(groups), dtype=object)
    kinds = profile.inspection_kinds
    for source in INSPECTED_SOURCES:
        mask = (groups[SOURCE] == source).to_numpy()
        rows = kinds[kinds["source"] == source]
        if mask.any():
            kind[mask] = rng.choice(rows["kind"].to_numpy(), size=int(mask.sum()), p=rows["source_share"].to_numpy())
    return pd.DataFrame(
        {
            "firm": groups["firm"].to_numpy(),
            "date": groups[FOUND].to_numpy(),
            "kind": kind,
            "linked": groups[HAZARD_ID].to_numpy(),
            "problems": groups[HAZARD_ID].str.count(FLAG_SEPARATOR).to_numpy() + 1,
        }
    )


def _clean_inspections(
    linked: pd.DataFrame, firms: pd.DataFrame, profile: HazardProfile, window: _Window, rng: np.random.Generator
) -> pd.DataFrame:
    """Inspections that found nothing, topping each enterprise up to its drawn number per kind."""
    active_from = _active_from(firms, window)
    active_years = (window.days - active_from) / _DAYS_PER_YEAR
    factor = _factors(firms, profile.rates, "inspection_factor")
    parts = []
    for row in profile.inspection_kinds.itertuples(index=False):
        wanted = rng.poisson(row.per_enterprise_year * factor * active_years)
        done = np.bincount(linked.loc[linked["kind"] == row.kind, "firm"], minlength=len(firms))
        firm = np.repeat(np.arange(len(firms)), np.maximum(wanted - done, 0))
        days = _draw_days(active_from[firm], window, rng)
        parts.append(pd.DataFrame({"firm": firm, "date": window.to_dates(days.astype(float)), "kind": row.kind}))
    clean = pd.concat(parts, ignore_index=True)
    return clean.assign(linked=None, problems=0)


def _to_inspection_list(
    inspections: pd.DataFrame, firms: pd.DataFrame, profile: HazardProfile, rng: np.random.Generator
) -> pd.DataFrame:
    inspections = inspections.sort_values(["date", "firm", "kind"], kind="stable").reset_index(drop=True)
    firm = inspections["firm"].to_numpy()
    units = _units(inspections, firms, profile, rng)
    teams = _inspector_teams(units, profile, rng)
    dates = inspections["date"].to_numpy()
    listed = pd.DataFrame(
        {
            INSPECTION_ID: _numbered(dates, INSPECTION_ID_FORMAT),
            USCC: firms[USCC].to_numpy()[firm],
            NAME: firms[NAME].to_numpy()[firm],
            INSPECTED: dates,
            UNIT: units,
            INSPECTORS: teams,
            KIND: inspections["kind"].to_numpy(),
            PROBLEMS: inspections["problems"].to_numpy(dtype=np.int64),
            LINKED: inspections["linked"].to_numpy(),
        }
    )
    for column in (INSPECTION_ID, USCC, NAME, UNIT, INSPECTORS, KIND, LINKED):
        listed[column] = listed[column].astype("str")  # None (no 关联隐患编号) becomes missing
    return listed[INSPECTION_COLUMNS]


def _units(
    inspections: pd.DataFrame, firms: pd.DataFrame, profile: HazardProfile, rng: np.random.Generator
) -> np.ndarray:
    """The inspecting unit: one of the kind's templates that the enterprise can fill, at random."""
    values = [
        _unit_values(town, department, agency)
        for town, department, agency in zip(firms[TOWN], firms[DEPARTMENT], firms[AGENCY], strict=True)
    ]
    picks = rng.random(len(inspections))
    firm = inspections["firm"].to_numpy()
    out = np.empty(len(inspections), dtype=object)
    for row in profile.inspection_kinds.itertuples(index=False):
        templates = row.units.split(_LIST_SEPARATOR)
        # per enterprise, the unit names its values can fill (the last template when none can)
        filled = [
            [_fill(t, v) for t in templates if set(_PLACEHOLDER.findall(t)) <= v.keys()] or [_fill(templates[-1], v)]
            for v in values
        ]
        for i in np.flatnonzero((inspections["kind"] == row.kind).to_numpy()):
            options = filled[firm[i]]
            out[i] = options[int(picks[i] * len(options))]
    return out


def _fill(template: str, values: dict[str, str]) -> str:
    return _PLACEHOLDER.sub(lambda match: values.get(match.group(1), ""), template)


def _unit_values(town: str | None, department: str | None, agency: str | None) -> dict[str, str]:
    values = {"town": town or "", "town_office": _town_office(town or ""), "department": department, "agency": agency}
    return {key: value for key, value in values.items() if value}


def _town_office(name: str) -> str:
    """The township's own office (属地监管), as written on an inspection record."""
    if name.endswith("街道"):
        return name + "办事处"
    if name.endswith(("乡", "镇")):
        return name + "人民政府"
    return name


def _inspector_teams(units: np.ndarray, profile: HazardProfile, rng: np.random.Generator) -> list[str]:
    """Per inspection, distinct inspectors from a fixed pool of its unit, ``、``-joined."""
    per_unit = int(profile.setting("inspectors_per_unit"))
    per_team = int(profile.setting("inspectors_per_inspection"))
    names = _unique_names(per_unit * len(set(units)), rng, taken=set())
    pools = {unit: names[i * per_unit : (i + 1) * per_unit] for i, unit in enumerate(sorted(set(units)))}
    ranks = np.argsort(rng.random((len(units), per_unit)), axis=1)[:, :per_team]
    return [FLAG_SEPARATOR.join(pools[unit][j] for j in row) for unit, row in zip(units, ranks, strict=True)]


# ================================================================================================
# Staff
# ================================================================================================


def _bottom_cells(grid: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    missing = [column for column in ("code", "tier", "parent_code") if column not in grid.columns]
    if missing or not isinstance(grid, gpd.GeoDataFrame):
        raise DemoHazardError(
            f"grid lacks column(s) {missing} or geometry; expected the output of geo.demo_grid.generate_demo_grid()."
        )
    bottom = grid[grid["tier"] == grid["tier"].max()]
    orphans = bottom["parent_code"].isna()
    if orphans.any() or bottom.empty:
        raise DemoHazardError(
            f"{int(orphans.sum())} bottom-tier cell(s) have no parent_code (e.g. {bottom.loc[orphans, 'code'].head(3).tolist()}); "
            "a 网格长 covers the cells of one parent unit."
        )
    return bottom.sort_values(["parent_code", "code"]).reset_index(drop=True)


def _check_cell_shares(shares: Sequence[float]) -> np.ndarray:
    values = np.asarray(shares, dtype=float)
    if values.ndim != 1 or len(values) == 0 or (values < 0).any() or values.sum() <= 0:
        raise DemoHazardError(f"cells_per_officer = {shares!r}: expected shares for 1, 2, 3 … cells, >= 0, not all 0.")
    return values / values.sum()


def _assign_cells(cells: gpd.GeoDataFrame, shares: np.ndarray, rng: np.random.Generator) -> list[tuple[str, list[str]]]:
    """(role, cell codes) per person: per parent one 网格长, then 网格员 over runs of touching cells."""
    geometry = cells.geometry.to_numpy()
    parent = cells["parent_code"].astype(str).to_numpy()
    same_parent = parent[:-1] == parent[1:]
    # Cells are numbered along a Hilbert curve (geo.demo_grid), so consecutive codes are mostly neighbours.
    joins_next = np.r_[same_parent & shapely.intersects(geometry[:-1], geometry[1:]), False]
    codes = cells["code"].astype(str).to_numpy()
    lengths = rng.choice(np.arange(1, len(shares) + 1), size=len(cells), p=shares)
    people: list[tuple[str, list[str]]] = []
    i = 0
    while i < len(cells):
        if i == 0 or parent[i] != parent[i - 1]:
            people.append((LEADER, codes[parent == parent[i]].tolist()))
        run = [i]
        while len(run) < lengths[i] and joins_next[run[-1]]:
            run.append(run[-1] + 1)
        people.append((OFFICER, codes[run].tolist()))
        i = run[-1] + 1
    return people


def _to_roster(people: list[tuple[str, list[str]]], rng: np.random.Generator) -> pd.DataFrame:
    names = _unique_names(len(people), rng, taken=set())
    phones = _unique_phones(len(people), rng)
    return pd.DataFrame(
        {
            STAFF_NAME: names,
            ROLE: [role for role, _ in people],
            PHONE: phones,
            CELLS: [FLAG_SEPARATOR.join(codes) for _, codes in people],
        }
    )[STAFF_COLUMNS]


def _unique_names(n: int, rng: np.random.Generator, *, taken: set[str]) -> list[str]:
    """``n`` invented, distinct Chinese personal names (surname + one or two given characters)."""
    surname_p = _SURNAME_WEIGHTS / _SURNAME_WEIGHTS.sum()
    names: list[str] = []
    for _ in range(_MAX_REDRAWS):
        if len(names) >= n:
            break
        m = 2 * (n - len(names)) + 8
        surnames = np.asarray(list(_SURNAMES))[rng.choice(len(_SURNAMES), size=m, p=surname_p)]
        given = np.asarray(list(_GIVEN))[rng.integers(0, len(_GIVEN), size=(m, 2))]
        short = rng.random(m) < _TWO_CHARACTER_NAME_SHARE
        for s, (g1, g2), is_short in zip(surnames, given, short, strict=True):
            name = s + g1 + ("" if is_short else g2)
            if name not in taken and len(names) < n:
                taken.add(name)
                names.append(name)
    if len(names) < n:
        raise DemoHazardError(f"could not invent {n} distinct names; the name characters allow fewer.")
    return names


def _unique_phones(n: int, rng: np.random.Generator) -> list[str]:
    """``n`` distinct, random mainland mobile numbers (11 digits, 1[3-9]…)."""
    phones: dict[str, None] = {}
    while len(phones) < n:
        m = n - len(phones)
        prefixes = np.asarray(_MOBILE_PREFIXES)[rng.integers(0, len(_MOBILE_PREFIXES), size=m)]
        rests = rng.integers(0, 10**8, size=m)
        for prefix, rest in zip(prefixes, rests, strict=True):
            phones.setdefault(f"{prefix}{rest:08d}", None)
    return list(phones)[:n]
