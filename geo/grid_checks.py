"""Validation of a grid boundary file (四级网格边界): the hierarchy of its units and their geometry.

A bureau's file holds units of tier 1 区/县, 2 乡镇/街道, 3 社区/村 and 4 网格 (DOMAIN.md §1), one tier
or several, three tiers or four. :func:`resolve_hierarchy` gives every unit its tier, parent and
ancestry (``path``); :func:`check_grid` then checks each geometry and how children sit in their
parents, and reports every problem at once as :class:`GridProblem` rows with a Chinese message.

Set operations run in lon/lat, measurements in metres
-----------------------------------------------------
A boundary file is drawn in lon/lat, where an edge is a straight line in degrees. Projected to
Gauss-Kruger that edge bends: a parallel near 33°N curves with a radius of about 10,000 km, so a
20 km east-west edge bows about 5 m from the chord between its projected ends (c²/8R) and a child
vertex lying exactly on its parent's lon/lat edge lands metres off the parent's projected edge.
Checking nesting in a projected CRS therefore reports slivers that do not exist. So difference,
intersection and union run on the coordinates as given, and only their results are projected
(densified first, see ``MEASURE_SEGMENT_DEG``) to measure areas and distances in the CGCS2000
Gauss-Kruger zone of the file's longitude (:func:`geo.crs.projected_srid_for_longitude`).

Problem kinds
-------------
Hierarchy: ``missing_code``, ``duplicate_code``, ``bad_tier``, ``missing_tier``,
``tier_code_mismatch``, ``orphan``, ``parent_tier_mismatch``, ``cycle``.
Geometry: ``empty_geometry``, ``not_polygon``, ``invalid_geometry``, ``multipart`` and ``holes``
(tolerable: a real unit may have an exclave or an enclave, so ``allow`` can accept them),
``outside_parent``, ``sibling_overlap``, ``gap``.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from geo.crs import CGCS2000, STORAGE_SRID, WGS84, projected_srid_for_longitude

__all__ = [
    "GEOMETRY_KINDS",
    "HIERARCHY_KINDS",
    "PROBLEM_KINDS",
    "REPAIRED",
    "STANDARD_CODE_LENGTHS",
    "TOLERABLE_KINDS",
    "GridCheckError",
    "GridCheckResult",
    "GridProblem",
    "Tolerances",
    "check_grid",
    "resolve_hierarchy",
]

# 统计用区划代码 lengths (DOMAIN.md §1): digits -> tier; a code's parent is its next shorter prefix.
STANDARD_CODE_LENGTHS = {6: 1, 9: 2, 12: 3, 15: 4}
_PARENT_CODE_LENGTH = {9: 6, 12: 9, 15: 12}
TOP_TIER, BOTTOM_TIER = 1, 4

HIERARCHY_KINDS = (
    "missing_code",
    "duplicate_code",
    "bad_tier",
    "missing_tier",
    "tier_code_mismatch",
    "orphan",
    "parent_tier_mismatch",
    "cycle",
)
GEOMETRY_KINDS = (
    "empty_geometry",
    "not_polygon",
    "invalid_geometry",
    "multipart",
    "holes",
    "outside_parent",
    "sibling_overlap",
    "gap",
)
PROBLEM_KINDS = HIERARCHY_KINDS + GEOMETRY_KINDS
# A unit may really be in pieces (飞地, an exclave) or surround another (an enclave): the bureau decides.
TOLERABLE_KINDS = frozenset({"multipart", "holes"})
REPAIRED = "repaired"  # kind of the entries in GridCheckResult.repairs

# Densify lon/lat results before projecting them to measure: over 0.001 degree (about 100 m) a
# projected parallel departs from its chord by about 0.1 mm (c²/8R, R ≈ 10,000 km near 33°N).
MEASURE_SEGMENT_DEG = 1e-3
# Both are lon/lat degrees and numerically the same at map scale (geo/crs.py).
_LONLAT_SRIDS = (CGCS2000, WGS84)
_POLYGON, _MULTIPOLYGON = 3, 6  # shapely geometry type ids
_ROOT_GROUP = "\0root"  # sibling group of units without a parent (two districts in one file)


class GridCheckError(ValueError):
    """Raised when the frames given to the checks cannot be checked at all (columns, CRS, options)."""


@dataclass(frozen=True)
class Tolerances:
    """How far a grid may depart from exact nesting before it is reported, in metres and m².

    ``min_part_m2`` separates a real second part or hole from numerical dust: 1 m², the order of
    the overlap and gap tolerances, so nothing the other checks would report is dropped as noise.
    """

    outside_m: float = 0.5
    overlap_m2: float = 0.5
    gap_m2: float = 0.5
    min_part_m2: float = 1.0

    def __post_init__(self) -> None:
        for name in ("outside_m", "overlap_m2", "gap_m2", "min_part_m2"):
            value = getattr(self, name)
            if not value >= 0:  # also refuses NaN
                raise GridCheckError(f"Tolerances.{name} is {value!r}; expected a number >= 0")


@dataclass(frozen=True)
class GridProblem:
    """One thing wrong with one unit (``index`` is its 0-based position in the input frame)."""

    index: int | None
    code: str | None
    name: str | None
    kind: str
    message: str
    measure: float | None = None
    tolerable: bool = False


@dataclass(frozen=True)
class GridCheckResult:
    """The resolved units (``code, name, tier, parent_code, path, …, geometry``) and what was found."""

    units: gpd.GeoDataFrame
    problems: list[GridProblem]
    repairs: list[GridProblem]


# --- hierarchy ------------------------------------------------------------------------------------


def resolve_hierarchy(units: pd.DataFrame, known: pd.DataFrame | None = None) -> tuple[pd.DataFrame, list[GridProblem]]:
    """Give each unit its tier, parent code and ancestry; report what cannot be resolved.

    Parameters
    ----------
    units : DataFrame
        Columns ``code``, optional ``name``, ``tier`` (1..4; NA: implied by the length of an
        all-digit code of 6, 9, 12 or 15 digits) and ``parent_code`` (NA: the code's standard
        prefix, 15 -> 12 -> 9 -> 6 digits). A tier-1 unit is a root: its ``parent_code`` is
        ignored (a file may name the city above its district).
    known : DataFrame, optional
        Units already stored (columns ``code``, ``tier``, ``path``) that may be parents of the
        file's units. A code in ``units`` replaces the stored unit of that code.

    Returns
    -------
    tuple of DataFrame and list of GridProblem
        A copy of ``units`` with ``code`` and ``name`` as stripped text (or None), ``tier``
        (Int64), ``parent_code`` (str or None) and ``path`` (ancestor codes, top first, then the
        unit's own code; None where the ancestry cannot be resolved), and the problems found.

    Examples
    --------
    >>> units = pd.DataFrame({"code": ["340303", "340303001", "BS-01"], "name": ["区", "街道", "网格"],
    ...                       "tier": [None, None, 3], "parent_code": [None, None, "340303001"]})
    >>> resolved, problems = resolve_hierarchy(units)
    >>> resolved["path"].tolist()
    [['340303'], ['340303', '340303001'], ['340303', '340303001', 'BS-01']]
    >>> problems
    []
    """
    _require_columns(units, ["code"], "units")
    codes = _text_values(units["code"])
    names = _text_values(units["name"]) if "name" in units else [None] * len(units)
    tiers, problems = _resolve_tiers(codes, names, units["tier"] if "tier" in units else None)
    parents = _parent_codes(codes, tiers, units["parent_code"] if "parent_code" in units else None)
    paths, link_problems = _resolve_links(codes, names, tiers, parents, _known_paths(known))
    resolved = units.copy()
    resolved["code"] = pd.Series(codes, index=units.index, dtype=object)
    resolved["name"] = pd.Series(names, index=units.index, dtype=object)
    resolved["tier"] = pd.array(tiers, dtype="Int64")
    resolved["parent_code"] = pd.Series(parents, index=units.index, dtype=object)
    resolved["path"] = pd.Series(paths, index=units.index, dtype=object)
    return resolved, _in_row_order(problems + link_problems)


def _text_values(column: pd.Series) -> list[str | None]:
    """Stripped text; blank and NA become None; integer-looking floats (340303.0) lose '.0'."""
    text = column.astype("string").str.strip().str.replace(r"^(\d+)\.0$", r"\1", regex=True)
    text = text.where(text != "")
    return text.to_numpy(dtype=object, na_value=None).tolist()


def _implied_tier(code: str | None) -> int | None:
    if code is None or not (code.isascii() and code.isdigit()):
        return None
    return STANDARD_CODE_LENGTHS.get(len(code))


def _given_tier(value: object) -> tuple[int | None, bool]:
    """(tier, ok): (None, True) when not given, (None, False) when given but not 1..4."""
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return None, True
    try:
        number = float(str(value).strip())
    except ValueError:
        return None, False
    if not number.is_integer() or not TOP_TIER <= number <= BOTTOM_TIER:
        return None, False
    return int(number), True


def _resolve_tiers(
    codes: list[str | None], names: list[str | None], given: pd.Series | None
) -> tuple[list[int | None], list[GridProblem]]:
    raw = given.to_numpy(dtype=object).tolist() if given is not None else [None] * len(codes)
    tiers: list[int | None] = []
    problems: list[GridProblem] = []
    for index, (code, name, value) in enumerate(zip(codes, names, raw, strict=True)):
        tier, ok = _given_tier(value)
        implied = _implied_tier(code)
        if not ok:
            problems.append(_problem(index, code, name, "bad_tier", f"层级 {value!r} 无效；层级应为 1–4 的整数"))
        elif tier is None and implied is None and code is not None:
            problems.append(
                _problem(
                    index,
                    code,
                    name,
                    "missing_tier",
                    "缺少层级，且编码不是 6/9/12/15 位数字的标准区划代码，无法推断层级；请填写层级（1–4）",
                )
            )
        elif tier is not None and implied is not None and tier != implied:
            problems.append(
                _problem(
                    index,
                    code,
                    name,
                    "tier_code_mismatch",
                    f"层级为 {tier}，但 {len(code)} 位区划代码对应第 {implied} 级；请改正层级或编码",
                )
            )
        # A tier given wins over the code's; a bad one is not replaced by a guess.
        tiers.append(implied if ok and tier is None else tier)
    return tiers, problems


def _parent_codes(codes: list[str | None], tiers: list[int | None], given: pd.Series | None) -> list[str | None]:
    explicit = _text_values(given) if given is not None else [None] * len(codes)
    parents: list[str | None] = []
    for code, tier, parent in zip(codes, tiers, explicit, strict=True):
        if code is None or tier == TOP_TIER:
            parents.append(None)
        elif parent is not None:
            parents.append(parent)
        elif _implied_tier(code) is not None and len(code) in _PARENT_CODE_LENGTH:
            parents.append(code[: _PARENT_CODE_LENGTH[len(code)]])
        else:
            parents.append(None)
    return parents


def _known_paths(known: pd.DataFrame | None) -> dict[str, tuple[int | None, list[str]]]:
    """Stored units usable as parents: code -> (tier, path)."""
    if known is None or len(known) == 0:
        return {}
    _require_columns(known, ["code", "tier", "path"], "known")
    out: dict[str, tuple[int | None, list[str]]] = {}
    for code, tier, path in zip(
        _text_values(known["code"]), known["tier"].tolist(), known["path"].tolist(), strict=True
    ):
        if code is None or not isinstance(path, list | tuple | np.ndarray) or len(path) == 0:
            continue
        out.setdefault(code, (_given_tier(tier)[0], [str(p) for p in path]))
    return out


@dataclass
class _Links:
    """Parent links of the file's units, walked to build each unit's path."""

    codes: list[str | None]
    names: list[str | None]
    tiers: list[int | None]
    parents: list[str | None]
    first: dict[str, int]  # code -> position of its first occurrence
    known: dict[str, tuple[int | None, list[str]]]

    def parent_position(self, index: int) -> int | None:
        parent = self.parents[index]
        return self.first.get(parent) if parent is not None else None

    def base_path(self, index: int) -> list[str] | None:
        """Path of a unit whose parent is not in the file: a root, a known parent, or None."""
        parent = self.parents[index]
        if parent is None:
            return [] if self.tiers[index] == TOP_TIER else None
        return self.known[parent][1] if parent in self.known else None


def _resolve_links(
    codes: list[str | None],
    names: list[str | None],
    tiers: list[int | None],
    parents: list[str | None],
    known: dict[str, tuple[int | None, list[str]]],
) -> tuple[list[list[str] | None], list[GridProblem]]:
    first: dict[str, int] = {}
    problems: list[GridProblem] = []
    for index, code in enumerate(codes):
        if code is None:
            problems.append(_problem(index, None, names[index], "missing_code", "缺少编码；每个单元都须有唯一编码"))
        elif code in first:
            message = f"编码与第 {first[code] + 1} 个要素重复；每个单元的编码须唯一"
            problems.append(_problem(index, code, names[index], "duplicate_code", message))
        else:
            first[code] = index
    links = _Links(codes, names, tiers, parents, first, known)
    problems += _orphans_and_tier_steps(links)
    paths, cycles = _walk_paths(links)
    return paths, problems + cycles


def _orphans_and_tier_steps(links: _Links) -> list[GridProblem]:
    problems = []
    for index, (code, tier, parent) in enumerate(zip(links.codes, links.tiers, links.parents, strict=True)):
        if code is None:
            continue
        name = links.names[index]
        if parent is None:
            if tier is not None and tier > TOP_TIER:
                message = (
                    f"第 {tier} 级单元缺少上级编码，且编码不是标准区划代码，无法推出上级；请填写上级编码（parent_code）"
                )
                problems.append(_problem(index, code, name, "orphan", message))
            continue
        position = links.first.get(parent)
        if position is None and parent not in links.known:
            message = f"上级编码 {parent} 在文件和已载入数据中都不存在；请先载入上级单元，或改正上级编码"
            problems.append(_problem(index, code, name, "orphan", message))
            continue
        parent_tier = links.tiers[position] if position is not None else links.known[parent][0]
        if parent != code and tier is not None and parent_tier is not None and parent_tier != tier - 1:
            message = f"上级单元 {parent} 是第 {parent_tier} 级，本单元是第 {tier} 级；上级应为第 {tier - 1} 级"
            problems.append(_problem(index, code, name, "parent_tier_mismatch", message))
    return problems


def _walk_paths(links: _Links) -> tuple[list[list[str] | None], list[GridProblem]]:
    """Each unit's path, walking parent links in the file; a loop of links is reported once."""
    n = len(links.codes)
    paths: list[list[str] | None] = [None] * n
    done = [False] * n
    problems = []
    for start in range(n):
        walk: list[int] = []
        on_walk: set[int] = set()
        index = start if links.codes[start] is not None else None
        while index is not None and not done[index] and index not in on_walk:
            walk.append(index)
            on_walk.add(index)
            index = links.parent_position(index)
        if not walk:
            continue
        if index is None:  # the walk left the file: at a root, a stored parent or nowhere
            parent_path = links.base_path(walk[-1])
        elif done[index]:
            parent_path = paths[index]
        else:  # back on the walk: a loop, whose units and those below it get no path
            loop = walk[walk.index(index) :]
            problems.append(_cycle_problem(links, loop))
            parent_path = None
        for position in reversed(walk):
            parent_path = None if parent_path is None else [*parent_path, links.codes[position]]
            paths[position], done[position] = parent_path, True
    return paths, problems


def _cycle_problem(links: _Links, loop: list[int]) -> GridProblem:
    first = min(loop)
    ordered = loop[loop.index(first) :] + loop[: loop.index(first)]
    chain = " → ".join(str(links.codes[i]) for i in [*ordered, first])
    message = f"上级关系成环：{chain}；请改正其中一个单元的上级编码"
    return _problem(first, links.codes[first], links.names[first], "cycle", message)


# --- geometry -------------------------------------------------------------------------------------


def check_grid(
    units: gpd.GeoDataFrame,
    *,
    known: gpd.GeoDataFrame | None = None,
    tolerances: Tolerances = Tolerances(),
    allow: frozenset[str] = frozenset(),
    repair: bool = False,
) -> GridCheckResult:
    """Check a grid boundary file: hierarchy, each geometry, and how children nest in parents.

    Parameters
    ----------
    units : GeoDataFrame
        Columns ``code``, ``name``, optional ``tier`` and ``parent_code`` (see
        :func:`resolve_hierarchy`), geometry in EPSG:4490 (EPSG:4326 is taken as the same numbers).
    known : GeoDataFrame, optional
        Stored units (``code``, ``tier``, ``path``, geometry in EPSG:4490) that may be parents of
        the file's units; their geometry is used for ``outside_parent`` and ``gap`` (a plain
        DataFrame without geometry serves the hierarchy only).
    tolerances : Tolerances
        How far from exact nesting a grid may be before it is reported.
    allow : frozenset of str
        Tolerable kinds (``TOLERABLE_KINDS``: ``multipart``, ``holes``) not to report.
    repair : bool, default False
        Repair invalid geometry with ``shapely.make_valid`` (keeping polygonal parts) and report
        each change in ``repairs`` instead of an ``invalid_geometry`` problem.

    Returns
    -------
    GridCheckResult
        ``units``: the resolved hierarchy with MultiPolygon geometry in EPSG:4490 (repaired when
        ``repair``; None where a feature has no polygon), ``problems`` in input order, ``repairs``.
        Relations are always checked on the repaired shape of an invalid unit, so one bad ring
        does not hide the other problems.

    Raises
    ------
    GridCheckError
        When a frame lacks a column, has no or a projected CRS, or ``allow`` names a kind that is
        not tolerable.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> units = gpd.GeoDataFrame({"code": ["340303", "340303001", "340303002"], "name": ["区", "甲", "乙"]},
    ...     geometry=[box(117.30, 32.90, 117.32, 32.91), box(117.30, 32.90, 117.31, 32.91),
    ...               box(117.31, 32.90, 117.32, 32.91)], crs=4490)
    >>> result = check_grid(units)
    >>> result.problems, result.units["tier"].tolist()
    ([], [1, 2, 2])
    >>> [p.kind for p in check_grid(units.iloc[:2]).problems]
    ['gap']
    """
    _check_options(allow)
    _check_geo_frame(units, "units")
    known_geometry = _known_geometry(known)
    attributes = pd.DataFrame(units.drop(columns=units.geometry.name))
    resolved, problems = resolve_hierarchy(attributes, known)
    shapes = _prepare_shapes(units.geometry.to_numpy(), repair)
    rows = _Rows.build(resolved, shapes.usable)
    meter = _Meter.around(shapes.working)
    repairs: list[GridProblem] = []
    problems += _shape_problems(rows, shapes)
    if meter is not None:
        repairs = _repairs(rows, shapes, meter)
        problems += _part_problems(rows, shapes, meter, tolerances)
        problems += _relation_problems(rows, shapes.working, known_geometry, meter, tolerances)
    output = _output_frame(resolved, shapes.working if repair else shapes.as_given, units.geometry.name)
    return GridCheckResult(output, _in_row_order([p for p in problems if p.kind not in allow]), repairs)


def _check_options(allow: frozenset[str]) -> None:
    refused = sorted(set(allow) - TOLERABLE_KINDS)
    if refused:
        raise GridCheckError(
            f"allow={sorted(allow)!r} names {refused!r}, which cannot be accepted; "
            f"only the tolerable kinds {sorted(TOLERABLE_KINDS)!r} may be allowed"
        )


def _require_columns(frame: pd.DataFrame, columns: list[str], label: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise GridCheckError(f"{label} lacks column(s) {missing!r}; it has {list(map(str, frame.columns))!r}")


def _check_geo_frame(frame: gpd.GeoDataFrame, label: str) -> None:
    has_geometry = isinstance(frame, gpd.GeoDataFrame) and frame.active_geometry_name in frame.columns
    if not has_geometry:
        raise GridCheckError(
            f"{label} must be a GeoDataFrame with an active geometry column; got {type(frame).__name__}"
        )
    epsg = frame.crs.to_epsg() if frame.crs is not None else None
    if len(frame) and epsg not in _LONLAT_SRIDS:
        raise GridCheckError(
            f"{label} has CRS {frame.crs!r}; expected lon/lat EPSG:{STORAGE_SRID} (CGCS2000): "
            f"use set_crs({STORAGE_SRID}) if it has none, or to_crs({STORAGE_SRID})"
        )


def _known_geometry(known: pd.DataFrame | None) -> dict[str, shapely.Geometry]:
    """Valid polygonal geometry of stored units by code (stored units are parents, never reported)."""
    if known is None or len(known) == 0 or not isinstance(known, gpd.GeoDataFrame):
        return {}
    _check_geo_frame(known, "known")
    _require_columns(known, ["code"], "known")
    geometry = known.geometry.to_numpy().copy()
    invalid = ~shapely.is_valid(geometry) & ~shapely.is_missing(geometry)
    geometry[invalid] = _make_valid(geometry[invalid])
    geometry = _as_multipolygons(geometry)
    codes = _text_values(known["code"])
    out: dict[str, shapely.Geometry] = {}
    for code, geom in zip(codes, geometry, strict=True):
        if code is not None and geom is not None and not geom.is_empty:
            out.setdefault(code, geom)
    return out


def _make_valid(geometry: np.ndarray) -> np.ndarray:
    # "structure" unions the parts of a MultiPolygon whose parts overlap, as a drawing means;
    # the default "linework" keeps only the area covered an odd number of times (GEOS MakeValid docs).
    return shapely.make_valid(geometry, method="structure")


def _as_multipolygons(geometry: np.ndarray) -> np.ndarray:
    """The polygonal parts of each geometry as one MultiPolygon; None where there are none."""
    parts, owner = shapely.get_parts(geometry, return_index=True)
    # make_valid may nest a MultiPolygon inside a GeometryCollection: flatten twice.
    parts, inner = shapely.get_parts(parts, return_index=True)
    owner = owner[inner]
    polygonal = (shapely.get_type_id(parts) == _POLYGON) & ~shapely.is_empty(parts)
    out = np.full(len(geometry), None, dtype=object)
    if polygonal.any():
        shapely.multipolygons(parts[polygonal], indices=owner[polygonal], out=out)
    return out


@dataclass(frozen=True)
class _Shapes:
    """Each feature's geometry as given, as used for checks, and why it may be unusable."""

    as_given: np.ndarray  # MultiPolygon (possibly invalid) or None
    working: np.ndarray  # valid MultiPolygon or None
    usable: np.ndarray  # working is not None
    original: np.ndarray  # the input geometry
    empty: np.ndarray
    not_polygon: np.ndarray
    invalid: np.ndarray
    reasons: np.ndarray  # is_valid_reason where invalid
    repair: bool


def _prepare_shapes(geometry: np.ndarray, repair: bool) -> _Shapes:
    empty = shapely.is_missing(geometry) | shapely.is_empty(geometry)
    type_id = shapely.get_type_id(geometry)
    polygonal = ~empty & np.isin(type_id, [_POLYGON, _MULTIPOLYGON])
    invalid = polygonal & ~shapely.is_valid(geometry)
    reasons = np.full(len(geometry), None, dtype=object)
    reasons[invalid] = shapely.is_valid_reason(geometry[invalid])
    as_given = np.full(len(geometry), None, dtype=object)
    as_given[polygonal] = _as_multipolygons(geometry[polygonal])  # parts are regrouped, not validated
    working = as_given.copy()
    working[invalid] = _as_multipolygons(_make_valid(geometry[invalid]))
    usable = ~shapely.is_missing(working)
    shapely.prepare(working[usable])
    return _Shapes(as_given, working, usable, geometry, empty, ~empty & ~polygonal, invalid, reasons, repair)


@dataclass(frozen=True)
class _Rows:
    """Per-feature attributes the geometry checks need, by position."""

    codes: np.ndarray
    names: np.ndarray
    parents: np.ndarray
    groups: np.ndarray  # sibling group: the parent code, or the tier of units without a parent
    checked: np.ndarray  # takes part in relations: usable geometry, a code, first of its code
    first: dict[str, int]  # code -> position of its first occurrence

    @classmethod
    def build(cls, resolved: pd.DataFrame, usable: np.ndarray) -> _Rows:
        codes = resolved["code"].to_numpy(dtype=object)
        parents = resolved["parent_code"].to_numpy(dtype=object)
        first: dict[str, int] = {}
        for position, code in enumerate(codes):
            if code is not None:
                first.setdefault(code, position)
        is_first = np.zeros(len(codes), dtype=bool)
        is_first[list(first.values())] = True
        roots = _ROOT_GROUP + resolved["tier"].astype("string").fillna("?")
        groups = np.where(pd.isna(parents), roots.to_numpy(dtype=object), parents).astype(object)
        return cls(codes, resolved["name"].to_numpy(dtype=object), parents, groups, usable & is_first, first)

    def problem(self, index: int, kind: str, message: str, measure: float | None = None) -> GridProblem:
        return _problem(index, self.codes[index], self.names[index], kind, message, measure)


@dataclass(frozen=True)
class _Meter:
    """Measures lon/lat geometry in metres: densify, project to the zone's Gauss-Kruger, measure."""

    transformer: Transformer

    @classmethod
    def around(cls, geometry: np.ndarray) -> _Meter | None:
        present = geometry[~shapely.is_missing(geometry)]
        if len(present) == 0:
            return None
        west, _, east, _ = shapely.total_bounds(present)
        longitude = (west + east) / 2
        try:
            srid = projected_srid_for_longitude(longitude)
        except ValueError as exc:
            raise GridCheckError(
                f"units lie around longitude {longitude:.4f}, outside China; "
                "check the file's CRS and whether longitude and latitude are swapped"
            ) from exc
        return cls(Transformer.from_crs(STORAGE_SRID, srid, always_xy=True))

    def _xy(self, xy: np.ndarray) -> np.ndarray:
        x, y = self.transformer.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])

    def project(self, geometry: np.ndarray, *, densify: bool = True) -> np.ndarray:
        if densify:
            geometry = shapely.segmentize(geometry, MEASURE_SEGMENT_DEG)
        return shapely.transform(geometry, self._xy)

    def area_m2(self, geometry: np.ndarray, *, densify: bool = True) -> np.ndarray:
        return shapely.area(self.project(geometry, densify=densify))

    def farthest_m(self, pieces: np.ndarray, targets: np.ndarray, target_keys: np.ndarray) -> np.ndarray:
        """For each piece, the largest distance of its (densified) vertices from its target."""
        if len(pieces) == 0:
            return np.zeros(0)
        key_ids, _ = pd.factorize(pd.Series(target_keys, dtype=object))
        first = pd.Series(np.arange(len(key_ids))).groupby(key_ids).first().to_numpy()
        projected_targets = self.project(targets[first])
        shapely.prepare(projected_targets)
        coords, owner = shapely.get_coordinates(self.project(pieces), return_index=True)
        distance = shapely.distance(shapely.points(coords), projected_targets[key_ids[owner]])
        farthest = np.zeros(len(pieces))
        np.maximum.at(farthest, owner, distance)
        return farthest


