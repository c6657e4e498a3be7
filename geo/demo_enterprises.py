"""Synthetic demo enterprise list (企业清单), shaped like the spreadsheet a bureau receives.

Everything the list is made of is data (``data/demo/enterprise_*.csv``, see its README): sector
shares, special-hazard flag rates, grade, supervision-class and standardisation shares, scales,
risk areas (which tier-2 units a sector or flag may or should lie in), name and address words.
This module only combines them:

1. kinds: sector and sub-type (行业类别) by quota from ``share``; within each sub-type the flags
   (粉尘涉爆 …) and the scale by quota, so realised shares match the tables to one enterprise;
2. places: a tier-2 unit per enterprise, fitted so the risk-area table holds *and* each unit keeps
   its expected count (iterative proportional fitting), then a tier-4 cell in proportion to
   :func:`geo.demo_grid.expected_enterprises_by_cell` and a uniform point in the cell, listed in
   GCJ-02 or BD-09 rounded to 6 decimals (what AMap and Baidu return) and checked to fall back
   into the same cell when converted back;
3. classes: per sector by quota, grades and supervision classes given to the enterprises with the
   most flags (plus noise), standardisation levels to the larger ones; a share of rows carries LEC
   or LS assessment inputs, banded to the grade drawn, instead of a grade;
4. details: employees, founding date, status, service agency, department, name, address, head,
   USCC (valid, unique; new-style ``MA`` codes only for enterprises founded after the reform).

:func:`add_bad_rows` appends the handful of faulty rows a real list always has, and
:func:`demo_enterprise_list` returns both for the I/O shell to write as Excel or CSV.
All names, people, agencies and addresses are invented; any resemblance is coincidental.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.chinese_crs import (
    bd09_to_wgs84,
    gcj02_to_wgs84,
    parse_coordinate_system,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)
from geo.demo_grid import expected_enterprises_by_cell
from geo.uscc import USCC_ALPHABET, make_uscc, random_valid_uscc

__all__ = [
    "ASSESSMENT_FACTORS",
    "BAD_ROW_COLUMNS",
    "BAD_ROW_KINDS",
    "DemoEnterpriseError",
    "DemoEnterpriseList",
    "ENTERPRISE_COLUMNS",
    "EnterpriseProfile",
    "HUAISHANG_POINT_WGS84",
    "PROFILE_FILES",
    "add_bad_rows",
    "demo_enterprise_list",
    "generate_demo_enterprises",
]

# --- the list's columns (what a bureau's spreadsheet carries) ----------------------------------
SEQUENCE = "序号"
NAME = "企业名称"
USCC = "统一社会信用代码"
SECTOR = "行业领域"
SUBTYPE = "行业类别"
FLAGS = "特殊作业/风险标签"
GRADE = "风险等级"
SUPERVISION = "监管分类"
SCALE = "企业规模"
EMPLOYEES = "从业人数"
STANDARDISATION = "标准化等级"
AGENCY = "安全生产承包服务机构"
DEPARTMENT = "监管部门"
TOWN = "所属乡镇（街道）"
VILLAGE = "所属社区（村）"
ADDRESS = "地址"
STATUS = "经营状态"
FOUNDED = "成立日期"
HEAD = "主要负责人"
LON = "经度"
LAT = "纬度"
SYSTEM = "坐标系"
# Assessment inputs, one column per factor: LEC (D = L×E×C) and LS (R = L×S), DOMAIN.md §2.
ASSESSMENT_FACTORS: dict[str, tuple[str, ...]] = {"LEC": ("L", "E", "C"), "LS": ("L", "S")}
_ASSESSMENT_COLUMNS = [f"{method}_{factor}" for method, factors in ASSESSMENT_FACTORS.items() for factor in factors]
ENTERPRISE_COLUMNS = [
    SEQUENCE,
    NAME,
    USCC,
    SECTOR,
    SUBTYPE,
    FLAGS,
    GRADE,
    *_ASSESSMENT_COLUMNS,
    SUPERVISION,
    SCALE,
    EMPLOYEES,
    STANDARDISATION,
    AGENCY,
    DEPARTMENT,
    TOWN,
    VILLAGE,
    ADDRESS,
    STATUS,
    FOUNDED,
    HEAD,
    LON,
    LAT,
    SYSTEM,
]
FLAG_SEPARATOR = "、"  # how Chinese lists join several labels in one cell

# --- generation constants -----------------------------------------------------------------------
# AMap and Baidu geocoders return 6 decimals (about 0.1 m); the listed values are rounded likewise.
LISTED_DECIMALS = 6
# Rejection sampling inside a cell: cells are compact (Polsby-Popper >= 0.2, geo.demo_grid), so
# more than a third of bounding-box draws land inside; 60 rounds leave no point behind in practice.
MAX_POINT_ROUNDS = 60
# Iterative proportional fitting of enterprises to tier-2 units: measured to settle in < 100 steps
# on the demo tables; a unit ending more than 1 % off its expected count means the risk-area
# table asks more of it than the density table gives.
IPF_ITERATIONS = 500
IPF_TOLERANCE = 0.01
# Ranking noise (standard deviations): grades and supervision classes follow flags and scale
# loosely, not strictly, as a bureau's judgement would.
RISK_SCORE_NOISE = 1.0
LARGE_SCALE_RISK_BONUS = 0.5
# Oldest founding date drawn, in years before ``today``.
MAX_AGE_YEARS = 40
# Since 2015-10-01 (三证合一, 国办发〔2015〕50号) new registrations get organisation codes starting
# ``MA``; older enterprises kept their 8-digit code inside the USCC.
USCC_REFORM_DATE = dt.date(2015, 10, 1)
_NEW_STYLE_ORG_PREFIX = "MA"
_ORG_CODE_SLICE = slice(8, 10)
# GB 32100: characters 1-2 are the registering department and entity type: 91 enterprise,
# 92 个体工商户 (sole trader).
_ENTERPRISE_ENTITY = "91"
_INDIVIDUAL_ENTITY = "92"
_MAX_REDRAWS = 60
_BAD_ROWS_STREAM = 1  # second random stream of the same seed, for demo_enterprise_list

# --- the bad rows ---------------------------------------------------------------------------------
# A point on the north bank of the 淮河 in 淮上区 (小蚌埠镇 area): 1.5 km inside 淮上区 and 2.2 km
# from 蚌山区, measured on data/boundaries/3403_bengbu_context_districts.geojson.
HUAISHANG_POINT_WGS84 = (117.36, 32.975)
MISSING_COORDINATES = "missing_coordinates"
OUTSIDE_DISTRICT = "outside_district"
BAD_USCC_CHECK = "bad_uscc_check"
SWAPPED_LON_LAT = "swapped_lon_lat"
DUPLICATE_USCC = "duplicate_uscc"
BAD_ROW_KINDS = (MISSING_COORDINATES, OUTSIDE_DISTRICT, BAD_USCC_CHECK, SWAPPED_LON_LAT, DUPLICATE_USCC)
BAD_ROW_COLUMNS = ["row", SEQUENCE, "kind", "expected", "duplicate_of_row", "note"]

# --- Chinese place-name conventions (GB/T 10114 naming of 乡镇/街道 and 村/居委会) ---------------
# Tier-3 names end with the committee; addresses and names use the place before it.
_COMMITTEE_SUFFIXES = ("村民委员会", "居民委员会", "居委会")
_PLACE_SUFFIXES = ("社区", "村")
_TOWN_SUFFIXES = ("社区行政事务管理中心", "行政事务管理中心", "街道", "乡", "镇")
# A 管理中心 is an administrative office, not a place people write in an address.
_NOT_AN_ADDRESS_TOWN_SUFFIX = "管理中心"
_PARENTHETICAL = re.compile(r"[（(].*$")  # "（筹备组）" (preparatory group) and the like
_VILLAGE_SUFFIX = "村"

# --- profile tables -----------------------------------------------------------------------------
_FLAG_PREFIX = "flag_"
_SCALE_PREFIX = "scale_"
_GRADE_PREFIX = "grade_"
_ASSESSED_PREFIX = "assessed_"
_CLASS_PREFIX = "class_"
_STANDARD_PREFIX = "std_"
_NO_STANDARD = "none"
_LIST_SEPARATOR = ";"
_FORM_SEPARATOR = "|"
_AREA_KINDS = ("sector", "subtype", "flag")
_NAME_PLACEHOLDERS = {"place", "brand", "trade", "town", "village", "surname", "district"}
_ADDRESS_PLACEHOLDERS = {
    "city",
    "district",
    "town_name",
    "village_name",
    "hamlet",
    "number",
    "group",
    "road",
    "building",
}
_WORD_KINDS = (
    "place",
    "brand_head",
    "brand_tail",
    "road",
    "surname",
    "given",
    "hamlet_suffix",
    "city",
    "address_village",
    "address_community",
)
_OPTION_FIELDS = (SYSTEM, STATUS, AGENCY, "登记机关代码")
_TOWN_OFFICE = "{town_office}"
# The coordinate systems a row can be listed in: WGS84 -> listed, listed -> WGS84.
_SYSTEM_CONVERSIONS: dict[str, tuple[Callable, Callable]] = {
    "gcj02": (wgs84_to_gcj02, gcj02_to_wgs84),
    "bd09": (wgs84_to_bd09, bd09_to_wgs84),
    "wgs84": (lambda lon, lat: (lon, lat), lambda lon, lat: (lon, lat)),
    "cgcs2000": (lambda lon, lat: (lon, lat), lambda lon, lat: (lon, lat)),
}
_SHARE_TOLERANCE = 1e-6


class DemoEnterpriseError(ValueError):
    """Raised when the profile tables, grid or density cannot make a consistent enterprise list."""


@dataclass(frozen=True)
class EnterpriseProfile:
    """The demo list's parameters: one cleaned table per ``data/demo/enterprise_<field>.csv``.

    Build it with :meth:`from_tables`, which checks every table and reports all problems at once.
    ``PROFILE_FILES`` maps each field to its file name.
    """

    sectors: pd.DataFrame
    sector_classes: pd.DataFrame
    areas: pd.DataFrame
    names: pd.DataFrame
    words: pd.DataFrame
    options: pd.DataFrame
    scales: pd.DataFrame
    assessment_bands: pd.DataFrame
    assessment_factors: pd.DataFrame

    @classmethod
    def from_tables(cls, tables: Mapping[str, pd.DataFrame]) -> EnterpriseProfile:
        """Check and normalise the profile tables (as read with ``dtype=str``, or typed).

        Parameters
        ----------
        tables : mapping of str to DataFrame
            One table per key of ``PROFILE_FILES``.

        Returns
        -------
        EnterpriseProfile

        Raises
        ------
        DemoEnterpriseError
            Listing every problem found: missing tables or columns, shares not summing to 1,
            unknown sectors, sub-types, flags, grades or placeholders, bands no input can reach.
        """
        missing = [name for name in PROFILE_FILES if name not in tables]
        if missing:
            raise DemoEnterpriseError(
                f"profile tables {missing} are missing; expected one per key of PROFILE_FILES "
                f"({sorted(PROFILE_FILES)}), read from data/demo/enterprise_<key>.csv."
            )
        problems: list[str] = []
        profile = cls(**{name: _clean_table(name, tables[name], problems) for name in PROFILE_FILES})
        if not problems:
            _check_profile(profile, problems)
        if problems:
            raise DemoEnterpriseError("enterprise profile: " + "; ".join(problems) + ". Fix the tables.")
        return profile

    @property
    def flags(self) -> list[str]:
        """Special-hazard flags (粉尘涉爆 …), in table order."""
        return _suffixes(self.sectors, _FLAG_PREFIX)

    @property
    def grades(self) -> list[str]:
        """Grades from the most to the least severe (by the LEC band thresholds)."""
        bands = self.assessment_bands
        first = bands[bands["method"] == bands["method"].iloc[0]]
        return first.sort_values("min_score", ascending=False)["grade"].tolist()


PROFILE_FILES: dict[str, str] = {field.name: f"enterprise_{field.name}.csv" for field in fields(EnterpriseProfile)}

_TEXT_COLUMNS: dict[str, list[str]] = {
    "sectors": ["sector", "subtype", "departments"],
    "sector_classes": ["sector"],
    "areas": ["kind", "value", "allowed_tier2", "preferred_tier2"],
    "names": ["subtype", "trades", "forms", "individual_forms"],
    "words": ["kind", "word"],
    "options": ["field", "value"],
    "scales": ["scale"],
    "assessment_bands": ["method", "grade"],
    "assessment_factors": ["method", "factor"],
}
_NUMBER_COLUMNS: dict[str, list[str]] = {
    "sectors": ["share"],
    "sector_classes": [],
    "areas": ["preferred_weight"],
    "names": [],
    "words": ["weight"],
    "options": ["share"],
    "scales": ["employees_min", "employees_median", "employees_max", "employees_sigma", "founded_mean_years"],
    "assessment_bands": ["min_score"],
    "assessment_factors": ["value"],
}
# Tables whose extra columns are all numbers: shares and rates named by prefix.
_NUMERIC_PREFIX_TABLES = {"sectors": (_FLAG_PREFIX, _SCALE_PREFIX), "sector_classes": ("",)}


@dataclass(frozen=True)
class DemoEnterpriseList:
    """What the I/O shell writes: the list (good rows, then bad rows) and the bad rows' marks.

    ``table`` has ``ENTERPRISE_COLUMNS`` with Chinese headers; text cells that a bureau would leave
    blank are missing (NaN), dates are ``datetime.date``. ``bad_rows`` has ``BAD_ROW_COLUMNS``:
    ``row`` is the 0-based position in ``table`` (its Excel row is ``row + 2`` under one header).
    """

    table: pd.DataFrame
    bad_rows: pd.DataFrame


@dataclass(frozen=True)
class _District:
    """The grid as the generator needs it."""

    name: str
    towns: pd.DataFrame  # code, name, capacity (expected enterprises scaled to n), position 0..
    villages: pd.DataFrame  # indexed by code: name, place, short
    cells: gpd.GeoDataFrame  # code, village_code, town_index, expected, geometry


# ================================================================================================
# Public API
# ================================================================================================


def generate_demo_enterprises(
    grid: gpd.GeoDataFrame,
    density: pd.DataFrame,
    profile: EnterpriseProfile,
    *,
    seed: int = 340303,
    n: int = 20000,
    today: dt.date,
) -> pd.DataFrame:
    """Generate a believable enterprise list for a demo grid, every row valid.

    Parameters
    ----------
    grid : GeoDataFrame
        Output of :func:`geo.demo_grid.generate_demo_grid` (tiers 1-4, EPSG:4490).
    density : DataFrame
        Columns ``code`` (tier-2) and ``expected_enterprises``: the table the grid was sized with.
        Each tier-2 unit receives about ``n`` times its share of the total.
    profile : EnterpriseProfile
        The parameter tables (:meth:`EnterpriseProfile.from_tables`).
    seed : int, default 340303
        The same inputs and seed give an identical frame.
    n : int, default 20000
        Number of enterprises.
    today : datetime.date
        Founding dates lie before it.

    Returns
    -------
    DataFrame
        ``ENTERPRISE_COLUMNS`` with Chinese headers, one row per enterprise, sorted by tier-2 and
        tier-3 code, ``序号`` 1..n. USCCs pass both checks and are unique; names are unique.
        ``经度``/``纬度`` are in the row's ``坐标系`` (``GCJ-02`` or ``BD-09`` with the shipped
        profile), rounded to 6 decimals; converted back to WGS84 they fall inside a tier-4 cell of
        the row's ``所属社区（村）``. Rows with LEC or LS inputs leave ``风险等级`` blank.

    Raises
    ------
    DemoEnterpriseError
        When the grid lacks tiers, the density or risk-area tables name unknown tier-2 units, the
        risk areas cannot be met with the density table's counts, or ``n`` is not positive.

    Examples
    --------
    >>> frame = generate_demo_enterprises(grid, tier2, profile, n=200, today=dt.date(2025, 6, 30))  # doctest: +SKIP
    >>> frame[["企业名称", "行业领域", "坐标系"]].head(2)  # doctest: +SKIP
    """
    district = _check_inputs(grid, density, profile, n, today)
    rng = np.random.default_rng(seed)
    rows = _draw_kinds(profile, n, rng)
    rows = _place(rows, district, profile, rng)
    rows = _draw_classes(rows, profile, rng)
    rows = _draw_details(rows, district, profile, today, rng)
    return _to_list(rows, profile, district)


def add_bad_rows(
    frame: pd.DataFrame,
    rng: np.random.Generator,
    *,
    outside_point_wgs84: tuple[float, float] = HUAISHANG_POINT_WGS84,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Append the six faulty rows a real list has, and say which they are.

    Each faulty row is made from a different good row of ``frame``. All but the duplicate are
    branch offices of that row's company (``…有限公司<乡镇>分公司``) with a fresh, valid USCC of
    their own, so each carries exactly the one fault it is listed for:

    * two rows without coordinates (valid otherwise: load them and flag them);
    * one row whose point lies at ``outside_point_wgs84`` (by default across the 淮河 in 淮上区),
      listed in the row's coordinate system (valid otherwise: load and flag as outside);
    * one row whose USCC has a wrong check character (GB 32100), organisation code intact
      (reject);
    * one row with longitude and latitude swapped (flag);
    * one repeat of an earlier row's USCC: the same enterprise entered twice, with another
      employee count (a duplicate: keep the first, report the second).

    Parameters
    ----------
    frame : DataFrame
        Output of :func:`generate_demo_enterprises` (at least six rows named ``…有限公司``).
    rng : numpy.random.Generator
        Source of randomness.
    outside_point_wgs84 : (float, float)
        WGS84 longitude and latitude of the point outside the district.

    Returns
    -------
    (DataFrame, DataFrame)
        ``frame`` with the rows appended (``序号`` continued), and a table with
        ``BAD_ROW_COLUMNS``: ``row`` is the 0-based position in the returned frame, ``kind`` one
        of ``BAD_ROW_KINDS``, ``expected`` "flag" or "reject".
    """
    _check_frame(frame)
    positions = _bad_row_templates(frame, rng)
    templates = [frame.iloc[position] for position in positions]
    taken = set(frame[USCC])
    made = [
        (MISSING_COORDINATES, "flag", None, _without_coordinates(_branch(templates[0], rng, taken))),
        (MISSING_COORDINATES, "flag", None, _without_coordinates(_branch(templates[1], rng, taken))),
        (OUTSIDE_DISTRICT, "flag", None, _moved_to(_branch(templates[2], rng, taken), outside_point_wgs84)),
        (BAD_USCC_CHECK, "reject", None, _with_bad_check(_branch(templates[3], rng, taken), rng)),
        (SWAPPED_LON_LAT, "flag", None, _swapped(_branch(templates[4], rng, taken))),
    ]
    made.append((DUPLICATE_USCC, "reject", positions[5], _repeated(templates[5], rng)))
    return _append_bad_rows(frame, made)


