"""``python -m loaders``: load a district's data into PostGIS (as the owner role).

Each subcommand has ``--help``. Exit status: 0 all loaded, 1 loaded with rejects,
2 refused (nothing written), 3 configuration error.
"""

from __future__ import annotations

import datetime as dt
import json
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import text

from config import get_settings
from db.engine import create_admin_engine
from db.errors import DatabaseNotConfiguredError
from db.queries import recent_loads, table_counts
from db.scope import Scope
from loaders.errors import LoadRefusedError, format_problems
from loaders.events import JsonLines, boundary_result_record, load_result_record, problem_records

# Typer reads these from the signature; B008 does not apply to its Option/Argument defaults.
app = typer.Typer(
    help="把边界、企业、隐患等数据载入 PostGIS。Load boundaries, enterprises and hazards into PostGIS.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console(stderr=True, soft_wrap=True)  # no hard wraps: messages stay greppable in logs

EXIT_LOADED, EXIT_WITH_REJECTS, EXIT_REFUSED, EXIT_CONFIG = 0, 1, 2, 3
JSON_HELP = "Also print the progress and the outcome as JSON lines on stdout (loaders/events.py)"


def _engine(events: JsonLines | None = None):
    try:
        return create_admin_engine()
    except DatabaseNotConfiguredError as exc:
        console.print(f"[red]{exc}[/red]")
        if events is not None:
            events.emit("error", code="config", message=str(exc))
        raise typer.Exit(EXIT_CONFIG) from exc


def _events(as_json: bool) -> JsonLines | None:
    return JsonLines() if as_json else None


def _progress(events: JsonLines | None) -> AbstractContextManager:
    """A rich progress bar on stderr, or the JSON lines for a program following the load."""
    if events is not None:
        return nullcontext(events)
    from rich.progress import Progress

    return Progress(console=console, transient=True)


def _refused(exc: LoadRefusedError, events: JsonLines | None = None) -> typer.Exit:
    if events is not None:
        events.emit("refused", problems=problem_records(exc.problems))
    console.print(f"[red]载入被拒绝，未写入任何数据（{len(exc.problems)} 个问题）:[/red]")
    console.print(format_problems(exc.problems[:200]), markup=False, highlight=False)
    if len(exc.problems) > 200:
        console.print(f"  … 另有 {len(exc.problems) - 200} 个问题")
    return typer.Exit(EXIT_REFUSED)


def _columns(**given: str | None) -> dict[str, str]:
    return {key: value for key, value in given.items() if value}


def _print_boundary_result(result) -> None:
    tiers = "、".join(f"{tier}级 {n} 个" for tier, n in result.units_per_tier.items())
    console.print(
        f"已载入 {result.district_name}（{result.district_code}）的边界（{result.code_year} 年代码）: {tiers}；"
        f"企业重新分配到新网格 {result.enterprises_moved} 家"
    )
    for repair in result.repairs:
        console.print(f"  已修复: {repair.code} {repair.message}", markup=False)


@app.command()
def boundaries(
    path: Path = typer.Argument(..., help="GeoJSON, Shapefile, GeoPackage or a zip holding a shapefile"),
    code_year: int = typer.Option(..., "--code-year", help="Year of the codes (区划代码年份), e.g. 2023"),
    crs: str | None = typer.Option(
        None, "--crs", help="Override the file's CRS: wgs84, cgcs2000, gcj02, bd09 or an EPSG code"
    ),
    layer: str | None = typer.Option(None, "--layer", help="GeoPackage layer"),
    encoding: str | None = typer.Option(
        None, "--encoding", help="Shapefile text encoding when there is no .cpg, e.g. GBK"
    ),
    code_column: str | None = typer.Option(None, help="Column holding the unit code"),
    name_column: str | None = typer.Option(None, help="Column holding the name"),
    tier_column: str | None = typer.Option(None, help="Column holding the tier 1-4 (else implied by code length)"),
    parent_column: str | None = typer.Option(None, help="Column holding the parent code (else the code prefix)"),
    repair: bool = typer.Option(
        False, "--repair", help="Repair invalid geometry with make_valid and report the change"
    ),
    allow: list[str] = typer.Option([], "--allow", help="Tolerate a problem kind: multipart, holes"),
    outside_m: float = typer.Option(0.5, help="Tolerance: a child may stick out of its parent by this many metres"),
    overlap_m2: float = typer.Option(0.5, help="Tolerance: siblings may overlap by this many m²"),
    gap_m2: float = typer.Option(0.5, help="Tolerance: children may leave this many m² of their parent uncovered"),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Load grid units (区、乡镇/街道、社区/村、网格; any tiers) as the district's current set."""
    from geo.grid_checks import Tolerances
    from loaders.boundaries import BoundaryOptions, load_boundaries

    options = BoundaryOptions(
        code_year=code_year,
        crs=crs,
        layer=layer,
        encoding=encoding,
        repair=repair,
        allow=frozenset(allow),
        columns=_columns(code=code_column, name=name_column, tier=tier_column, parent_code=parent_column),
        tolerances=Tolerances(outside_m=outside_m, overlap_m2=overlap_m2, gap_m2=gap_m2),
    )
    events = _events(as_json)
    engine = _engine(events)
    try:
        with _progress(events) as progress:
            result = load_boundaries(engine, path, options, progress=progress)
    except LoadRefusedError as exc:
        raise _refused(exc, events) from exc
    _print_boundary_result(result)
    if events is not None:
        events.emit("result", kind="boundaries", **boundary_result_record(result))
    _regrade(result.district_code, events=events)  # cells changed: every unit's grade may have


@app.command()
def outline(
    path: Path = typer.Argument(..., help="District outline: GeoJSON, Shapefile, GeoPackage or zipped shapefile"),
    code_year: int = typer.Option(..., "--code-year", help="Year of the region codes (区划代码年份), e.g. 2023"),
    crs: str | None = typer.Option(
        None, "--crs", help="Override the file's CRS: wgs84, cgcs2000, gcj02, bd09 or an EPSG code"
    ),
    code_column: str | None = typer.Option(None, help="Column holding the region code"),
    name_column: str | None = typer.Option(None, help="Column holding the name"),
) -> None:
    """Load a district outline alone into tier 1 (区/县) of a new current boundary set."""
    from loaders.outline import load_outline

    try:
        result = load_outline(
            _engine(), path, code_year=code_year, crs=crs, columns=_columns(code=code_column, name=name_column)
        )
    except LoadRefusedError as exc:
        raise _refused(exc) from exc
    _print_boundary_result(result)


def _parse_mapping(items: list[str]) -> dict[str, str]:
    mapping = {}
    for item in items:
        field, sep, column = item.partition("=")
        if not sep or not field.strip() or not column.strip():
            console.print(f"[red]--map 应写成 字段=列名（例如 --map uscc=信用代码），收到: {item!r}[/red]")
            raise typer.Exit(EXIT_CONFIG)
        mapping[field.strip()] = column.strip()
    return mapping


def _print_summary(result, title: str) -> None:
    table = Table(title=title)
    for column in ("行数", "新增", "更新", "未变", "拒绝", "警告"):
        table.add_column(column, justify="right")
    table.add_row(
        *(
            str(n)
            for n in (
                result.total_rows,
                result.inserted,
                result.updated,
                result.unchanged,
                result.rejected,
                len(result.warnings),
            )
        )
    )
    console.print(table)
    placement_zh = {
        "placed": "落入网格",
        "no_coordinates": "无坐标",
        "outside_district": "区县范围外",
        "no_cell": "不在任何网格",
        "swapped_lonlat": "经纬度疑似颠倒",
    }
    if result.placement:
        console.print(
            "落点: " + "，".join(f"{placement_zh.get(k, k)} {v}" for k, v in sorted(result.placement.items()))
        )
    for label, problems, path in (
        ("拒绝", result.rejections, result.rejects_file),
        ("警告", result.warnings, result.warnings_file),
    ):
        if problems:
            console.print(f"{label} {len(problems)} 条，详见 {path}", markup=False)
            for problem in problems[:10]:
                console.print(f"  - {problem}", markup=False, highlight=False)
            if len(problems) > 10:
                console.print(f"  … 另有 {len(problems) - 10} 条")


@app.command()
def enterprises(
    path: Path = typer.Argument(..., help="Enterprise list: CSV (UTF-8, UTF-8 BOM or GBK) or XLSX/XLS"),
    crs: str | None = typer.Option(
        None,
        "--crs",
        help="Coordinate system of every row (a 坐标系 column overrides it per row): wgs84, cgcs2000, gcj02, bd09 or EPSG code",
    ),
    sheet: str | None = typer.Option(None, "--sheet", help="Excel sheet name (default: the first)"),
    encoding: str | None = typer.Option(None, "--encoding", help="CSV encoding (default: detected)"),
    mapping: list[str] = typer.Option(
        [], "--map", help="field=column for headers not recognised, e.g. --map uscc=信用代码"
    ),
    strict: bool = typer.Option(False, "--strict", help="Refuse the whole file on any problem"),
    district: str | None = typer.Option(None, "--district", help="District code (default: settings district_code)"),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Load an enterprise list (企业名单); re-loading updates by 统一社会信用代码."""
    from loaders.enterprises import EnterpriseOptions, load_enterprises

    options = EnterpriseOptions(
        district_code=district or get_settings().district_code,
        crs=crs,
        sheet=sheet,
        encoding=encoding,
        columns=_parse_mapping(mapping),
        strict=strict,
    )
    _run_load(load_enterprises, path, options, "企业名单载入结果", regrades=True, events=_events(as_json))


def _run_load(load, path: Path, options, title: str, *, regrades: bool, events: JsonLines | None = None) -> None:
    """Run one tabular load with a progress bar, print its summary, refresh the stored grades
    when the load may change them, and exit with the loader's status."""
    engine = _engine(events)
    try:
        with _progress(events) as progress:
            result = load(engine, path, options, progress=progress)
    except LoadRefusedError as exc:
        raise _refused(exc, events) from exc
    _print_summary(result, title)
    if events is not None:
        events.emit("result", kind=load.__module__.rpartition(".")[2], **load_result_record(result))
    if regrades:
        _regrade(options.district_code, result, events=events)
    raise typer.Exit(EXIT_WITH_REJECTS if result.rejected else EXIT_LOADED)


def _regrade(district: str, result=None, *, events: JsonLines | None = None) -> None:
    """Refresh the stored risk grades after a load that changed something (loaders/upkeep.py)."""
    from loaders.upkeep import regrade_after_load

    if events is not None and (result is None or result.inserted + result.updated):
        events.emit("stage", description="重新计算风险等级")
    regraded = regrade_after_load(_engine(events), district, result)
    if regraded is None:
        return
    today, graded = regraded
    console.print(f"风险等级已重新计算（{today}）: " + "、".join(f"{rule} {n} 个单元" for rule, n in graded.items()))
    if events is not None:
        events.emit("regraded", as_of=today.isoformat(), units=graded)


@app.command()
def regrade(
    district: str | None = typer.Option(None, "--district", help="District code (default: settings district_code)"),
    if_stale: bool = typer.Option(False, "--if-stale", help="Only when the stored grades are not as of today"),
) -> None:
    """Recompute and store the current risk grades (every rule, every tier); run daily."""
    from db.grading import refresh_if_stale

    district = district or get_settings().district_code
    if if_stale:
        today = get_settings().today()
        with _engine().begin() as conn:
            refreshed = refresh_if_stale(conn, district, today=today)
        console.print(f"风险等级{'已重新计算' if refreshed else '已是今天的结果'}（{today}）")
        return
    _regrade(district)


bands_app = typer.Typer(
    help="企业风险评估（LEC/LS）分级标准的版本。Versions of the LEC/LS assessment bands.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(bands_app, name="bands")


@bands_app.command("list")
def bands_list() -> None:
    """Every recorded version of the assessment bands, and which is in force today."""
    from db.bands import band_versions, bands_in_force

    settings = get_settings()
    today = settings.today()
    with _engine().begin() as conn:
        versions = band_versions(conn)
        in_force = {(b.method, b.version) for b in bands_in_force(conn, today).values()}
    table = Table(title=f"风险评估分级标准（* = {today} 正在使用的版本）")
    for column in ("方法", "版本", "重大 ≥", "较大 ≥", "一般 ≥", "生效日期", "录入时间"):
        table.add_column(column)
    for row in versions.itertuples():
        mark = " *" if (row.method, row.version) in in_force else ""
        table.add_row(
            row.method,
            f"{row.version}{mark}",
            *(f"{t:g}" for t in row.thresholds),
            str(row.valid_from),
            f"{row.recorded_at.astimezone(settings.tz):%Y-%m-%d %H:%M}",
        )
    Console().print(table)


@bands_app.command("set")
def bands_set(
    method: str = typer.Argument(..., help="LEC (D = L×E×C) or LS (R = L×S)"),
    red: float = typer.Argument(..., help="Lowest score graded 重大 (红), e.g. 320 for LEC"),
    orange: float = typer.Argument(..., help="Lowest score graded 较大 (橙), e.g. 160 for LEC"),
    yellow: float = typer.Argument(..., help="Lowest score graded 一般 (黄), e.g. 70 for LEC; lower is 低 (蓝)"),
    valid_from: dt.datetime = typer.Option(..., "--valid-from", formats=["%Y-%m-%d"], help="First day in force"),
    version: str | None = typer.Option(None, "--version", help="Version name (default: the first day, 2027-01-01)"),
) -> None:
    """Add a version of the LEC or LS bands, in force from --valid-from (recorded versions never
    change); when it is already in force, the stored grades of every district are recomputed."""
    from db.bands import record_bands

    today = get_settings().today()
    engine = _engine()
    try:
        with engine.begin() as conn:
            bands = record_bands(
                conn, method.upper(), (red, orange, yellow), valid_from=valid_from.date(), version=version
            )
    except ValueError as exc:  # bad thresholds or a version that exists: nothing written
        console.print(str(exc), style="red", markup=False, highlight=False)
        raise typer.Exit(EXIT_REFUSED) from exc
    edges = " / ".join(f"{t:g}" for t in bands.thresholds)
    console.print(
        f"已录入 {bands.method} 分级标准 {bands.version}（重大/较大/一般 ≥ {edges}），{bands.valid_from} 起生效"
    )
    if bands.valid_from > today:
        console.print("生效当天每日的 `python -m loaders regrade --if-stale` 会按新标准重新计算风险等级")
        return
    with engine.begin() as conn:
        districts = conn.execute(text("SELECT district_code FROM boundary_set WHERE is_current ORDER BY 1")).scalars()
        districts = list(districts)
    for district in districts:
        _regrade(district)


def _register_record_loader(
    name: str, summary: str, title: str, loader: str, options_class: str, *, regrades: bool = False
) -> None:
    """One command per record list (hazards, inspections, staff): same options, same summary.
    ``regrades``: the records enter the risk grades (hazards do; inspections and staff do not)."""

    def command(
        path: Path = typer.Argument(..., help="CSV (UTF-8, UTF-8 BOM or GBK) or XLSX"),
        sheet: str | None = typer.Option(None, "--sheet", help="Excel sheet name (default: the first)"),
        encoding: str | None = typer.Option(None, "--encoding", help="CSV encoding (default: detected)"),
        mapping: list[str] = typer.Option([], "--map", help="field=column for headers not recognised"),
        strict: bool = typer.Option(False, "--strict", help="Refuse the whole file on any problem"),
        district: str | None = typer.Option(None, "--district", help="District code (default: settings)"),
        as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
    ) -> None:
        import importlib

        module = importlib.import_module(f"loaders.{name}")
        options = getattr(module, options_class)(
            district_code=district or get_settings().district_code,
            sheet=sheet,
            encoding=encoding,
            columns=_parse_mapping(mapping),
            strict=strict,
        )
        _run_load(getattr(module, loader), path, options, title, regrades=regrades, events=_events(as_json))

    command.__doc__ = summary
    app.command(name)(command)


_register_record_loader(
    "hazards",
    "Load hazard records (事故隐患); re-loading updates by 隐患编号.",
    "隐患载入结果",
    "load_hazards",
    "HazardOptions",
    regrades=True,
)
_register_record_loader(
    "inspections",
    "Load inspection records (检查记录); re-loading updates by 检查编号.",
    "检查记录载入结果",
    "load_inspections",
    "InspectionOptions",
)
_register_record_loader(
    "staff",
    "Load the grid staff roster (网格员/网格长); re-loading updates by phone number.",
    "网格人员载入结果",
    "load_staff",
    "StaffOptions",
)


@app.command("demo-grid")
def demo_grid(
    out: Path = typer.Argument(..., help="GeoPackage to write (layer 'grid')"),
    outline_file: Path = typer.Option(..., "--outline", help="The district outline (one polygon)"),
    tier2_file: Path = typer.Option(..., "--tier2", help="CSV: code,name,anchor_lon,anchor_lat,expected_enterprises"),
    tier3_file: Path = typer.Option(..., "--tier3", help="CSV: code,name,parent_code (or streetCode)"),
    seed: int = typer.Option(340303, help="Random seed; the same seed gives the same grid"),
    cells: int = typer.Option(1900, help="About how many tier-4 cells"),
) -> None:
    """Generate a synthetic four-tier grid for a district (demo data; say so wherever it is shown)."""
    from loaders.demo import write_demo_grid

    written = write_demo_grid(
        out, outline_file=outline_file, tier2_file=tier2_file, tier3_file=tier3_file, seed=seed, target_cells=cells
    )
    console.print(f"已生成合成网格: {written}")


@app.command()
def context(
    path: Path = typer.Argument(..., help="Neighbouring areas (e.g. the other districts of the city)"),
    crs: str | None = typer.Option(None, "--crs", help="Override the file's CRS"),
) -> None:
    """Replace the neighbouring areas drawn dimly around the district for orientation."""
    from loaders.outline import load_context

    try:
        n = load_context(_engine(), path, crs=crs)
    except LoadRefusedError as exc:
        raise _refused(exc) from exc
    console.print(f"已载入 {n} 个周边区域")


@app.command()
def demo(
    if_empty: bool = typer.Option(False, "--if-empty", help="Do nothing when the database already holds data"),
) -> None:
    """Load the demo district (蚌山区) through the same loaders a bureau uses."""
    from loaders.demo import load_demo

    engine = _engine()
    try:
        loaded = load_demo(engine, if_empty=if_empty, console=console)
    except LoadRefusedError as exc:
        raise _refused(exc) from exc
    console.print("演示数据已载入" if loaded else "数据库已有数据，跳过演示数据")


@app.command()
def status(as_json: bool = typer.Option(False, "--json", help="Print one JSON object")) -> None:
    """Counts per table and tier, and the last loads."""
    engine = _engine()
    scope = Scope.whole_district(get_settings().district_code)
    with engine.begin() as conn:
        counts = table_counts(conn, scope)
        loads = recent_loads(conn, scope, limit=10)
    loads_records = json.loads(loads.to_json(orient="records", date_format="iso", force_ascii=False))
    if as_json:
        typer.echo(json.dumps({**counts, "recent_loads": loads_records}, ensure_ascii=False, indent=2))
        return
    table = Table(title="数据状态")
    table.add_column("表")
    table.add_column("行数", justify="right")
    for name, n in counts["tables"].items():
        table.add_row(name, str(n))
    for tier, n in counts["units_per_tier"].items():
        table.add_row(f"region_unit tier {tier}", str(n))
    Console().print(table)
    Console().print(loads)