def _shape_problems(rows: _Rows, shapes: _Shapes) -> list[GridProblem]:
    problems = []
    for index in np.flatnonzero(shapes.empty):
        problems.append(rows.problem(index, "empty_geometry", "没有几何（空图形）；请补上该单元的边界面"))
    for index in np.flatnonzero(shapes.not_polygon):
        kind = shapes.original[index].geom_type
        message = f"几何类型为 {kind}，不是面；网格单元须为 Polygon 或 MultiPolygon，请重新绘制"
        problems.append(rows.problem(index, "not_polygon", message))
    for index in np.flatnonzero(shapes.invalid):
        reason = shapes.reasons[index]
        if shapes.working[index] is None:
            message = f"几何无效（{reason}），自动修复后没有剩下任何面；请重新绘制该单元"
        elif shapes.repair:
            continue
        else:
            message = f"几何无效（{reason}）；请在 GIS 软件中修复（如 QGIS“修复几何”），或启用自动修复（repair）"
        problems.append(rows.problem(index, "invalid_geometry", message))
    return problems


def _repairs(rows: _Rows, shapes: _Shapes, meter: _Meter) -> list[GridProblem]:
    fixed = np.flatnonzero(shapes.invalid & shapes.usable) if shapes.repair else np.zeros(0, dtype=int)
    if len(fixed) == 0:
        return []
    # Densifying rebuilds an invalid ring into something else: measure its vertices as they are.
    before = meter.area_m2(shapes.as_given[fixed], densify=False)
    after = meter.area_m2(shapes.working[fixed])
    repairs = []
    for index, old, new in zip(fixed, before, after, strict=True):
        message = (
            f"几何无效（{shapes.reasons[index]}），已用 make_valid 修复：面积 {_num(old)} m² → {_num(new)} m²"
            f"（变化 {new - old:+.1f} m²）；请核对修复结果"
        )
        repairs.append(rows.problem(index, REPAIRED, message, float(new - old)))
    return repairs