def demo_enterprise_list(
    grid: gpd.GeoDataFrame,
    density: pd.DataFrame,
    profile: EnterpriseProfile,
    *,
    seed: int = 340303,
    n: int = 20000,
    today: dt.date,
) -> DemoEnterpriseList:
    """The list to write: :func:`generate_demo_enterprises`, then :func:`add_bad_rows`.

    Writer-agnostic: the I/O shell writes ``result.table`` with ``to_excel`` or ``to_csv`` (write
    ``统一社会信用代码`` as text) and may keep ``result.bad_rows`` as the answer key.
    Parameters are those of :func:`generate_demo_enterprises`; the bad rows use a second random
    stream of the same ``seed``.
    """
    good = generate_demo_enterprises(grid, density, profile, seed=seed, n=n, today=today)
    table, bad_rows = add_bad_rows(good, np.random.default_rng([seed, _BAD_ROWS_STREAM]))
    return DemoEnterpriseList(table=table, bad_rows=bad_rows)


# ================================================================================================
# Profile validation
# ================================================================================================


def _suffixes(frame: pd.DataFrame, prefix: str) -> list[str]:
    return [column[len(prefix) :] for column in frame.columns if column.startswith(prefix)]


def _clean_table(name: str, table: pd.DataFrame, problems: list[str]) -> pd.DataFrame:
    """Strip text, coerce numbers; record missing columns and non-numbers."""
    text, numbers = _TEXT_COLUMNS[name], _NUMBER_COLUMNS[name]
    missing = [column for column in text + numbers if column not in table.columns]
    if missing:
        problems.append(f"{PROFILE_FILES[name]} lacks column(s) {missing}; it has {list(table.columns)}")
        return table
    cleaned = table.copy()
    for column in text:
        cleaned[column] = cleaned[column].fillna("").astype(str).str.strip()
    prefixes = _NUMERIC_PREFIX_TABLES.get(name, ())
    extra = [c for c in cleaned.columns if c not in text and any(c.startswith(p) for p in prefixes)]
    for column in numbers + extra:
        values = pd.to_numeric(cleaned[column].replace("", np.nan), errors="coerce")
        if values.isna().any():
            problems.append(f"{PROFILE_FILES[name]} column {column!r} has empty or non-numeric value(s)")
        cleaned[column] = values.astype(float)
    return cleaned.reset_index(drop=True)


