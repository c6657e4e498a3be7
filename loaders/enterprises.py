"""Enterprise loader: an enterprise list (CSV/XLSX, Chinese headers, GCJ-02/BD-09 points) into
PostGIS, placed in cells by the one point → cell rule.

Parsing (:func:`parse_enterprises`) is separate from I/O (:func:`load_enterprises`): the load is
one transaction — place the points, COPY into a staging table, merge by USCC, audit — so a killed
load leaves the database as it was, and loading the same file twice changes nothing.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from rich.progress import Progress
from sqlalchemy import Connection, Engine, text

from config.settings import PROJECT_ROOT
from geo.chinese_crs import UnknownCoordinateSystemError, parse_coordinate_system, to_storage_lonlat
from geo.placement import NO_CELL, OUTSIDE_DISTRICT, place_points
from geo.safe_text import restore_neutralised
from geo.uscc import uscc_problems
from loaders.boundaries import sync_hazard_paths
from loaders.errors import LoadRefusedError, Problem
from loaders.pipeline import (
    LoadResult,
    Merge,
    Parsed,
    TabularOptions,
    Written,
    as_pg_array,
    copy_frame,
    drop_foreign_rows,
    run_tabular_load,
)
from loaders.report import IGNORED_COLUMNS
from loaders.rows import WARN, RowChecks, flag_duplicates, map_unique, parse_number, split_list
from loaders.tabular import RawTable, map_headers

__all__ = [
    "EnterpriseOptions",
    "EnterpriseLoadResult",
    "parse_enterprises",
    "load_enterprises",
    "HEADERS",
    "load_vocabulary",
]

VOCAB = PROJECT_ROOT / "data" / "vocab"

# field → recognised headers (DOMAIN.md §4); an explicit --map field=列名 wins.
HEADERS: dict[str, tuple[str, ...]] = {
    "name": ("企业名称", "单位名称", "生产经营单位名称", "企业(单位)名称", "名称", "company", "enterprise"),
    "uscc": ("统一社会信用代码", "信用代码", "社会信用代码", "社会统一信用代码", "credit_code"),
    "address": ("地址", "企业地址", "注册地址", "经营地址", "生产经营地址", "地点"),
    "sector": ("行业领域", "行业", "所属行业", "行业分类"),
    "sector_class": ("行业类别", "行业小类", "细分行业", "行业细类"),
    "flags": ("特殊作业/风险标签", "风险标签", "特殊标签", "专项标签", "重点标签", "涉及"),
    "grade": ("风险等级", "安全风险等级", "风险分级", "等级"),
    "lec_l": ("LEC_L", "LEC-L", "L(LEC)"),
    "lec_e": ("LEC_E", "LEC-E", "E(LEC)"),
    "lec_c": ("LEC_C", "LEC-C", "C(LEC)"),
    "ls_l": ("LS_L", "LS-L", "L(LS)"),
    "ls_s": ("LS_S", "LS-S", "S(LS)"),
    "supervision_class": ("监管分类", "分类分级", "监管类别", "监管等级"),
    "scale": ("企业规模", "规模"),
    "employees": ("从业人数", "职工人数", "员工人数", "从业人员数"),
    "standardisation_level": ("标准化等级", "安全生产标准化等级", "标准化级别", "标准化"),
    "contractor": ("安全生产承包服务机构", "承包服务机构", "托管服务机构", "安全托管机构"),
    "department": ("监管部门", "行业主管部门", "负责部门", "主管部门"),
    "status": ("经营状态", "状态", "企业状态"),
    "leader": ("主要负责人", "负责人", "法定代表人"),
    "established_date": ("成立日期", "注册日期"),
    "lon": ("经度", "lng", "lon", "long", "longitude", "x坐标"),
    "lat": ("纬度", "lat", "latitude", "y坐标"),
    "crs": ("坐标系", "坐标系统", "坐标类型"),
}
REQUIRED = ("name", "uscc")
GRADES = {
    "重大": 1,
    "重大风险": 1,
    "红": 1,
    "红色": 1,
    "1": 1,
    "较大": 2,
    "较大风险": 2,
    "橙": 2,
    "橙色": 2,
    "2": 2,
    "一般": 3,
    "一般风险": 3,
    "黄": 3,
    "黄色": 3,
    "3": 3,
    "低": 4,
    "低风险": 4,
    "蓝": 4,
    "蓝色": 4,
    "4": 4,
}
STATUSES = {
    "在营": "在营",
    "存续": "在营",
    "在业": "在营",
    "开业": "在营",
    "正常": "在营",
    "停产": "停产",
    "停业": "停产",
    "歇业": "停产",
    "关闭": "关闭",
    "注销": "关闭",
    "吊销": "关闭",
    "已关闭": "关闭",
}
MAX_EMPLOYEES = 1_000_000  # larger than any single enterprise; far below the int column's limit
# Loose China box (degrees) to call out swapped lon/lat; placement decides in/out of the district.
_LON, _LAT = (73.0, 136.0), (3.0, 54.0)


@dataclass(frozen=True)
class EnterpriseOptions(TabularOptions):
    crs: str | None = None  # file-level coordinate system; a 坐标系 column overrides it per row


EnterpriseLoadResult = LoadResult


def load_vocabulary(name: str) -> dict[str, str]:
    """synonym (and canonical) → canonical, from data/vocab/<name>.csv."""
    table = pd.read_csv(VOCAB / f"{name}.csv", dtype=str, keep_default_na=False)
    key = table.columns[0]
    mapping = {}
    for canonical, synonyms in zip(table[key], table["synonyms"], strict=True):
        for word in [canonical, *synonyms.split("|")]:
            if word.strip():
                mapping[word.strip().lower()] = canonical
    return mapping


# ------------------------------------------------------------------ parsing (no I/O beyond the read)


def parse_enterprises(table: RawTable, options: EnterpriseOptions) -> Parsed:
    """Validate every row; return the rows to load and every problem (rejections and warnings)."""
    frame = table.frame.drop(columns=[c for c in IGNORED_COLUMNS if c in table.frame.columns])
    for column in frame.columns:  # a corrected rejects file carries neutralised text ('=…)
        marked = frame[column].str.startswith("'")
        if marked.any():
            frame.loc[marked, column] = frame.loc[marked, column].map(restore_neutralised)
    table = dataclasses.replace(table, frame=frame)
    columns = map_headers(list(frame.columns), HEADERS, options.columns)
    _require_columns(table, columns, options)
    checks = RowChecks(table, columns)
    rows = pd.DataFrame(index=frame.index)
    _identity(checks, rows)
    _classification(checks, rows)
    _numbers(checks, rows)
    _coordinates(checks, rows, options)
    flag_duplicates(checks, "uscc", rows["uscc"], "统一社会信用代码")  # last: copies of rejected rows stay
    mapped = set(columns.values())
    extra_columns = [c for c in frame.columns if c not in mapped]
    rows["extra"] = _extra_json(frame, extra_columns)
    return Parsed.of(checks, rows)


def _extra_json(frame: pd.DataFrame, columns: list[str]) -> list[str] | str:
    """Each row's unmapped, non-empty cells as a JSON object (kept in ``enterprise.extra``).

    Built from one JSON fragment per distinct value and column (columns such as 所属乡镇 repeat
    a few values over thousands of rows), joined column by column over the whole list: a
    sixth of the time of one json.dumps per row.
    """
    if not columns:
        return "{}"
    joined = np.full(len(frame), "", dtype=object)
    for column in columns:
        key = json.dumps(column, ensure_ascii=False)
        values = frame[column].astype(object)
        fragment = map_unique(values, lambda v, key=key: f"{key}: {_json_text(v)}" if v else "").to_numpy()
        filled = fragment != ""
        joined[filled] = np.where(joined[filled] == "", fragment[filled], joined[filled] + ", " + fragment[filled])
    return ("{" + joined + "}").tolist()


def _json_text(value: str) -> str:
    """``json.dumps(value, ensure_ascii=False)``, without its cost for text that needs no escape."""
    if '"' in value or "\\" in value or not value.isprintable():
        return json.dumps(value, ensure_ascii=False)
    return f'"{value}"'


def _require_columns(table: RawTable, columns: dict[str, str], options: EnterpriseOptions) -> None:
    problems = [
        Problem(
            table.file_name,
            1,
            key,
            None,
            "missing_column",
            f"缺少必需的列「{HEADERS[key][0]}」（可识别的表头: {'、'.join(HEADERS[key][:4])}；文件的列: "
            f"{'、'.join(table.frame.columns)}）；可用 --map {key}=列名 指定",
        )
        for key in REQUIRED
        if key not in columns
    ]
    problems += [
        Problem(
            table.file_name,
            1,
            options.columns[key],
            None,
            "missing_column",
            f"指定的列「{options.columns[key]}」不在文件中",
        )
        for key in options.columns
        if key in HEADERS and options.columns[key] not in table.frame.columns
    ]
    has_points = "lon" in columns or "lat" in columns
    if has_points and ("lon" not in columns or "lat" not in columns):
        problems.append(Problem(table.file_name, 1, "经度/纬度", None, "missing_column", "经度和纬度两列须同时提供"))
    if has_points and "crs" not in columns and not options.crs:
        problems.append(
            Problem(
                table.file_name,
                1,
                "坐标系",
                None,
                "no_crs",
                "文件有经纬度但没有坐标系：请加「坐标系」列（每行写 GCJ-02/BD-09/WGS84/CGCS2000），"
                "或用 --crs gcj02 / bd09 / wgs84 / cgcs2000 指定整份文件的坐标系",
            )
        )
    if problems:
        raise LoadRefusedError(problems)


def _identity(checks: RowChecks, rows: pd.DataFrame) -> None:
    names = checks.cell("name").str.strip()
    checks.flag(names == "", "name", "missing_name", "企业名称为空")
    rows["name"] = names
    raw_uscc = checks.cell("uscc")
    reasons = uscc_problems(raw_uscc)
    reason_zh = {
        "missing": "统一社会信用代码为空",
        "length": "统一社会信用代码应为 18 位",
        "alphabet": "统一社会信用代码含不允许的字符（不含 I、O、S、V、Z）",
        "check_digit": "统一社会信用代码第 18 位校验码不符（GB 32100-2015）",
        "org_code_check": "统一社会信用代码第 9-17 位组织机构代码校验不符（GB 11714）",
        "not_text": "统一社会信用代码应为文本",
    }
    for reason, message in reason_zh.items():
        checks.flag(reasons == reason, "uscc", f"uscc_{reason}", message, values=raw_uscc)
    # normalise_uscc, vectorised: it only trims and upper-cases, and a valid code is ASCII
    rows["uscc"] = raw_uscc.str.strip().str.upper()
    for key in (
        "address",
        "sector_class",
        "supervision_class",
        "scale",
        "standardisation_level",
        "contractor",
        "department",
        "leader",
    ):
        value = checks.cell(key).str.strip()
        rows[key] = value.where(value != "", None)


def _lookup(
    checks: RowChecks,
    key: str,
    mapping: dict,
    code: str,
    message: str,
    *,
    values: pd.Series | None = None,
    fold_case: bool = False,
) -> pd.Series:
    """Map a column (or ``values``) through ``mapping``; a non-empty value mapping to nothing is rejected."""
    raw = checks.cell(key).str.strip() if values is None else values
    mapped = map_unique(raw.str.lower() if fold_case else raw, mapping)
    checks.flag((raw != "") & mapped.isna(), key, code, message, values=raw)
    return mapped.where(mapped.notna(), None)


def _accepted(vocabulary: dict[str, str]) -> str:
    return "、".join(sorted(set(vocabulary.values())))


def _classification(checks: RowChecks, rows: pd.DataFrame) -> None:
    sectors = load_vocabulary("sectors")
    rows["sector"] = _lookup(
        checks,
        "sector",
        sectors,
        "unknown_sector",
        f"无法识别的行业领域；可用: {_accepted(sectors)}（同义词见 data/vocab）",
        fold_case=True,
    )
    flags_vocab = load_vocabulary("flags")

    def read_flags(cell: str) -> tuple[bool, list[str]]:  # (has an unknown label, the known ones)
        items = split_list(cell)
        known = sorted({flags_vocab[i.lower()] for i in items if i.lower() in flags_vocab})
        return any(i.lower() not in flags_vocab for i in items), known

    flags = map_unique(checks.cell("flags"), read_flags)  # a few distinct combinations
    unknown = pd.Series([u for u, _ in flags], index=flags.index, dtype=bool)
    checks.flag(unknown, "flags", "unknown_flag", f"无法识别的风险标签；可用: {_accepted(flags_vocab)}")
    rows["special_flags"] = pd.Series([known for _, known in flags], index=flags.index, dtype=object)
    grade = _lookup(checks, "grade", GRADES, "unknown_grade", "风险等级应为 重大/较大/一般/低（或 1-4、红/橙/黄/蓝）")
    rows["grade"] = pd.array(grade.tolist(), dtype="Int64")
    rows["status"] = _lookup(checks, "status", STATUSES, "unknown_status", "经营状态应为 在营/停产/关闭")


def _numbers(checks: RowChecks, rows: pd.DataFrame) -> None:
    for key in ("employees", "lec_l", "lec_e", "lec_c", "ls_l", "ls_s"):
        values, bad = parse_number(checks.cell(key))
        checks.flag(bad, key, "not_a_number", "应为数字")
        if key in ("employees", "ls_l", "ls_s"):
            fractional = values.notna() & (values != values.round())
            checks.flag(fractional, key, "not_an_integer", "应为整数")
            if key == "employees":
                checks.flag(values < 0, key, "negative", "从业人数不能为负数")
                # The column is an int; a phone number pasted here must not abort the load.
                checks.flag(values > MAX_EMPLOYEES, key, "out_of_range", f"从业人数超过 {MAX_EMPLOYEES:,}，请核对")
            else:
                checks.flag(values.notna() & ~values.between(1, 5), key, "out_of_range", "LS 法的 L、S 取值应为 1-5")
            rows[key] = values.round().astype("Int64")
        else:
            checks.flag(values < 0, key, "negative", "LEC 取值不能为负数")
            rows[key] = values
    date_text = checks.cell("established_date").str.strip()
    dates = pd.to_datetime(date_text.where(date_text != ""), errors="coerce", format="mixed")
    checks.flag((date_text != "") & dates.isna(), "established_date", "bad_date", "日期格式应为 YYYY-MM-DD")
    rows["established_date"] = dates.dt.date.where(dates.notna(), None)


def _coordinates(checks: RowChecks, rows: pd.DataFrame, options: EnterpriseOptions) -> None:
    lon, bad_lon = parse_number(checks.cell("lon"))
    lat, bad_lat = parse_number(checks.cell("lat"))
    checks.flag(bad_lon, "lon", "not_a_number", "经度应为数字（度）")
    checks.flag(bad_lat, "lat", "not_a_number", "纬度应为数字（度）")
    one_missing = lon.isna() ^ lat.isna()
    checks.flag(one_missing & ~bad_lon & ~bad_lat, "lon", "half_coordinates", "经度和纬度须同时填写或同时留空")
    systems = _row_systems(checks, options)
    none = lon.isna() & lat.isna() & ~bad_lon & ~bad_lat
    checks.flag(none, "lon", "no_coordinates", "没有坐标：已载入但未落入网格（请补充经纬度）", severity=WARN)
    swapped = lon.between(*_LAT) & lat.between(*_LON)
    checks.flag(
        swapped, "lon", "swapped_lonlat", "经纬度疑似颠倒：已载入但未落入网格（请核对后重新载入）", severity=WARN
    )
    rows["source_x"], rows["source_y"], rows["source_crs"] = lon, lat, systems
    x = np.full(len(rows), np.nan)
    y = np.full(len(rows), np.nan)
    usable = (lon.notna() & lat.notna() & ~swapped & systems.notna()).to_numpy()
    for system in systems[usable].unique():
        group = usable & (systems == system).to_numpy()
        x[group], y[group] = to_storage_lonlat(lon.to_numpy()[group], lat.to_numpy()[group], system)
    rows["lon"], rows["lat"] = x, y
    rows["placement"] = np.where(none, "no_coordinates", np.where(swapped, "swapped_lonlat", "pending"))


def _row_systems(checks: RowChecks, options: EnterpriseOptions) -> pd.Series:
    """Each row's coordinate system: its 坐标系 cell, else the file-level --crs."""
    text_values = checks.cell("crs").str.strip()
    if options.crs:
        text_values = text_values.where(text_values != "", options.crs)
    parsed: dict[str, str | None] = {}
    for value in text_values.unique():
        try:
            parsed[value] = parse_coordinate_system(value) if value else None
        except UnknownCoordinateSystemError:
            parsed[value] = None
    systems = _lookup(
        checks,
        "crs",
        parsed,
        "unknown_crs",
        "无法识别的坐标系；可用: WGS84、CGCS2000、GCJ-02（高德）、BD-09（百度）或 EPSG 代码",
        values=text_values,
    )
    has_point = (checks.cell("lon").str.strip() != "") | (checks.cell("lat").str.strip() != "")
    checks.flag(
        has_point & (text_values == ""), "crs", "no_crs", "本行有坐标但没有坐标系（用 --crs 指定或填写「坐标系」列）"
    )
    return systems