def _part_problems(rows: _Rows, shapes: _Shapes, meter: _Meter, tolerances: Tolerances) -> list[GridProblem]:
    """Multipart units and units with holes, ignoring parts and holes below ``min_part_m2``."""
    # An unrepaired invalid unit is reported as invalid; its pieces would only repeat that.
    considered = shapes.usable & (shapes.repair | ~shapes.invalid)
    positions = np.flatnonzero(considered)
    parts, owner = shapely.get_parts(shapes.working[positions], return_index=True)
    owner = positions[owner]
    split = np.bincount(owner, minlength=len(rows.codes)) > 1
    holed = shapely.get_num_interior_rings(parts) > 0
    problems = []
    look = split[owner]
    if look.any():
        problems += _multipart(rows, parts[look], owner[look], meter, tolerances.min_part_m2)
    if holed.any():
        problems += _holes(rows, parts[holed], owner[holed], meter, tolerances.min_part_m2)
    return problems


def _multipart(
    rows: _Rows, parts: np.ndarray, owner: np.ndarray, meter: _Meter, min_part_m2: float
) -> list[GridProblem]:
    area = meter.area_m2(parts)
    real = pd.Series(area[area > min_part_m2]).groupby(owner[area > min_part_m2])
    problems = []
    for index, count, total, largest in zip(real.size().index, real.size(), real.sum(), real.max(), strict=True):
        if count > 1:
            extra = total - largest
            message = (
                f"由 {count} 个分离的部分组成（最大部分以外共 {_num(extra)} m²）；"
                "如确为飞地可允许 multipart，否则删除或合并多余部分"
            )
            problems.append(rows.problem(index, "multipart", message, float(extra)))
    return problems