def _check_shares(frame: pd.DataFrame, columns: list[str], label: str, problems: list[str]) -> None:
    values = frame[columns].to_numpy(dtype=float)
    if (values < 0).any() or (values > 1).any():
        problems.append(f"{label}: shares must lie in 0..1")
    bad = ~np.isclose(values.sum(axis=1), 1.0, atol=_SHARE_TOLERANCE)
    if bad.any():
        problems.append(f"{label}: row(s) {frame.index[bad].tolist()} of {columns} do not sum to 1")


def _check_profile(profile: EnterpriseProfile, problems: list[str]) -> None:
    _check_sectors(profile, problems)
    _check_classes(profile, problems)
    _check_areas(profile, problems)
    _check_words(profile, problems)
    _check_options(profile, problems)
    _check_assessment(profile, problems)


def _check_sectors(profile: EnterpriseProfile, problems: list[str]) -> None:
    sectors = profile.sectors
    if sectors["subtype"].duplicated().any():
        problems.append(
            f"enterprise_sectors.csv repeats subtype(s) {sectors.loc[sectors['subtype'].duplicated(), 'subtype'].tolist()}"
        )
    if not np.isclose(sectors["share"].sum(), 1.0, atol=_SHARE_TOLERANCE) or (sectors["share"] < 0).any():
        problems.append(f"enterprise_sectors.csv shares sum to {sectors['share'].sum():.6f}; expected 1")
    scale_columns = [c for c in sectors.columns if c.startswith(_SCALE_PREFIX)]
    _check_shares(sectors, scale_columns, "enterprise_sectors.csv scale_*", problems)
    unknown_scales = set(_suffixes(sectors, _SCALE_PREFIX)) ^ set(profile.scales["scale"])
    if unknown_scales:
        problems.append(f"scale_* columns and enterprise_scales.csv disagree on {sorted(unknown_scales)}")
    flags = sectors[[_FLAG_PREFIX + flag for flag in profile.flags]].to_numpy(dtype=float)
    if ((flags < 0) | (flags > 1)).any():
        problems.append("enterprise_sectors.csv flag_* rates must lie in 0..1")
    if (sectors["departments"] == "").any():
        problems.append("enterprise_sectors.csv has empty departments")
    missing_names = sorted(set(sectors["subtype"]) - set(profile.names["subtype"]))
    if missing_names:
        problems.append(f"enterprise_names.csv lacks subtype(s) {missing_names}")
    scales = profile.scales
    if not (
        (scales["employees_min"] <= scales["employees_median"])
        & (scales["employees_median"] <= scales["employees_max"])
    ).all():
        problems.append("enterprise_scales.csv needs employees_min <= employees_median <= employees_max")