# ------------------------------------------------------------------ loading (one transaction)

_STAGE_COLUMNS = [
    "source_row",
    "uscc",
    "name",
    "address",
    "sector",
    "sector_class",
    "special_flags",
    "grade",
    "lec_l",
    "lec_e",
    "lec_c",
    "ls_l",
    "ls_s",
    "supervision_class",
    "scale",
    "employees",
    "standardisation_level",
    "contractor",
    "department",
    "leader",
    "status",
    "established_date",
    "source_x",
    "source_y",
    "source_crs",
    "placement",
    "cell_code",
    "region_path",
    "extra",
    "geom",
]

_STAGE_DDL = """
CREATE TEMP TABLE stage_enterprise (
    source_row int, uscc text, name text, address text, sector text, sector_class text, special_flags text[],
    grade smallint, lec_l double precision, lec_e double precision, lec_c double precision, ls_l smallint,
    ls_s smallint, supervision_class text, scale text, employees int, standardisation_level text,
    contractor text, department text, leader text, status text, established_date date,
    source_x double precision, source_y double precision, source_crs text, placement text, cell_code text,
    region_path text[], extra jsonb, geom geometry(Point, 4490)
) ON COMMIT DROP
"""

# The current grid's bottom-tier cells (as gridrisk_bottom_cells, with their paths) and the
# district's outline (tier 1), read inside the load's transaction: the points are placed
# against the grid this transaction sees. Placing 20,000 points in Python (geo.placement) takes
# a sixth of the time PostGIS took to index the staged points, place them and copy the staged
# rows into a placed table.
_GRID_SQL = """
SELECT u.code, u.tier = s.bottom_tier AS is_cell, u.path, ST_AsBinary(u.geom) AS wkb
FROM boundary_set s JOIN region_unit u ON u.boundary_set_id = s.id AND (u.tier = s.bottom_tier OR u.tier = 1)
WHERE s.district_code = :d AND s.is_current
"""