def _holes(rows: _Rows, parts: np.ndarray, owner: np.ndarray, meter: _Meter, min_part_m2: float) -> list[GridProblem]:
    rings, ring_owner = shapely.get_rings(parts, return_index=True)
    exterior = np.r_[True, ring_owner[1:] != ring_owner[:-1]]  # get_rings lists the exterior first
    interiors, hole_owner = rings[~exterior], owner[ring_owner[~exterior]]
    area = meter.area_m2(shapely.polygons(interiors))
    real = area > min_part_m2
    counted = pd.Series(area[real]).groupby(hole_owner[real])
    problems = []
    for index, count, total in zip(counted.size().index, counted.size(), counted.sum(), strict=True):
        message = (
            f"内部有 {count} 个洞（共 {_num(total)} m²），洞内不属于本单元；"
            "如确为被包围的其他单元（插花地）可允许 holes，否则请补齐边界"
        )
        problems.append(rows.problem(index, "holes", message, float(total)))
    return problems


def _relation_problems(
    rows: _Rows,
    working: np.ndarray,
    known: dict[str, shapely.Geometry],
    meter: _Meter,
    tolerances: Tolerances,
) -> list[GridProblem]:
    nesting = _Nesting.build(rows, working, known)
    problems = _outside_parent(rows, nesting.usable(), meter, tolerances.outside_m)
    problems += _sibling_overlaps(rows, working, meter, tolerances.overlap_m2)
    problems += _gaps(rows, nesting, meter, tolerances.gap_m2)
    return problems