def _check_classes(profile: EnterpriseProfile, problems: list[str]) -> None:
    classes = profile.sector_classes
    sectors = set(profile.sectors["sector"])
    if set(classes["sector"]) != sectors or classes["sector"].duplicated().any():
        problems.append(
            f"enterprise_sector_classes.csv needs one row per sector of enterprise_sectors.csv; "
            f"missing {sorted(sectors - set(classes['sector']))}, unknown {sorted(set(classes['sector']) - sectors)}"
        )
    for prefix in (_GRADE_PREFIX, _CLASS_PREFIX, _STANDARD_PREFIX):
        columns = [c for c in classes.columns if c.startswith(prefix)]
        _check_shares(classes, columns, f"enterprise_sector_classes.csv {prefix}*", problems)
    assessed = [c for c in classes.columns if c.startswith(_ASSESSED_PREFIX)]
    if (classes[assessed].sum(axis=1) > 1 + _SHARE_TOLERANCE).any():
        problems.append("enterprise_sector_classes.csv assessed_* shares sum to more than 1")
    methods = set(_suffixes(classes, _ASSESSED_PREFIX))
    if not methods <= set(ASSESSMENT_FACTORS):
        problems.append(
            f"assessed_* methods {sorted(methods - set(ASSESSMENT_FACTORS))} unknown; expected {sorted(ASSESSMENT_FACTORS)}"
        )
    grades = _suffixes(classes, _GRADE_PREFIX)
    for method, bands in profile.assessment_bands.groupby("method"):
        if sorted(bands["grade"]) != sorted(grades):
            problems.append(
                f"enterprise_assessment_bands.csv grades for {method} {sorted(bands['grade'])} differ from grade_* {sorted(grades)}"
            )


def _area_codes(text: str) -> tuple[str, ...]:
    return tuple(code.strip() for code in text.split(_LIST_SEPARATOR) if code.strip())


def _check_areas(profile: EnterpriseProfile, problems: list[str]) -> None:
    areas = profile.areas
    known = {
        "sector": set(profile.sectors["sector"]),
        "subtype": set(profile.sectors["subtype"]),
        "flag": set(profile.flags),
    }
    for row in areas.itertuples():
        if row.kind not in _AREA_KINDS:
            problems.append(f"enterprise_areas.csv kind {row.kind!r} unknown; expected one of {_AREA_KINDS}")
        elif row.value not in known[row.kind]:
            problems.append(f"enterprise_areas.csv {row.kind} {row.value!r} is not in the profile")
        if not row.preferred_weight > 0:
            problems.append(f"enterprise_areas.csv preferred_weight for {row.value!r} must be > 0")


def _placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


def _check_words(profile: EnterpriseProfile, problems: list[str]) -> None:
    words = profile.words
    missing = [kind for kind in _WORD_KINDS if kind not in set(words["kind"])]
    if missing:
        problems.append(f"enterprise_words.csv lacks kind(s) {missing}")
    if not (words["weight"] > 0).all():
        problems.append("enterprise_words.csv weights must be > 0")
    for kind in ("address_village", "address_community"):
        for form in words.loc[words["kind"] == kind, "word"]:
            unknown = _placeholders(form) - _ADDRESS_PLACEHOLDERS
            if unknown:
                problems.append(f"address form {form!r} uses unknown placeholder(s) {sorted(unknown)}")
    for row in profile.names.itertuples():
        forms = _split_forms(row.forms) + _split_forms(row.individual_forms)
        if not forms or not _split_trades(row.trades):
            problems.append(f"enterprise_names.csv row {row.subtype!r} needs trades and at least one form")
        for form in forms:
            unknown = _placeholders(form) - _NAME_PLACEHOLDERS
            if unknown:
                problems.append(f"name form {form!r} uses unknown placeholder(s) {sorted(unknown)}")


def _check_options(profile: EnterpriseProfile, problems: list[str]) -> None:
    options = profile.options
    for field in _OPTION_FIELDS:
        shares = options.loc[options["field"] == field, "share"]
        if shares.empty or not np.isclose(shares.sum(), 1.0, atol=_SHARE_TOLERANCE):
            problems.append(f"enterprise_options.csv shares of {field!r} sum to {shares.sum():.6f}; expected 1")
    for system in options.loc[options["field"] == SYSTEM, "value"]:
        try:
            token = parse_coordinate_system(system)
        except ValueError:
            token = None
        if token not in _SYSTEM_CONVERSIONS:
            problems.append(f"坐标系 {system!r} is not one of GCJ-02, BD-09, WGS84, CGCS2000")
    for code in options.loc[options["field"] == "登记机关代码", "value"]:
        if not re.fullmatch(r"\d{6}", code):
            problems.append(f"登记机关代码 {code!r} is not a 6-digit GB/T 2260 code")


def _check_assessment(profile: EnterpriseProfile, problems: list[str]) -> None:
    factors = profile.assessment_factors
    for method, names in ASSESSMENT_FACTORS.items():
        have = sorted(set(factors.loc[factors["method"] == method, "factor"]))
        if have != sorted(names):
            problems.append(
                f"enterprise_assessment_factors.csv factors of {method} are {have}; expected {sorted(names)}"
            )
            return
        if method not in set(profile.assessment_bands["method"]):
            problems.append(f"enterprise_assessment_bands.csv lacks method {method}")
            return
        combos = _assessment_combos(profile, method)
        unreachable = sorted(
            set(profile.assessment_bands.loc[profile.assessment_bands["method"] == method, "grade"]) - set(combos)
        )
        if unreachable:
            problems.append(f"no {method} inputs reach grade(s) {unreachable}")
    orders = [
        bands.sort_values("min_score", ascending=False)["grade"].tolist()
        for _, bands in profile.assessment_bands.groupby("method")
    ]
    if any(order != orders[0] for order in orders):
        problems.append("enterprise_assessment_bands.csv methods order the grades differently")


def _assessment_combos(profile: EnterpriseProfile, method: str) -> dict[str, np.ndarray]:
    """Every combination of factor values, by the grade its product falls in."""
    factors = profile.assessment_factors
    values = [
        factors.loc[(factors["method"] == method) & (factors["factor"] == f), "value"].to_numpy()
        for f in ASSESSMENT_FACTORS[method]
    ]
    combos = np.array(list(itertools.product(*values)), dtype=float)
    # Products such as 0.1 x 10 are not exact in binary: round before comparing with thresholds.
    score = np.round(combos.prod(axis=1), 6)
    bands = profile.assessment_bands
    bands = bands[bands["method"] == method].sort_values("min_score")
    position = np.searchsorted(bands["min_score"].to_numpy(), score, side="right") - 1
    grades = bands["grade"].to_numpy()
    return {grades[i]: combos[position == i] for i in np.unique(position[position >= 0])}


# ================================================================================================
# Grid checks
# ================================================================================================


