"""The one load pipeline every tabular loader runs (enterprises, hazards, inspections, staff).

read the file → parse every row (all problems at once) → in ONE transaction: stage with COPY,
merge, audit → write the rejects/warnings reports. A refused file writes only its audit row; a
killed load leaves the database as it was (the transaction never commits); loading the same
file twice changes nothing the second time (merges compare before they update).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from rich.progress import Progress
from sqlalchemy import Connection, Engine, text

from db.scope import Scope, apply_scope
from loaders.audit import file_sha256, write_audit
from loaders.errors import LoadRefusedError, Problem
from loaders.report import write_row_report
from loaders.rows import RowChecks
from loaders.tabular import RawTable, read_table

__all__ = [
    "TabularOptions",
    "Parsed",
    "Written",
    "LoadResult",
    "run_tabular_load",
    "copy_frame",
    "as_pg_array",
    "drop_foreign_rows",
    "Merge",
    "Upsert",
    "indexes_rebuilt_after",
]

_AUDIT_PROBLEMS_MAX = 1000  # the audit row keeps the first problems; the reports keep all


@dataclass(frozen=True)
class TabularOptions:
    district_code: str
    sheet: str | None = None
    encoding: str | None = None
    columns: dict[str, str] = field(default_factory=dict)  # field → file column
    strict: bool = False  # refuse the whole file on any problem
    write_reports: bool = True


@dataclass(frozen=True)
class Parsed:
    rows: pd.DataFrame  # valid rows, ready to stage
    table: RawTable
    rejections: list[Problem]
    warnings: list[Problem]

    @classmethod
    def of(cls, checks: RowChecks, rows: pd.DataFrame) -> Parsed:
        """The rows no check rejected, numbered as in the file (``source_row``), and every problem."""
        rows = rows.assign(source_row=checks.table.row_numbers)
        keep = ~checks.rejected_mask
        return cls(rows[keep].reset_index(drop=True), checks.table, checks.rejections(), checks.warnings())


@dataclass(frozen=True)
class Written:
    inserted: int
    updated: int
    detail: dict[str, object] = field(default_factory=dict)
    warnings: list[Problem] = field(default_factory=list)  # found while writing (e.g. placement)
    # rows the database refused (e.g. a key of another district)
    rejections: list[Problem] = field(default_factory=list)
    tables: tuple[str, ...] = ()  # tables the write changed, analyzed after a bulk change


@dataclass(frozen=True)
class LoadResult:
    total_rows: int
    inserted: int
    updated: int
    unchanged: int
    rejected: int
    rejections: list[Problem]
    warnings: list[Problem]
    rejects_file: Path | None
    warnings_file: Path | None
    audit_id: int
    status: str  # loaded / loaded_with_rejects / unchanged
    detail: dict[str, object]

    @property
    def placement(self) -> dict[str, int]:
        return dict(self.detail.get("placement", {}))


def as_pg_array(items: list[str]) -> str:
    """A text[] literal for COPY: every element double-quoted, with \\ and " escaped."""
    quoted = ('"' + item.replace("\\", "\\\\").replace('"', '\\"') + '"' for item in items)
    return "{" + ",".join(quoted) + "}"


def drop_foreign_rows(
    conn: Connection, *, stage: str, key: str, target: str, district: str, path: Path, column: str, label: str
) -> list[Problem]:
    """Reject staged rows whose key a row of another district already holds.

    Row-level security hides the other district's row, and an upsert onto a row it cannot see
    fails the whole statement; the loader (an administrator's tool) looks across every district
    with a grid for this one check, then returns to its own scope. ``region_path[1]`` is the
    district of every scoped row. Table and column names are the callers' constants.
    """
    conn.execute(
        text(
            "SELECT set_config('gridrisk.scope', (SELECT string_agg(DISTINCT district_code, ',') "
            "FROM boundary_set), true)"
        )
    )
    found = conn.execute(
        text(
            f"DELETE FROM {stage} s USING {target} t WHERE t.{key} = s.{key} AND t.region_path[1] <> :d "
            f"RETURNING s.source_row, s.{key}, t.region_path[1]"
        ),
        {"d": district},
    ).all()
    apply_scope(conn, Scope.whole_district(district))
    return [
        Problem(
            path.name,
            row,
            column,
            value,
            "key_in_other_district",
            f"该{label}已属于区县 {other} 的记录，不能载入到 {district}",
        )
        for row, value, other in found
    ]


