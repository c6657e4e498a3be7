"""``python -m loaders``: load a district's data into PostGIS (as the owner role).

Each subcommand has ``--help``. Exit status: 0 all loaded, 1 loaded with rejects,
2 refused (nothing written), 3 configuration error.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from config import get_settings
from db.engine import create_admin_engine
from db.errors import DatabaseNotConfiguredError
from db.queries import recent_loads, table_counts
from db.scope import Scope
from loaders.errors import LoadRefusedError, format_problems

app = typer.Typer(
    help="把边界、企业、隐患等数据载入 PostGIS。Load boundaries, enterprises and hazards into PostGIS.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console(stderr=True)

EXIT_LOADED, EXIT_WITH_REJECTS, EXIT_REFUSED, EXIT_CONFIG = 0, 1, 2, 3


def _engine():
    try:
        return create_admin_engine()
    except DatabaseNotConfiguredError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(EXIT_CONFIG) from exc


def _refused(exc: LoadRefusedError) -> typer.Exit:
    console.print(f"[red]载入被拒绝，未写入任何数据（{len(exc.problems)} 个问题）:[/red]")
    console.print(format_problems(exc.problems), markup=False, highlight=False)
    return typer.Exit(EXIT_REFUSED)


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
    """Load a district outline into tier 1 (区/县) of a new current boundary set."""
    from loaders.outline import load_outline

    try:
        result = load_outline(
            _engine(), path, code_year=code_year, crs=crs, code_column=code_column, name_column=name_column
        )
    except LoadRefusedError as exc:
        raise _refused(exc) from exc
    console.print(
        f"已载入区县轮廓 {result.name}（{result.district_code}，{result.code_year} 年代码），"
        f"面积 {result.area_km2:.1f} km²"
    )


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