_MERGE = Merge(
    stage="stage_enterprise",
    target="enterprise",
    key="uscc",
    values={
        **{f"{c}": f"p.{c}" for c in _STAGE_COLUMNS if c != "source_row"},
        "district_code": ":d",
        "grade_source": "CASE WHEN p.grade IS NOT NULL THEN 'input' WHEN p.ls_l IS NOT NULL THEN 'LS' "
        "WHEN p.lec_l IS NOT NULL THEN 'LEC' END",
    },
    source="stage_enterprise p",
)


def _write(conn: Connection, parsed: Parsed, district: str, path: Path) -> Written:
    rows = _placed(conn, parsed.rows, district)
    conn.execute(text(_STAGE_DDL))
    copy_frame(conn, "stage_enterprise", rows, _STAGE_COLUMNS)
    foreign = drop_foreign_rows(
        conn,
        stage="stage_enterprise",
        key="uscc",
        target="enterprise",
        district=district,
        path=path,
        column="统一社会信用代码",
        label="统一社会信用代码",
    )
    staged = rows[~rows["source_row"].isin({p.row for p in foreign})]
    inserted, updated = _MERGE.run(conn, {"d": district})
    sync_hazard_paths(conn, district)
    return Written(
        inserted,
        updated,
        {"placement": {k: int(n) for k, n in staged["placement"].value_counts().items()}},
        _placement_warnings(staged, path),
        foreign,
        tables=("enterprise",),
    )


