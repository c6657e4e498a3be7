"""The demo district: 蚌山区, loaded through the same commands a bureau would use."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from sqlalchemy import Engine, text

from config.settings import PROJECT_ROOT
from loaders.outline import load_context, load_outline

__all__ = ["load_demo", "DEMO_DIR", "DEMO_CODE_YEAR"]

DEMO_DIR = PROJECT_ROOT / "data" / "boundaries"
DEMO_CODE_YEAR = 2023  # the year of the names and codes in streets/villages_340303.csv
OUTLINE_FILE = DEMO_DIR / "340303_bengshan_district.geojson"
CONTEXT_FILE = DEMO_DIR / "3403_bengbu_context_districts.geojson"


def _is_empty(engine: Engine) -> bool:
    with engine.connect() as conn:
        return not conn.execute(text("SELECT EXISTS (SELECT 1 FROM boundary_set)")).scalar_one()


def load_demo(engine: Engine, *, if_empty: bool = False, console: Console | None = None) -> bool:
    """Load the demo data; with ``if_empty`` only into a database holding no boundaries."""
    if if_empty and not _is_empty(engine):
        return False
    say = (console or Console(stderr=True)).print
    result = load_outline(engine, Path(OUTLINE_FILE), code_year=DEMO_CODE_YEAR)
    say(f"轮廓: {result.name} {result.area_km2:.1f} km²")
    say(f"周边区域: {load_context(engine, Path(CONTEXT_FILE))} 个")
    return True