def _check_inputs(
    grid: gpd.GeoDataFrame, density: pd.DataFrame, profile: EnterpriseProfile, n: int, today: dt.date
) -> _District:
    if not isinstance(n, int | np.integer) or n < 1:
        raise DemoEnterpriseError(f"n={n!r}; expected a positive number of enterprises.")
    if not isinstance(today, dt.date):
        raise DemoEnterpriseError(f"today={today!r}; expected a datetime.date.")
    missing = [c for c in ("code", "name", "tier", "parent_code", "geometry") if c not in grid.columns]
    if missing or not {1, 2, 3, 4} <= set(grid["tier"]):
        raise DemoEnterpriseError(
            f"grid lacks column(s) {missing} or tiers {sorted({1, 2, 3, 4} - set(grid.get('tier', [])))}; "
            "expected the output of geo.demo_grid.generate_demo_grid (tiers 1-4)."
        )
    district = _district(grid, density, n)
    known = set(district.towns["code"])
    named = {
        code
        for column in ("allowed_tier2", "preferred_tier2")
        for text in profile.areas[column]
        for code in _area_codes(text)
    }
    unknown = sorted(named - known)
    if unknown:
        raise DemoEnterpriseError(
            f"enterprise_areas.csv names tier-2 code(s) {unknown} that the grid does not have; "
            f"the grid's tier-2 codes are {sorted(known)}."
        )
    return district


def _district(grid: gpd.GeoDataFrame, density: pd.DataFrame, n: int) -> _District:
    tier = grid["tier"]
    towns = grid.loc[tier == 2, ["code", "name"]].sort_values("code", ignore_index=True)
    per_town = density.assign(code=density["code"].astype(str)).groupby("code")["expected_enterprises"].sum()
    missing = sorted(set(towns["code"]) - set(per_town.index[per_town > 0]))
    if missing:
        raise DemoEnterpriseError(f"density has no positive expected_enterprises for tier-2 code(s) {missing}.")
    expected = per_town.reindex(towns["code"]).to_numpy(dtype=float)
    towns = towns.assign(capacity=n * expected / expected.sum())
    villages = grid.loc[tier == 3, ["code", "name", "parent_code"]].set_index("code")
    villages = villages.assign(place=villages["name"].map(_village_place))
    villages = villages.assign(short=villages["place"].map(_village_short))
    cells = grid.loc[tier == 4, ["code", "parent_code", "geometry"]].rename(columns={"parent_code": "village_code"})
    town_of_cell = cells["village_code"].map(villages["parent_code"])
    cells = cells.assign(
        town_index=town_of_cell.map(pd.Series(towns.index, index=towns["code"])).to_numpy(),
        expected=expected_enterprises_by_cell(grid, density).reindex(cells.index).to_numpy(dtype=float),
    ).reset_index(drop=True)
    name = str(grid.loc[tier == 1, "name"].iloc[0])
    return _District(name=name, towns=towns, villages=villages, cells=cells)


# ================================================================================================
# Step 1: kinds
# ================================================================================================


def _quota(total: int, shares: np.ndarray) -> np.ndarray:
    """Split ``total`` into integers proportional to ``shares`` (largest remainder, exact sum)."""
    shares = np.asarray(shares, dtype=float)
    if total == 0 or shares.sum() <= 0:
        return np.zeros(len(shares), dtype=int)
    ideal = total * shares / shares.sum()
    counts = np.floor(ideal).astype(int)
    order = np.lexsort((np.arange(len(ideal)), -(ideal - counts)))
    counts[order[: total - int(counts.sum())]] += 1
    return counts


def _draw_kinds(profile: EnterpriseProfile, n: int, rng: np.random.Generator) -> pd.DataFrame:
    sectors = profile.sectors
    counts = _quota(n, sectors["share"].to_numpy())
    kind = rng.permutation(np.repeat(np.arange(len(sectors)), counts))
    rows = pd.DataFrame({"sector": sectors["sector"].to_numpy()[kind], "subtype": sectors["subtype"].to_numpy()[kind]})
    scales = _suffixes(sectors, _SCALE_PREFIX)
    scale = np.empty(n, dtype=object)
    flags = {flag: np.zeros(n, dtype=bool) for flag in profile.flags}
    for position, row in sectors.iterrows():
        members = np.flatnonzero(kind == position)
        scale[members] = _shuffled_quota(members.size, [row[_SCALE_PREFIX + s] for s in scales], scales, rng)
        for flag in profile.flags:
            flagged = _quota(members.size, [row[_FLAG_PREFIX + flag], 1 - row[_FLAG_PREFIX + flag]])[0]
            flags[flag][rng.choice(members, size=flagged, replace=False)] = True
    return rows.assign(scale=scale, **{_FLAG_PREFIX + flag: values for flag, values in flags.items()})


def _shuffled_quota(size: int, shares: list[float], values: list, rng: np.random.Generator) -> np.ndarray:
    out = np.empty(size, dtype=object)
    out[:] = np.repeat(np.array(values, dtype=object), _quota(size, np.array(shares)))
    return rng.permutation(out)


# ================================================================================================
# Step 2: places
# ================================================================================================


def _place(
    rows: pd.DataFrame, district: _District, profile: EnterpriseProfile, rng: np.random.Generator
) -> pd.DataFrame:
    town_index = _draw_towns(rows, district, profile, rng)
    cell_index = _draw_cells(town_index, district, rng)
    systems = profile.options.loc[profile.options["field"] == SYSTEM]
    system = _shuffled_quota(len(rows), systems["share"].tolist(), systems["value"].tolist(), rng)
    lon, lat = _draw_points(district.cells.geometry.to_numpy()[cell_index], system, rng)
    cells = district.cells
    village_code = cells["village_code"].to_numpy()[cell_index]
    return rows.assign(
        town_code=district.towns["code"].to_numpy()[town_index],
        village_code=village_code,
        cell_code=cells["code"].to_numpy()[cell_index],
        system=system,
        lon=lon,
        lat=lat,
    )


def _area_weights(
    sector: str, subtype: str, flags: tuple[str, ...], areas: pd.DataFrame, towns: np.ndarray
) -> np.ndarray:
    """Weight of each tier-2 unit for one kind of enterprise: 0 where not allowed."""
    applies = ((areas["kind"] == "sector") & (areas["value"] == sector)) | (
        (areas["kind"] == "subtype") & (areas["value"] == subtype)
        | (areas["kind"] == "flag") & areas["value"].isin(flags)
    )
    weight = np.ones(len(towns))
    for row in areas[applies].itertuples():
        allowed = _area_codes(row.allowed_tier2)
        if allowed:
            weight *= np.isin(towns, allowed)
        preferred = _area_codes(row.preferred_tier2)
        if preferred:
            weight *= np.where(np.isin(towns, preferred), row.preferred_weight, 1.0)
    return weight


def _draw_towns(
    rows: pd.DataFrame, district: _District, profile: EnterpriseProfile, rng: np.random.Generator
) -> np.ndarray:
    """A tier-2 unit per enterprise that honours the risk areas and each unit's expected count."""
    flags = profile.flags
    flag_sets = [
        tuple(f for f, on in zip(flags, values, strict=True) if on)
        for values in rows[[_FLAG_PREFIX + f for f in flags]].to_numpy()
    ]
    keys = pd.Series(list(zip(rows["sector"], rows["subtype"], flag_sets, strict=True)))
    group_of_row, groups = pd.factorize(keys)
    towns = district.towns["code"].to_numpy()
    weights = np.array([_area_weights(*group, profile.areas, towns) for group in groups])
    empty = [
        f"{group[1]} {'、'.join(group[2])}".strip() for group, w in zip(groups, weights, strict=True) if w.sum() == 0
    ]
    if empty:
        raise DemoEnterpriseError(
            f"enterprise_areas.csv allows no tier-2 unit for {empty}: their allowed_tier2 lists do not overlap."
        )
    demand = np.bincount(group_of_row, minlength=len(groups)).astype(float)
    probability = _fit_to_capacity(weights, demand, district.towns["capacity"].to_numpy(), towns)
    town_index = np.empty(len(rows), dtype=int)
    for group in range(len(groups)):
        members = np.flatnonzero(group_of_row == group)
        quota = _quota(members.size, probability[group])
        town_index[members] = rng.permutation(np.repeat(np.arange(len(towns)), quota))
    return town_index