@dataclass(frozen=True)
class _Nesting:
    """The file's units whose parent has a geometry, with that geometry, by position."""

    children: np.ndarray  # positions in the input frame
    geometry: np.ndarray  # the child's working geometry, None when it has none
    parent_geometry: np.ndarray
    parent_keys: np.ndarray  # parent codes

    @classmethod
    def build(cls, rows: _Rows, working: np.ndarray, known: dict[str, shapely.Geometry]) -> _Nesting:
        """A parent in the file is used even when it is also stored (the file replaces it)."""
        children, geometry, keys = [], [], []
        for index in rows.first.values():
            parent = rows.parents[index]
            if parent is None:
                continue
            if parent in rows.first:
                geom = working[rows.first[parent]] if rows.checked[rows.first[parent]] else None
            else:
                geom = known.get(parent)
            if geom is not None:
                children.append(index)
                geometry.append(geom)
                keys.append(parent)
        positions = np.array(children, dtype=int)
        return cls(positions, working[positions], np.array(geometry, dtype=object), np.array(keys, dtype=object))

    def usable(self) -> _Nesting:
        keep = ~shapely.is_missing(self.geometry)
        return _Nesting(self.children[keep], self.geometry[keep], self.parent_geometry[keep], self.parent_keys[keep])


def _outside_parent(rows: _Rows, nesting: _Nesting, meter: _Meter, outside_m: float) -> list[GridProblem]:
    # Exact predicate first (prepared parents): a child sharing its parent's vertices is covered.
    suspect = ~shapely.covered_by(nesting.geometry, nesting.parent_geometry)
    parents, keys = nesting.parent_geometry[suspect], nesting.parent_keys[suspect]
    outside = shapely.difference(nesting.geometry[suspect], parents)
    present = ~shapely.is_empty(outside)
    farthest = meter.farthest_m(outside[present], parents[present], keys[present])
    places = shapely.point_on_surface(outside[present])
    problems = []
    for index, distance, place in zip(nesting.children[suspect][present], farthest, places, strict=True):
        if distance > outside_m:
            message = (
                f"子单元超出上级单元 {_num(distance)} m（容差 {_num(outside_m)} m），"
                f"{_place(place)}；请沿上级单元边界修正"
            )
            problems.append(rows.problem(index, "outside_parent", message, float(distance)))
    return problems