def _placed(conn: Connection, rows: pd.DataFrame, district: str) -> pd.DataFrame:
    """The rows with their cell, region path, placement and storage point (EWKB), placed by the
    one point → cell rule against the current grid. Rows already unplaceable (no coordinates,
    swapped lon/lat) keep their placement."""
    grid = pd.DataFrame(
        conn.execute(text(_GRID_SQL), {"d": district}).all(), columns=["code", "is_cell", "path", "wkb"]
    )
    is_cell = grid["is_cell"].astype(bool)
    cells = grid[is_cell]
    outlines = shapely.from_wkb(grid.loc[~is_cell, "wkb"].to_numpy())
    found = place_points(
        rows["lon"].to_numpy(dtype=float),
        rows["lat"].to_numpy(dtype=float),
        pd.Series(shapely.from_wkb(cells["wkb"].to_numpy()), index=cells["code"].to_numpy()),
        shapely.union_all(outlines) if len(outlines) else None,
    )
    cell_paths = np.array([as_pg_array(path) for path in cells["path"]] + [as_pg_array([district])], dtype=object)
    placed = found.cell_index >= 0
    region_path = cell_paths[found.cell_index]  # -1, unplaced: the district alone
    pending = (rows["placement"] == "pending").to_numpy()
    placement = rows["placement"].to_numpy(dtype=object).copy()
    placement[placed | pending] = found.placement[placed | pending]
    placement[pending & pd.isna(found.placement)] = "no_coordinates"  # never met: pending rows have a point
    return rows.assign(
        special_flags=rows["special_flags"].map(lambda flags: as_pg_array(flags) if flags else "{}"),
        geom=_points_ewkb(rows),
        cell_code=found.cell_code,
        region_path=region_path,
        placement=placement,
    )