def _fit_to_capacity(weights: np.ndarray, demand: np.ndarray, capacity: np.ndarray, towns: np.ndarray) -> np.ndarray:
    """Iterative proportional fitting: rows sum to ``demand``, columns to ``capacity``."""
    fitted = weights * capacity[None, :]
    for _ in range(IPF_ITERATIONS):
        fitted *= (demand / fitted.sum(axis=1))[:, None]
        column = fitted.sum(axis=0)
        fitted *= np.divide(capacity, column, out=np.zeros_like(column), where=column > 0)[None, :]
    fitted *= (demand / fitted.sum(axis=1))[:, None]
    off = np.abs(fitted.sum(axis=0) / capacity - 1)
    if (off > IPF_TOLERANCE).any():
        worst = {
            str(code): round(float(share), 3)
            for code, share in zip(towns, fitted.sum(axis=0) / capacity, strict=True)
            if abs(share - 1) > IPF_TOLERANCE
        }
        raise DemoEnterpriseError(
            f"the risk areas (enterprise_areas.csv) and the density table disagree: tier-2 unit(s) would hold "
            f"{worst} times their expected enterprises. Widen allowed_tier2 or raise expected_enterprises there."
        )
    return fitted / demand[:, None]


def _draw_cells(town_index: np.ndarray, district: _District, rng: np.random.Generator) -> np.ndarray:
    """A tier-4 cell per enterprise, in proportion to the cell's expected enterprises."""
    cells = district.cells
    cell_index = np.empty(len(town_index), dtype=int)
    for town in range(len(district.towns)):
        members = np.flatnonzero(town_index == town)
        candidates = np.flatnonzero(cells["town_index"].to_numpy() == town)
        expected = cells["expected"].to_numpy()[candidates]
        cell_index[members] = rng.choice(candidates, size=members.size, p=expected / expected.sum())
    return cell_index