def _sibling_overlaps(rows: _Rows, working: np.ndarray, meter: _Meter, overlap_m2: float) -> list[GridProblem]:
    positions = np.flatnonzero(rows.checked)
    geometry = working[positions]
    left, right = shapely.STRtree(geometry).query(geometry, predicate="intersects")
    pair = (left < right) & (rows.groups[positions[left]] == rows.groups[positions[right]])
    left, right = left[pair], right[pair]
    # Neighbours that only share an edge touch; only interiors that meet can overlap.
    meet = ~shapely.touches(geometry[left], geometry[right])
    left, right = left[meet], right[meet]
    common = shapely.intersection(geometry[left], geometry[right])
    area = meter.area_m2(common)
    big = area > overlap_m2
    places = shapely.point_on_surface(common[big])
    problems = []
    for a, b, measure, place in zip(positions[left[big]], positions[right[big]], area[big], places, strict=True):
        message = (
            f"与 {rows.codes[b]} 重叠 {_num(measure)} m²（容差 {_num(overlap_m2)} m²），{_place(place)}；"
            "请修正两者的共同边界"
        )
        problems.append(rows.problem(a, "sibling_overlap", message, float(measure)))
    return problems


def _gaps(rows: _Rows, nesting: _Nesting, meter: _Meter, gap_m2: float) -> list[GridProblem]:
    """Parents minus the union of their children in the file (a child without geometry covers nothing)."""
    if len(nesting.children) == 0:
        return []
    ids, keys = pd.factorize(pd.Series(nesting.parent_keys, dtype=object))
    members = np.split(np.argsort(ids, kind="stable"), np.cumsum(np.bincount(ids))[:-1])
    parents = nesting.parent_geometry[[m[0] for m in members]]
    covered = np.array([shapely.union_all(nesting.geometry[m]) for m in members], dtype=object)
    uncovered = shapely.difference(parents, covered)
    area = meter.area_m2(uncovered)
    problems = []
    for key, measure, hole in zip(keys, area, uncovered, strict=True):
        if measure > gap_m2:
            message = (
                f"上级单元有 {_num(measure)} m² 未被下级单元覆盖（容差 {_num(gap_m2)} m²），"
                f"{_place(shapely.point_on_surface(hole))}；请补齐下级单元或修正边界"
            )
            problems.append(_gap_problem(rows, key, message, float(measure)))
    return problems


