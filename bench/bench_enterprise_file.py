"""The enterprise file and the shared tables on the demo district, as the dashboard's role sees it:
search (ILIKE with bound patterns, no trigram index), reading one file, and the bytes a table
sends to the browser — the whole district's enterprise table against one page of it.

Targets (enterprise file issue): a search answers in well under 100 ms at 20,000 enterprises,
so no pg_trgm index is needed; a page of the table is under 5 % of the whole table's bytes.
"""

from __future__ import annotations

import pyarrow as pa
from _common import median_time, report
from sqlalchemy import text

from config import get_settings
from dashboard.components.table_rows import enterprise_rows
from dashboard.components.tables import PAGE_SIZE
from db import analysis
from db.engine import create_app_engine
from db.enterprise_file import enterprise_file, search_enterprises
from db.queries import scope_units
from db.scope import Scope, scoped_connection

QUERIES = {
    "name fragment": "科信",
    "USCC prefix": "91340303",
    "two address words": "兴业街 75",
    "no match": "不存在的企业",
}


def _arrow_bytes(frame) -> int:
    table = pa.Table.from_pandas(frame.astype({c: "string" for c in frame.columns if frame[c].dtype == object}))
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().size


def main() -> None:
    settings = get_settings()
    engine = create_app_engine()
    scope = Scope.whole_district(settings.district_code)
    today = settings.today()
    rows: list[tuple[str, float, str]] = []
    figures: dict[str, float] = {}
    with scoped_connection(engine, scope) as conn:
        for label, query in QUERIES.items():
            seconds = median_time(lambda q=query: search_enterprises(conn, scope, q), repeat=7)
            rows.append((f"search: {label} (ms)", seconds * 1000, repr(query)))
            figures[f"search_{label.replace(' ', '_')}_ms"] = seconds * 1000
        uscc = conn.execute(
            text(
                "SELECT e.uscc FROM enterprise e JOIN hazard h ON h.enterprise_id = e.id "
                "GROUP BY e.uscc ORDER BY count(*) DESC LIMIT 1"
            )
        ).scalar_one()
        seconds = median_time(lambda: enterprise_file(conn, scope, uscc, as_of=today), repeat=5)
        rows.append(("one file, most hazards (ms)", seconds * 1000, uscc))
        figures["file_ms"] = seconds * 1000
        enterprises = analysis.scope_enterprises(conn, scope)
        hazards = analysis.scope_hazards(conn, scope)
        units = scope_units(conn, scope)
    table = enterprise_rows(enterprises, hazards, units.set_index("code")["name"], today)
    whole, page = _arrow_bytes(table), _arrow_bytes(table.head(PAGE_SIZE))
    rows += [
        ("enterprise table, all rows (kB)", whole / 1000, f"{len(table):,} rows"),
        ("enterprise table, one page (kB)", page / 1000, f"{PAGE_SIZE} rows"),
        ("page / whole", page / whole, "target < 0.05"),
    ]
    figures.update({"table_all_kb": whole / 1000, "table_page_kb": page / 1000, "page_ratio": page / whole})
    engine.dispose()
    report("enterprise_file", rows, figures)


if __name__ == "__main__":
    main()