def _draw_points(polygons: np.ndarray, system: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Uniform points in each polygon, as listed (6 decimals) in each row's system.

    A draw is kept only if both the true point and the listed point converted back to WGS84 lie
    in the polygon, so a loader that converts correctly finds every row in its cell.
    """
    bounds = shapely.bounds(polygons)
    tokens = np.array([parse_coordinate_system(value) for value in system], dtype=object)
    lon, lat = np.full(len(polygons), np.nan), np.full(len(polygons), np.nan)
    pending = np.arange(len(polygons))
    for _ in range(MAX_POINT_ROUNDS):
        if pending.size == 0:
            return lon, lat
        box = bounds[pending]
        x = box[:, 0] + rng.random(pending.size) * (box[:, 2] - box[:, 0])
        y = box[:, 1] + rng.random(pending.size) * (box[:, 3] - box[:, 1])
        listed_x, listed_y, back_x, back_y = _listed_and_back(x, y, tokens[pending])
        inside = shapely.contains_xy(polygons[pending], x, y) & shapely.contains_xy(polygons[pending], back_x, back_y)
        lon[pending[inside]], lat[pending[inside]] = listed_x[inside], listed_y[inside]
        pending = pending[~inside]
    raise DemoEnterpriseError(
        f"{pending.size} point(s) could not be placed in their cells after {MAX_POINT_ROUNDS} rounds."
    )


def _listed_and_back(x: np.ndarray, y: np.ndarray, tokens: np.ndarray) -> tuple[np.ndarray, ...]:
    listed_x, listed_y, back_x, back_y = (np.empty_like(x) for _ in range(4))
    for token, (forward, inverse) in _SYSTEM_CONVERSIONS.items():
        mask = tokens == token
        if not mask.any():
            continue
        fx, fy = forward(x[mask], y[mask])
        listed_x[mask], listed_y[mask] = np.round(fx, LISTED_DECIMALS), np.round(fy, LISTED_DECIMALS)
        back_x[mask], back_y[mask] = inverse(listed_x[mask], listed_y[mask])
    return listed_x, listed_y, back_x, back_y


# ================================================================================================
# Step 3: classes
# ================================================================================================


def _ranked_quota(
    rows: pd.DataFrame, shares: pd.DataFrame, values: list, score: np.ndarray | None, rng: np.random.Generator
) -> np.ndarray:
    """Per sector, values by quota; the first value goes to the highest score (random if None)."""
    out = np.empty(len(rows), dtype=object)
    for sector, members in rows.groupby("sector").indices.items():
        counts = _quota(members.size, shares.loc[sector].to_numpy(dtype=float))
        drawn = np.repeat(np.array(values, dtype=object), counts)
        if score is None:
            out[members] = rng.permutation(drawn)
        else:
            out[members[np.argsort(-score[members], kind="stable")]] = drawn
    return out


def _draw_classes(rows: pd.DataFrame, profile: EnterpriseProfile, rng: np.random.Generator) -> pd.DataFrame:
    classes = profile.sector_classes.set_index("sector")
    flag_count = rows[[_FLAG_PREFIX + flag for flag in profile.flags]].sum(axis=1).to_numpy(dtype=float)
    largest = profile.scales["scale"].iloc[0]
    base = flag_count + LARGE_SCALE_RISK_BONUS * (rows["scale"].to_numpy() == largest)
    grades = profile.grades

    def noisy() -> np.ndarray:
        return base + rng.normal(0.0, RISK_SCORE_NOISE, len(rows))

    grade = _ranked_quota(rows, classes[[_GRADE_PREFIX + g for g in grades]], grades, noisy(), rng)
    supervision_values = _suffixes(classes, _CLASS_PREFIX)
    supervision = _ranked_quota(
        rows, classes[[_CLASS_PREFIX + c for c in supervision_values]], supervision_values, noisy(), rng
    )
    standard_values = _suffixes(classes, _STANDARD_PREFIX)
    size_score = (rows["scale"].to_numpy() == largest) + rng.normal(0.0, RISK_SCORE_NOISE, len(rows))
    standard = _ranked_quota(
        rows, classes[[_STANDARD_PREFIX + s for s in standard_values]], standard_values, size_score, rng
    )
    standard[standard == _NO_STANDARD] = None
    rows = rows.assign(grade=grade, supervision=supervision, standardisation=standard)
    return _draw_assessments(rows, profile, classes, rng)


def _draw_assessments(
    rows: pd.DataFrame, profile: EnterpriseProfile, classes: pd.DataFrame, rng: np.random.Generator
) -> pd.DataFrame:
    """Replace the grade of a share of rows by LEC or LS inputs that band to the same grade."""
    methods = _suffixes(classes, _ASSESSED_PREFIX)
    shares = classes[[_ASSESSED_PREFIX + m for m in methods]].assign(_graded=lambda t: 1 - t.sum(axis=1))
    method = _ranked_quota(rows, shares, [*methods, None], None, rng)
    inputs = {column: np.full(len(rows), np.nan) for column in _ASSESSMENT_COLUMNS}
    grade = rows["grade"].to_numpy()
    for name in methods:
        combos = _assessment_combos(profile, name)
        for level, options in combos.items():
            members = np.flatnonzero((method == name) & (grade == level))
            chosen = options[rng.integers(0, len(options), members.size)]
            for i, factor in enumerate(ASSESSMENT_FACTORS[name]):
                inputs[f"{name}_{factor}"][members] = chosen[:, i]
    return rows.assign(method=method, **inputs)


# ================================================================================================
# Step 4: details
# ================================================================================================


def _weighted_words(words: pd.DataFrame, kind: str, size: int, rng: np.random.Generator) -> np.ndarray:
    chosen = words[words["kind"] == kind]
    weight = chosen["weight"].to_numpy(dtype=float)
    return rng.choice(chosen["word"].to_numpy(dtype=object), size=size, p=weight / weight.sum())


def _draw_details(
    rows: pd.DataFrame, district: _District, profile: EnterpriseProfile, today: dt.date, rng: np.random.Generator
) -> pd.DataFrame:
    n = len(rows)
    scales = profile.scales.set_index("scale")
    scale = rows["scale"].to_numpy()
    employees = np.empty(n, dtype=np.int64)
    age_days = np.empty(n)
    for name, spec in scales.iterrows():
        members = np.flatnonzero(scale == name)
        drawn = rng.lognormal(np.log(spec["employees_median"]), spec["employees_sigma"], members.size)
        employees[members] = np.clip(np.round(drawn), spec["employees_min"], spec["employees_max"]).astype(np.int64)
        age_days[members] = rng.exponential(spec["founded_mean_years"] * 365.25, members.size)
    age_days = np.clip(age_days, 30, MAX_AGE_YEARS * 365.25).astype(int)
    founded = np.array([today - dt.timedelta(days=int(days)) for days in age_days], dtype=object)
    options = profile.options
    option = {
        field: _shuffled_quota(
            n,
            options.loc[options["field"] == field, "share"].tolist(),
            options.loc[options["field"] == field, "value"].tolist(),
            rng,
        )
        for field in (STATUS, AGENCY, "登记机关代码")
    }
    option[AGENCY][option[AGENCY] == ""] = None
    rows = rows.assign(employees=employees, founded=founded, status=option[STATUS], agency=option[AGENCY])
    rows = rows.assign(department=_draw_departments(rows, district, profile, rng))
    names, individual = _draw_names(rows, district, profile, rng)
    rows = rows.assign(
        name=names, address=_draw_addresses(rows, district, profile, rng), head=_draw_people(profile.words, n, rng)
    )
    return rows.assign(uscc=_draw_usccs(option["登记机关代码"], individual, founded, rng))


def _town_office(name: str) -> str:
    """The township's own office, as a 监管部门 (属地监管)."""
    if name.endswith("街道"):
        return name + "办事处"
    if name.endswith(("乡", "镇")):
        return name + "人民政府"
    return name


def _draw_departments(
    rows: pd.DataFrame, district: _District, profile: EnterpriseProfile, rng: np.random.Generator
) -> np.ndarray:
    choices = profile.sectors.set_index("subtype")["departments"].map(lambda text: text.split(_LIST_SEPARATOR))
    offices = district.towns.set_index("code")["name"].map(_town_office)
    out = np.empty(len(rows), dtype=object)
    for subtype, members in rows.groupby("subtype").indices.items():
        options = np.array(choices[subtype], dtype=object)
        out[members] = options[rng.integers(0, len(options), members.size)]
    town_offices = offices.reindex(rows["town_code"]).to_numpy(dtype=object)
    local = out == _TOWN_OFFICE
    out[local] = town_offices[local]
    return out


def _split_forms(text: str) -> list[str]:
    return [form for form in text.split(_FORM_SEPARATOR) if form]


def _split_trades(text: str) -> list[str]:
    return [trade for trade in text.split(FLAG_SEPARATOR) if trade]


def _strip_suffix(name: str, suffixes: tuple[str, ...]) -> str:
    for suffix in suffixes:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


def _village_place(name: str) -> str:
    """ "田荣村村民委员会" -> "田荣村", "机场社区居委会" -> "机场社区"."""
    return _strip_suffix(_PARENTHETICAL.sub("", name).strip(), _COMMITTEE_SUFFIXES)


def _village_short(place: str) -> str:
    return _strip_suffix(place, _PLACE_SUFFIXES)


def _town_short(name: str) -> str:
    return _strip_suffix(name, _TOWN_SUFFIXES)


def _draw_names(
    rows: pd.DataFrame, district: _District, profile: EnterpriseProfile, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Unique names from each sub-type's forms; also whether each is a 个体工商户 form."""
    names = np.empty(len(rows), dtype=object)
    individual = np.zeros(len(rows), dtype=bool)
    pending = np.arange(len(rows))
    for _ in range(_MAX_REDRAWS):
        names[pending], individual[pending] = _name_candidates(rows.iloc[pending], district, profile, rng)
        repeated = pd.Series(names).duplicated(keep="first").to_numpy()
        pending = np.flatnonzero(repeated)
        if pending.size == 0:
            return names, individual
    raise DemoEnterpriseError(
        f"{pending.size} enterprise name(s) still repeat after {_MAX_REDRAWS} draws; add brand words "
        "or name forms to enterprise_words.csv / enterprise_names.csv."
    )


def _name_candidates(
    rows: pd.DataFrame, district: _District, profile: EnterpriseProfile, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    n, words = len(rows), profile.words
    specs = {
        row.subtype: (_split_forms(row.forms), _split_forms(row.individual_forms), _split_trades(row.trades))
        for row in profile.names.itertuples()
    }
    parts = {
        "place": _weighted_words(words, "place", n, rng),
        "brand": _weighted_words(words, "brand_head", n, rng) + _weighted_words(words, "brand_tail", n, rng),
        "surname": _weighted_words(words, "surname", n, rng),
        "town": district.towns.set_index("code")["name"]
        .map(_town_short)
        .reindex(rows["town_code"])
        .to_numpy(dtype=object),
        "village": district.villages["short"].reindex(rows["village_code"]).to_numpy(dtype=object),
    }
    names = np.empty(n, dtype=object)
    individual = np.zeros(n, dtype=bool)
    form_pick, trade_pick = rng.random(n), rng.random(n)
    for position, subtype in enumerate(rows["subtype"].to_numpy()):
        forms, individual_forms, trades = specs[subtype]
        pick = int(form_pick[position] * (len(forms) + len(individual_forms)))
        form = (forms + individual_forms)[pick]
        individual[position] = pick >= len(forms)
        values = {key: value[position] for key, value in parts.items()}
        trade = trades[int(trade_pick[position] * len(trades))]
        names[position] = form.format(trade=trade, district=district.name, **values)
    return names, individual


def _draw_addresses(
    rows: pd.DataFrame, district: _District, profile: EnterpriseProfile, rng: np.random.Generator
) -> np.ndarray:
    n, words = len(rows), profile.words
    towns = district.towns.set_index("code")["name"]
    town_name = (
        towns.map(lambda name: "" if name.endswith(_NOT_AN_ADDRESS_TOWN_SUFFIX) else name)
        .reindex(rows["town_code"])
        .to_numpy(dtype=object)
    )
    village_name = district.villages["place"].reindex(rows["village_code"]).to_numpy(dtype=object)
    is_village = np.array([place.endswith(_VILLAGE_SUFFIX) for place in village_name])
    forms = np.where(
        is_village,
        _weighted_words(words, "address_village", n, rng),
        _weighted_words(words, "address_community", n, rng),
    )
    parts = {
        "city": _weighted_words(words, "city", n, rng),
        "road": _weighted_words(words, "road", n, rng),
        "hamlet": _weighted_words(words, "surname", n, rng) + _weighted_words(words, "hamlet_suffix", n, rng),
        # House numbers: most below 200, a long tail along main roads.
        "number": np.clip(np.round(rng.lognormal(np.log(60), 1.0, n)), 1, 999).astype(int),
        "group": rng.integers(1, 13, n),
        "building": rng.integers(1, 31, n),
    }
    return np.array(
        [
            form.format(
                district=district.name,
                town_name=town_name[i],
                village_name=village_name[i],
                **{k: v[i] for k, v in parts.items()},
            )
            for i, form in enumerate(forms)
        ],
        dtype=object,
    )


def _draw_people(words: pd.DataFrame, n: int, rng: np.random.Generator) -> np.ndarray:
    surname = _weighted_words(words, "surname", n, rng)
    first = _weighted_words(words, "given", n, rng)
    second = _weighted_words(words, "given", n, rng)
    # About two thirds of given names have two characters (measured on public name lists).
    two = rng.random(n) < 2 / 3
    return np.where(two, surname + first + second, surname + first)


def _draw_usccs(
    region: np.ndarray, individual: np.ndarray, founded: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Valid, unique USCCs; 个体工商户 get entity type 92, post-reform registrations ``MA`` codes."""
    taken: set[str] = set()
    codes = np.empty(len(region), dtype=object)
    for i in range(len(region)):
        codes[i] = _fresh_uscc(rng, str(region[i]), bool(individual[i]), founded[i] >= USCC_REFORM_DATE, taken)
    return codes


def _fresh_uscc(rng: np.random.Generator, region: str, individual: bool, new_style: bool, taken: set[str]) -> str:
    for _ in range(_MAX_REDRAWS):
        code = random_valid_uscc(rng, region_prefix=region)
        if (code[_ORG_CODE_SLICE] == _NEW_STYLE_ORG_PREFIX) != new_style:
            continue
        if individual:
            # Characters 1-2 do not enter the organisation-code check; only the last one changes.
            code = make_uscc(_INDIVIDUAL_ENTITY + code[2:-1])
        if code not in taken:
            taken.add(code)
            return code
    raise DemoEnterpriseError(f"could not draw a fresh USCC for region {region} in {_MAX_REDRAWS} tries.")


# ================================================================================================
# The list
# ================================================================================================


def _to_list(rows: pd.DataFrame, profile: EnterpriseProfile, district: _District) -> pd.DataFrame:
    flags = profile.flags
    labels = [
        FLAG_SEPARATOR.join(flag for flag, on in zip(flags, values, strict=True) if on) or None
        for values in rows[[_FLAG_PREFIX + flag for flag in flags]].to_numpy()
    ]
    town_names = district.towns.set_index("code")["name"]
    listed = pd.DataFrame(
        {
            NAME: rows["name"],
            USCC: rows["uscc"],
            SECTOR: rows["sector"],
            SUBTYPE: rows["subtype"],
            FLAGS: labels,
            GRADE: rows["grade"].where(rows["method"].isna(), None),
            **{column: rows[column] for column in _ASSESSMENT_COLUMNS},
            SUPERVISION: rows["supervision"],
            SCALE: rows["scale"],
            EMPLOYEES: rows["employees"].astype("int64"),
            STANDARDISATION: rows["standardisation"],
            AGENCY: rows["agency"],
            DEPARTMENT: rows["department"],
            TOWN: rows["town_code"].map(town_names),
            VILLAGE: rows["village_code"].map(district.villages["place"]),
            ADDRESS: rows["address"],
            STATUS: rows["status"],
            FOUNDED: rows["founded"],
            HEAD: rows["head"],
            LON: rows["lon"],
            LAT: rows["lat"],
            SYSTEM: rows["system"],
        }
    )
    # A bureau's list is compiled township by township, village by village.
    order = np.lexsort((rows["village_code"].to_numpy(), rows["town_code"].to_numpy()))
    listed = listed.iloc[order].reset_index(drop=True)
    listed[SEQUENCE] = np.arange(1, len(listed) + 1, dtype=np.int64)
    for method, factors in ASSESSMENT_FACTORS.items():
        if method == "LS":  # LS scores are whole numbers 1..5
            for factor in factors:
                listed[f"{method}_{factor}"] = listed[f"{method}_{factor}"].astype("Int64")
    return listed[ENTERPRISE_COLUMNS]


# ================================================================================================
# Bad rows
# ================================================================================================


def _check_frame(frame: pd.DataFrame) -> None:
    missing = [column for column in ENTERPRISE_COLUMNS if column not in frame.columns]
    if missing:
        raise DemoEnterpriseError(
            f"frame lacks column(s) {missing}; expected the output of generate_demo_enterprises()."
        )


def _bad_row_templates(frame: pd.DataFrame, rng: np.random.Generator) -> list[int]:
    """Positions of six different rows; the first five named ``…有限公司`` so a branch name reads true."""
    limited = np.flatnonzero(
        frame[NAME].str.endswith("有限公司").to_numpy() & ~frame[NAME].str.contains("分公司").to_numpy()
    )
    others = np.setdiff1d(np.arange(len(frame)), limited)
    if limited.size < 6:
        raise DemoEnterpriseError(f"frame has {limited.size} rows named …有限公司; add_bad_rows needs at least 6.")
    picks = rng.choice(limited, size=5, replace=False)
    pool = np.setdiff1d(np.concatenate([limited, others]), picks)
    picks = np.append(picks, rng.choice(pool))
    return [int(i) for i in picks]


def _branch(template: pd.Series, rng: np.random.Generator, taken: set[str]) -> pd.Series:
    """A branch office of the template's company: own name and fresh, valid USCC."""
    row = template.copy()
    row[NAME] = f"{template[NAME]}{_town_short(str(template[TOWN]))}分公司"
    code = str(template[USCC])
    new_style = code[_ORG_CODE_SLICE] == _NEW_STYLE_ORG_PREFIX
    row[USCC] = _fresh_uscc(rng, code[2:8], code[:2] == _INDIVIDUAL_ENTITY, new_style, taken)
    return row


def _without_coordinates(row: pd.Series) -> pd.Series:
    row = row.copy()
    row[LON] = row[LAT] = np.nan
    return row


def _moved_to(row: pd.Series, point_wgs84: tuple[float, float]) -> pd.Series:
    row = row.copy()
    forward, _ = _SYSTEM_CONVERSIONS[parse_coordinate_system(row[SYSTEM])]
    lon, lat = forward(np.array([point_wgs84[0]]), np.array([point_wgs84[1]]))
    row[LON], row[LAT] = round(float(lon[0]), LISTED_DECIMALS), round(float(lat[0]), LISTED_DECIMALS)
    return row


def _with_bad_check(row: pd.Series, rng: np.random.Generator) -> pd.Series:
    row = row.copy()
    code = str(row[USCC])
    wrong = [char for char in USCC_ALPHABET if char != code[-1]]
    row[USCC] = code[:-1] + wrong[int(rng.integers(0, len(wrong)))]
    return row


def _swapped(row: pd.Series) -> pd.Series:
    row = row.copy()
    row[LON], row[LAT] = row[LAT], row[LON]
    return row


def _repeated(row: pd.Series, rng: np.random.Generator) -> pd.Series:
    """The same enterprise entered again later, with an updated employee count."""
    row = row.copy()
    row[EMPLOYEES] = int(row[EMPLOYEES]) + int(rng.integers(1, 6))
    return row


def _append_bad_rows(
    frame: pd.DataFrame, made: list[tuple[str, str, int | None, pd.Series]]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    bad = pd.DataFrame([row for *_, row in made]).reset_index(drop=True)
    start = int(frame[SEQUENCE].max()) if len(frame) else 0
    bad[SEQUENCE] = np.arange(start + 1, start + 1 + len(bad), dtype=np.int64)
    table = pd.concat([frame, bad.astype(frame.dtypes.to_dict())], ignore_index=True)
    rows = np.arange(len(frame), len(table))
    notes = {
        MISSING_COORDINATES: "经度/纬度 empty; otherwise valid",
        OUTSIDE_DISTRICT: "point outside the district (across the 淮河 by default); otherwise valid",
        BAD_USCC_CHECK: "统一社会信用代码 fails the GB 32100 check character",
        SWAPPED_LON_LAT: "经度 and 纬度 swapped; otherwise valid",
        DUPLICATE_USCC: "same 统一社会信用代码 as an earlier row (the same enterprise entered twice)",
    }
    marks = pd.DataFrame(
        {
            "row": rows,
            SEQUENCE: table[SEQUENCE].to_numpy()[rows],
            "kind": [kind for kind, *_ in made],
            "expected": [expected for _, expected, *_ in made],
            "duplicate_of_row": pd.array([of for _, _, of, _ in made], dtype="Int64"),
            "note": [notes[kind] for kind, *_ in made],
        }
    )
    return table, marks[BAD_ROW_COLUMNS]