@dataclass(frozen=True)
class Merge:
    """How staged rows merge into a table keyed by an identifier: changed rows are updated, new
    rows inserted, identical rows left alone (so a re-load changes nothing).

    ``values`` maps each target column to its SELECT expression over ``source`` (qualified by the
    source's aliases); every column but the key is compared. Rows already in the table are
    deleted from ``stage`` once updated. Names are the loaders' constants, never input.
    """

    target: str
    key: str  # the identifier column, in the target and in the stage
    stage: str  # the staged rows (a temporary table), which the merge consumes
    values: dict[str, str]
    source: str  # FROM clause over the stage, e.g. "stage_hazard s JOIN enterprise e ON e.uscc = s.uscc"

    @property
    def update_sql(self) -> str:
        compared = [c for c in self.values if c != self.key]
        selected = ", ".join(f"{expr} AS {column}" for column, expr in self.values.items())
        return (
            f"UPDATE {self.target} t SET "
            + ", ".join(f"{c} = v.{c}" for c in compared)
            + f", updated_at = now() FROM (SELECT {selected} FROM {self.source}) v WHERE t.{self.key} = v.{self.key} "
            + "AND ("
            + " OR ".join(f"t.{c} IS DISTINCT FROM v.{c}" for c in compared)
            + ")"
        )

    @property
    def insert_sql(self) -> str:
        return f"INSERT INTO {self.target} ({', '.join(self.values)}) SELECT {', '.join(self.values.values())} FROM {self.source}"

    def run(self, conn: Connection, params: dict[str, object]) -> tuple[int, int]:
        """Update the rows whose key the table holds, drop them from the stage, insert the rest;
        returns (inserted, updated). Other writers of the table wait (readers do not), so no
        row with a new key can appear in between.

        The insert reads only the stage: an anti-join against the table being inserted into
        was planned as a nested loop over an empty-looking table once, rescanning the rows the
        statement itself was adding (minutes instead of a second).
        """
        conn.execute(text(f"LOCK TABLE {self.target} IN SHARE ROW EXCLUSIVE MODE"))
        # Temporary tables are never analyzed by autovacuum: give the planner the stage's row count
        # and key statistics (a 200,000-row hazard stage without them was once planned as a nested
        # loop against the enterprise table: minutes). The key alone costs 0.01 s, all columns 0.5 s.
        analyze(conn, (f"{self.stage} ({self.key})",))
        updated = conn.execute(text(self.update_sql), params).rowcount
        conn.execute(text(f"DELETE FROM {self.stage} s USING {self.target} t WHERE t.{self.key} = s.{self.key}"))
        new_rows = conn.execute(text(f"SELECT count(*) FROM {self.stage}")).scalar_one()
        with indexes_rebuilt_after(conn, self.target, new_rows):
            inserted = conn.execute(text(self.insert_sql), params).rowcount
        return inserted, updated


# Inserting this many rows, and at least this share of the table's rows, drops the table's
# secondary indexes and foreign keys and rebuilds them after: building an index once costs a
# fraction of maintaining it row by row (measured on 200,000 hazards: 3.8 s merge vs 1.4 s).
BULK_ROWS = 10_000
BULK_SHARE = 0.25


def _bulk_threshold(conn: Connection, table: str) -> int | None:
    """How many new rows make rebuilding ``table``'s indexes pay; None when this role does not
    own the table (only an owner may drop and create its indexes)."""
    size, owned = conn.execute(
        text(
            "SELECT greatest(c.reltuples, 0), pg_has_role(current_user, c.relowner, 'USAGE') "
            "FROM pg_class c WHERE c.oid = CAST(:t AS regclass)"
        ),
        {"t": table},
    ).one()
    return max(BULK_ROWS, int(BULK_SHARE * size)) if owned else None