# Hex EWKB of a point with an SRID (little-endian): byte order, type (Point | SRID flag), SRID, x, y.
_EWKB_POINT = np.dtype([("order", "u1"), ("type", "<u4"), ("srid", "<u4"), ("x", "<f8"), ("y", "<f8")])
_EWKB_POINT_SRID = 0x20000001


def _points_ewkb(rows: pd.DataFrame) -> np.ndarray:
    """Each row's storage point as hex EWKB (SRID 4490), which COPY reads into a geometry; None
    where the row has no usable point. Packed by numpy: a tenth of shapely.to_wkb's time."""
    lon, lat = rows["lon"].to_numpy(dtype=float), rows["lat"].to_numpy(dtype=float)
    usable = ~(np.isnan(lon) | np.isnan(lat))
    packed = np.empty(int(usable.sum()), dtype=_EWKB_POINT)
    packed["order"], packed["type"], packed["srid"] = 1, _EWKB_POINT_SRID, 4490
    packed["x"], packed["y"] = lon[usable], lat[usable]
    width = 2 * _EWKB_POINT.itemsize
    hexed = packed.tobytes().hex().upper()
    ewkb = np.full(len(rows), None, dtype=object)
    ewkb[usable] = [hexed[i : i + width] for i in range(0, len(hexed), width)]
    return ewkb


def load_enterprises(
    engine: Engine, path: Path, options: EnterpriseOptions, *, progress: Progress | None = None
) -> LoadResult:
    """Read, validate, convert, place and merge ``path`` in one transaction; write reports and audit."""
    return run_tabular_load(
        engine,
        path,
        options,
        kind="enterprises",
        progress=progress,
        parse=lambda table: parse_enterprises(table, options),
        write=lambda conn, parsed: _write(conn, parsed, options.district_code, path),
    )


def _placement_warnings(rows: pd.DataFrame, path: Path) -> list[Problem]:
    """Rows loaded but not placed because their point is outside the district or in no cell."""
    messages = {
        OUTSIDE_DISTRICT: "坐标在本区县范围外：已载入但未落入网格（请核对坐标和坐标系）",
        NO_CELL: "坐标在区县内但不在任何网格内：已载入但未落入网格（请核对网格边界）",
    }
    found = rows[rows["placement"].isin(list(messages))].sort_values("source_row")
    return [
        Problem(path.name, int(row), "经度/纬度", f"{x}, {y}", placement, messages[placement])
        for row, placement, x, y in found[["source_row", "placement", "source_x", "source_y"]].itertuples(index=False)
    ]