def _gap_problem(rows: _Rows, parent: str, message: str, measure: float) -> GridProblem:
    if parent in rows.first:
        return rows.problem(rows.first[parent], "gap", message, measure)
    return _problem(None, parent, None, "gap", message, measure)


# --- output ---------------------------------------------------------------------------------------


def _output_frame(resolved: pd.DataFrame, geometry: np.ndarray, geometry_name: str) -> gpd.GeoDataFrame:
    first = ["code", "name", "tier", "parent_code", "path"]
    rest = [c for c in resolved.columns if c not in first and c not in (geometry_name, "geometry")]
    frame = resolved[first + rest]
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geometry, index=frame.index), crs=STORAGE_SRID)


def _problem(
    index: int | None, code: str | None, name: str | None, kind: str, message: str, measure: float | None = None
) -> GridProblem:
    position = None if index is None else int(index)
    return GridProblem(position, code, name, kind, message, measure, kind in TOLERABLE_KINDS)


def _in_row_order(problems: list[GridProblem]) -> list[GridProblem]:
    return sorted(problems, key=lambda p: (p.index is None, p.index or 0))


def _num(value: float) -> str:
    """One decimal, or three significant digits for values below 0.1 (a tolerance may be tiny)."""
    return f"{value:.1f}" if abs(value) >= 0.1 or value == 0 else f"{value:.3g}"


def _place(point: shapely.Geometry) -> str:
    return f"位于 {point.x:.5f}°E {point.y:.5f}°N 附近"