@contextmanager
def indexes_rebuilt_after(conn: Connection, table: str, rows: int) -> Iterator[None]:
    """Around a bulk insert of ``rows`` into ``table`` (a loader constant): drop its secondary
    indexes, foreign keys and free-standing unique constraints, then recreate them from their
    own definitions. In the load's transaction: readers wait for the commit, and a failure or a
    kill restores them. Small inserts, and roles that do not own the table, keep the indexes."""
    threshold = _bulk_threshold(conn, table)
    if threshold is None or rows < threshold:
        yield
        return
    indexes = conn.execute(
        text(
            "SELECT CAST(i.indexrelid AS regclass)::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
            "WHERE i.indrelid = CAST(:t AS regclass) "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid) ORDER BY 1"
        ),
        {"t": table},
    ).all()
    # Foreign keys of the table, and its unique constraints that no foreign key leans on (the
    # merge key's: maintaining it row by row was a third of a 200,000-hazard insert; building
    # it after also checks the merged keys are unique). The primary key stays.
    constraints = conn.execute(
        text(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint c "
            "WHERE conrelid = CAST(:t AS regclass) AND (contype = 'f' OR contype = 'u' AND NOT EXISTS "
            "(SELECT 1 FROM pg_constraint f WHERE f.contype = 'f' AND f.conindid = c.conindid)) "
            "ORDER BY contype = 'f', 1"
        ),
        {"t": table},
    ).all()
    for name, _ in constraints:
        conn.execute(text(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"'))
    for name, _ in indexes:
        conn.execute(text(f"DROP INDEX {name}"))
    yield
    for _, definition in indexes:
        conn.execute(text(definition))
    for name, definition in constraints:  # unique constraints first: a foreign key may need one
        conn.execute(text(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}'))


@dataclass(frozen=True)
class Upsert:
    """A record list's staging table and its merge (hazards, inspections, staff)."""

    stage_ddl: str  # CREATE TEMP TABLE <merge.stage> (...) ON COMMIT DROP
    stage_columns: list[str]
    merge: Merge
    label: str  # the identifier's Chinese name, for messages

    def write(self, conn: Connection, parsed: Parsed, district: str, path: Path) -> Written:
        """Stage with COPY, reject keys of other districts, merge; counts for the audit row."""
        conn.execute(text(self.stage_ddl))
        copy_frame(conn, self.merge.stage, parsed.rows, self.stage_columns)
        foreign = drop_foreign_rows(
            conn,
            stage=self.merge.stage,
            key=self.merge.key,
            target=self.merge.target,
            district=district,
            path=path,
            column=self.label,
            label=self.label,
        )
        inserted, updated = self.merge.run(conn, {"d": district})
        return Written(inserted, updated, rejections=foreign, tables=(self.merge.target,))


# A bulk load changes a table faster than autovacuum re-analyzes it: the next statements (the
# hazard-path sync after a boundary change, the dashboard's first queries) would be planned on
# no statistics at all; measured: a 300k-row path sync went from 3 s to over 300 s.
ANALYZE_AFTER_ROWS = 1000
# A 3,000-row sample (10 × 300) is plenty for the plans that follow and costs a fifth of the
# default (enterprise: 0.04 s instead of 0.20 s); autovacuum's next analyze, once a tenth of the
# rows have changed, uses the full default target.
_ANALYZE_STATISTICS_TARGET = 10


def analyze(conn: Connection, tables: tuple[str, ...]) -> None:
    """Refresh planner statistics of ``tables`` (the loaders' constants) inside the transaction."""
    conn.execute(text(f"SET LOCAL default_statistics_target = {_ANALYZE_STATISTICS_TARGET}"))
    for table in tables:
        conn.execute(text(f"ANALYZE {table}"))
    conn.execute(text("RESET default_statistics_target"))


def copy_frame(conn: Connection, table: str, frame: pd.DataFrame, columns: list[str]) -> None:
    """COPY ``frame[columns]`` into ``table`` as one CSV stream; empty text and missing values
    arrive as NULL.

    Arrow writes the CSV (a fifth of ``DataFrame.to_csv``'s time on 200,000 hazards). It quotes
    every string, and COPY reads a quoted empty string as '' rather than NULL: ``FORCE_NULL``
    on the text columns makes it NULL, as ``to_csv`` (which leaves it unquoted) did, without
    masking every text column first (a tenth of this function's time).
    """
    selected = frame[columns]
    text_columns = [c for c in columns if selected[c].dtype == object or isinstance(selected[c].dtype, pd.StringDtype)]
    buffer = io.BytesIO()
    pacsv.write_csv(
        _midnights_as_dates(pa.Table.from_pandas(selected, preserve_index=False)),
        buffer,
        pacsv.WriteOptions(include_header=False, quoting_style="needed"),
    )
    force_null = f", FORCE_NULL ({', '.join(text_columns)})" if text_columns else ""
    raw = conn.connection.driver_connection
    with (
        raw.cursor() as cursor,
        cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv{force_null})") as copy,
    ):
        copy.write(buffer.getbuffer())


def _midnights_as_dates(table: pa.Table) -> pa.Table:
    """Timestamp columns holding only midnights (the loaders' dates) as dates: "2024-11-25"
    instead of "2024-11-25 00:00:00.000000", two fifths of a 200,000-hazard COPY stream."""
    for i, column in enumerate(table.columns):
        if not (pa.types.is_timestamp(column.type) and column.type.tz is None):
            continue
        midnights = pc.all(pc.equal(pc.floor_temporal(column, unit="day"), column)).as_py()
        if midnights is not False:  # True, or None for a column of nulls only
            table = table.set_column(i, table.field(i).name, column.cast(pa.date32()))
    return table


def run_tabular_load(
    engine: Engine,
    path: Path,
    options: TabularOptions,
    *,
    kind: str,
    parse: Callable[[RawTable], Parsed],
    write: Callable[[Connection, Parsed], Written],
    progress: Progress | None = None,
) -> LoadResult:
    """Run the pipeline for one file; raises LoadRefusedError (audited) when the file is refused."""
    task = progress.add_task(f"读取 {path.name}", total=4) if progress else None

    def step(description: str) -> None:
        if progress is not None:
            progress.update(task, advance=1, description=description)

    try:
        table = read_table(path, sheet=options.sheet, encoding=options.encoding)
        step("校验每一行")
        parsed = parse(table)
        if options.strict and (parsed.rejections or parsed.warnings):
            raise LoadRefusedError(parsed.rejections + parsed.warnings)
    except LoadRefusedError as exc:
        write_audit(
            engine,
            kind=kind,
            path=path,
            status="refused",
            detail={"problems": [p.as_dict() for p in exc.problems[:_AUDIT_PROBLEMS_MAX]]},
        )
        raise
    step("写入数据库")
    with engine.begin() as conn:
        apply_scope(conn, Scope.whole_district(options.district_code))
        written = write(conn, parsed)
        if written.inserted + written.updated >= ANALYZE_AFTER_ROWS:
            analyze(conn, written.tables)
        rejections = parsed.rejections + written.rejections
        unchanged = len(parsed.rows) - written.inserted - written.updated - len({p.row for p in written.rejections})
        rejected = len({p.row for p in rejections})
        status = (
            "loaded_with_rejects"
            if rejections
            else "unchanged"
            if written.inserted == written.updated == 0
            else "loaded"
        )
        counts = {
            "inserted": written.inserted,
            "updated": written.updated,
            "unchanged": unchanged,
            "rejected": rejected,
        }
        audit_id = write_audit(
            conn,
            kind=kind,
            path=path,
            status=status,
            counts=counts,
            detail={
                **written.detail,
                "rows": len(table.frame),
                "sha256": file_sha256(path),
                "rejections": [p.as_dict() for p in rejections[:_AUDIT_PROBLEMS_MAX]],
            },
        )
    step("写出问题报告")
    rejected_rows = {p.row for p in rejections}
    warnings = [w for w in parsed.warnings if w.row not in rejected_rows] + written.warnings
    rejects_file = warnings_file = None
    if options.write_reports:
        rejects_file = write_row_report(path, parsed.table, rejections, "rejects")
        warnings_file = write_row_report(path, parsed.table, warnings, "warnings")
    return LoadResult(
        len(table.frame),
        written.inserted,
        written.updated,
        unchanged,
        rejected,
        rejections,
        warnings,
        rejects_file,
        warnings_file,
        audit_id,
        status,
        written.detail,
    )
