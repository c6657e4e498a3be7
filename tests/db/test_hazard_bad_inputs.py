"""Bad inputs for the hazard loader: one test per way a 隐患台账 goes wrong (DOMAIN.md §3).

Each test builds its file in ``tmp_path`` (CSVs as explicit bytes, so the encoding is exactly the
one named; XLSX with xlsxwriter) and checks both halves of a good refusal:

- what the user is told: the problem code, the file name, the row as numbered in the file (header
  = row 1) and the column, and a fragment of the Chinese message;
- that nothing is half-written: a refused file leaves the hazard table as it was and leaves one
  audit row 'refused'; a rejected row stays out while the file's valid rows load, and the rejects
  CSV beside the input (UTF-8 with BOM) carries it with its 问题说明.

Hazards hang on real demo enterprises of 蚌山区; every hazard written here has an id starting with
``TEST-HZ-`` and is deleted after its test, and the fixture checks the hazard table is then exactly
as it was. The clock is frozen at ``TODAY`` so the future-date checks do not drift.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Engine, Row, text

from db.scope import Scope, apply_scope
from loaders.errors import LoadRefusedError, Problem
from loaders.hazards import HazardOptions, load_hazards
from loaders.pipeline import LoadResult
from loaders.report import REPORT_COLUMN, ROW_COLUMN, report_path
from tests.support import corpus
from tests.support import fixtures_data as fx
from tests.support.corpus import UTF8_BOM, assert_problem, only_problem, read_report, write_xlsx

pytestmark = pytest.mark.db

DISTRICT = "340303"  # 蚌山区
TODAY = dt.date(2026, 11, 23)  # the frozen "today" of every load here
PREFIX = "TEST-HZ-"
# The fixture district's enterprise: a valid USCC that is not an enterprise of 蚌山区.
OTHER_DISTRICT_USCC = fx.ENTERPRISES[0][0]
# A valid-looking USCC no enterprise holds (county 349901 does not exist in GB/T 2260).
NOBODY_USCC = "91349901MA2TEST00X"
HEADER = [
    "隐患编号",
    "统一社会信用代码",
    "发现日期",
    "隐患来源",
    "隐患描述",
    "隐患等级",
    "判定依据",
    "场所类型",
    "整改期限",
    "整改完成日期",
    "验收销号日期",
    "挂牌督办",
]
# An ordinary hazard through its closed loop: found, due, rectified and closed in March-April.
# Every file here keeps at least one value in each date column: a wholly blank date column
# crashes the loader (pinned by test_blank_date_column_does_not_crash_the_load below).
GOOD = {
    "发现日期": "2026-03-05",
    "隐患来源": "检查",
    "隐患等级": "一般",
    "整改期限": "2026-04-05",
    "整改完成日期": "2026-03-20",
    "验收销号日期": "2026-03-22",
}
OPEN = {"整改完成日期": "", "验收销号日期": ""}  # not yet rectified
MAJOR_BASIS = "应急管理部令第10号 (2023) 第四条"


# ---------------------------------------------------------------- building input files


def csv_bytes(rows, **kwargs) -> bytes:
    """Rows as Excel writes a CSV, with this corpus's header unless another is given."""
    return corpus.csv_bytes(rows, **{"header": HEADER, **kwargs})


def line(code: str, uscc: str, cells: dict[str, str] | None = None, *, header: Sequence[str] = HEADER) -> list[str]:
    """One data row in ``header`` order: ``GOOD`` values unless ``cells`` says otherwise."""
    values = {"隐患编号": code, "统一社会信用代码": uscc, "隐患描述": f"{code} 的隐患", **GOOD, **(cells or {})}
    return [values.get(column, "") for column in header]


# ---------------------------------------------------------------- reading back


@dataclass(frozen=True)
class Enterprise:
    """A demo enterprise hazards can hang on."""

    id: int
    uscc: str
    region_path: list[str]


@dataclass
class Harness:
    """Files in one test's folder, loads of them, and the hazard rows they wrote."""

    engine: Engine
    folder: Path
    enterprises: list[Enterprise]
    run: str = field(default_factory=lambda: secrets.token_hex(3))
    used: set[str] = field(default_factory=set)

    # -- inputs
    def codes(self, count: int) -> list[str]:
        start = len(self.used)
        codes = [f"{PREFIX}{self.run}-{start + i:03d}" for i in range(count)]
        self.used.update(codes)
        return codes

    @property
    def uscc(self) -> str:
        return self.enterprises[0].uscc

    def write(self, name: str, data: bytes) -> Path:
        path = self.folder / name
        path.write_bytes(data)
        return path

    def write_csv(self, name: str, rows: Sequence[Sequence[object]], **kwargs: object) -> Path:
        return self.write(name, csv_bytes(rows, **kwargs))

    # -- loading
    def load(self, path: Path, **kwargs: object) -> LoadResult:
        return load_hazards(self.engine, path, HazardOptions(district_code=DISTRICT, today=TODAY, **kwargs))

    def refuse(self, path: Path, **kwargs: object) -> list[Problem]:
        """Load ``path`` expecting a refusal; check nothing was written but the 'refused' audit row."""
        before, last_audit = self.snapshot(), self.last_audit_id()
        with pytest.raises(LoadRefusedError) as caught:
            self.load(path, **kwargs)
        assert self.snapshot() == before, "a refused file must leave the hazard table as it was"
        audits = self.audits_since(last_audit)
        assert [(a.kind, a.status, a.file_name) for a in audits] == [("hazards", "refused", path.name)]
        assert {p["code"] for p in audits[0].detail["problems"]} == {p.code for p in caught.value.problems}
        assert not report_path(path, "rejects").exists(), "a refused file gets no rejects report"
        return caught.value.problems

    # -- the database
    def snapshot(self) -> tuple[object, ...]:
        """A fingerprint of every hazard row of both districts that hold hazards.

        Not a content hash: the demo holds ~200,000 hazards and an md5 over them costs 0.5 s a
        snapshot. Any committed insert or update writes a row version with a newer xmin, and any
        delete lowers the count, so (count, max xmin) changes whenever the table does.
        """
        with self.engine.begin() as conn:
            apply_scope(conn, Scope.of([DISTRICT, fx.DISTRICT]))
            return tuple(
                conn.execute(
                    text("SELECT count(*), max(id), max(updated_at), max(xmin::text::bigint) FROM hazard")
                ).one()
            )

    def stored(self, codes: Sequence[str]) -> dict[str, Row]:
        with self.engine.begin() as conn:
            apply_scope(conn, Scope.whole_district(DISTRICT))
            rows = conn.execute(
                text(
                    "SELECT h.id, h.hazard_code, e.uscc, h.enterprise_id, h.region_path, h.found_date, h.source, "
                    "h.description, h.hazard_grade, h.judgement_basis, h.place_type, h.deadline_date, "
                    "h.rectified_date, h.closed_date, h.listed_level, h.updated_at "
                    "FROM hazard h JOIN enterprise e ON e.id = h.enterprise_id WHERE h.hazard_code = ANY(:codes)"
                ),
                {"codes": list(codes)},
            ).all()
        return {row.hazard_code: row for row in rows}

    def last_audit_id(self) -> int:
        with self.engine.connect() as conn:
            return conn.execute(text("SELECT coalesce(max(id), 0) FROM load_audit")).scalar_one()

    def audits_since(self, audit_id: int) -> list[Row]:
        with self.engine.connect() as conn:
            return conn.execute(
                text(
                    "SELECT id, kind, status, file_name, inserted, updated, unchanged, rejected, detail "
                    "FROM load_audit WHERE id > :id ORDER BY id"
                ),
                {"id": audit_id},
            ).all()

    def audit(self, audit_id: int) -> Row:
        return next(a for a in self.audits_since(audit_id - 1) if a.id == audit_id)

    def delete_used(self) -> None:
        with self.engine.begin() as conn:
            apply_scope(conn, Scope.of([DISTRICT, fx.DISTRICT]))
            conn.execute(
                text("DELETE FROM hazard WHERE hazard_code = ANY(:codes) OR hazard_code LIKE :prefix"),
                {"codes": sorted(self.used), "prefix": f"{PREFIX}{self.run}-%"},
            )

    # -- the usual shape of a row-level test
    def assert_rejected(
        self, result: LoadResult, path: Path, *, rejected: dict[int, str], loaded: Sequence[str], code: str
    ) -> pd.DataFrame:
        """Rows ``rejected`` (file row → hazard id) stayed out with ``code``; ids ``loaded`` are in.

        Returns the rejects report, which must list exactly the rejected rows.
        """
        assert result.status == "loaded_with_rejects"
        assert (result.inserted, result.rejected) == (len(loaded), len(rejected))
        assert sorted({p.row for p in result.rejections}) == sorted(rejected)
        assert {p.code for p in result.rejections} == {code}
        assert set(self.stored(loaded)) == set(loaded), "the file's valid rows must load"
        kept_out = set(rejected.values()) - set(loaded)
        assert not set(self.stored(sorted(kept_out))), "a rejected row must not be written"
        assert result.rejects_file == report_path(path, "rejects") == path.with_name(f"{path.stem}.rejects.csv")
        report = read_report(result.rejects_file)
        assert report[ROW_COLUMN].astype(int).tolist() == sorted(rejected)
        assert report["隐患编号"].tolist() == [rejected[r] for r in sorted(rejected)]
        audit = self.audit(result.audit_id)
        assert (audit.kind, audit.status, audit.file_name) == ("hazards", "loaded_with_rejects", path.name)
        assert (audit.inserted, audit.rejected) == (len(loaded), len(rejected))
        return report


@pytest.fixture(scope="module")
def enterprises(live_db, admin_engine: Engine) -> list[Enterprise]:
    """Demo enterprises in different cells (so their region paths differ), plus one without a cell."""
    with admin_engine.begin() as conn:
        apply_scope(conn, Scope.whole_district(DISTRICT))
        placed = conn.execute(
            text(
                "SELECT DISTINCT ON (cell_code) id, uscc, region_path FROM enterprise "
                "WHERE district_code = :d AND placement = 'placed' ORDER BY cell_code, uscc LIMIT 4"
            ),
            {"d": DISTRICT},
        ).all()
        unplaced = conn.execute(
            text(
                "SELECT id, uscc, region_path FROM enterprise WHERE district_code = :d AND cell_code IS NULL "
                "ORDER BY uscc LIMIT 1"
            ),
            {"d": DISTRICT},
        ).all()
    chosen = [Enterprise(row.id, row.uscc, list(row.region_path)) for row in [*placed, *unplaced]]
    assert len(placed) == 4, "the demo has enterprises placed in at least four cells"
    return chosen


@pytest.fixture()
def h(live_db, admin_engine: Engine, tmp_path: Path, enterprises: list[Enterprise]) -> Iterator[Harness]:
    harness = Harness(admin_engine, tmp_path, enterprises)
    before = harness.snapshot()
    yield harness
    harness.delete_used()
    assert harness.snapshot() == before, "the test must leave the hazard table exactly as it found it"


# ================================================================ whole-file refusals


@pytest.mark.parametrize("data", [b"", UTF8_BOM, b"\r\n  \r\n\r\n"], ids=["zero_bytes", "bom_only", "blank_lines"])
def test_empty_file_is_refused(h: Harness, data: bytes):
    path = h.write("empty.csv", data)
    problem = only_problem(h.refuse(path), "empty_file")
    assert_problem(problem, file="empty.csv", row=None, column=None, fragment="文件是空的")


@pytest.mark.parametrize("suffix", ["csv", "xlsx"])
def test_header_only_is_refused(h: Harness, suffix: str):
    path = h.folder / f"header_only.{suffix}"
    if suffix == "csv":
        path.write_bytes(csv_bytes([], bom=True))
    else:
        write_xlsx(path, {"隐患台账": [HEADER]})
    problem = only_problem(h.refuse(path), "no_rows")
    assert_problem(problem, file=path.name, row=None, column=None, fragment="只有表头")


@pytest.mark.parametrize(
    ("dropped", "key"),
    [
        ("隐患编号", "hazard_code"),
        ("统一社会信用代码", "uscc"),
        ("发现日期", "found_date"),
        ("隐患等级", "hazard_grade"),
    ],
)
def test_missing_required_column_is_refused(h: Harness, dropped: str, key: str):
    header = [c for c in HEADER if c != dropped]
    (code,) = h.codes(1)
    path = h.write_csv("missing_column.csv", [line(code, h.uscc, header=header)], header=header)
    problem = only_problem(h.refuse(path), "missing_column")
    assert_problem(problem, file=path.name, row=1, column=dropped, fragment=f"缺少必需的列「{dropped}」")
    assert f"--map {key}=" in problem.message, "the message says how to name the column"
    assert "隐患描述" in problem.message, "the message lists the file's columns"
    assert h.stored([code]) == {}


def test_strict_refuses_the_whole_file_on_one_bad_row(h: Harness):
    a, b = h.codes(2)
    path = h.write_csv("strict.csv", [line(a, h.uscc), line(b, h.uscc, {"隐患来源": "路过"})])
    problems = h.refuse(path, strict=True)
    assert len(problems) == 1
    assert_problem(problems[0], file=path.name, row=3, column="隐患来源", fragment="自查/检查/专家/举报", value="路过")
    assert h.stored([a, b]) == {}


# ================================================================ row-level rejections


@pytest.mark.parametrize(
    ("cells", "code", "column", "value", "fragment"),
    [
        pytest.param(
            {"统一社会信用代码": NOBODY_USCC},
            "unknown_enterprise",
            "统一社会信用代码",
            NOBODY_USCC,
            "找不到该统一社会信用代码的企业",
            id="unknown_enterprise",
        ),
        pytest.param(
            # An enterprise exists with this code, but in another district: not ours to attach to.
            {"统一社会信用代码": OTHER_DISTRICT_USCC},
            "unknown_enterprise",
            "统一社会信用代码",
            OTHER_DISTRICT_USCC,
            "请先载入企业名单",
            id="enterprise_of_another_district",
        ),
        pytest.param(
            {"整改完成日期": "2026-03-01"},
            "rectified_before_found",
            "整改完成日期",
            "2026-03-01",
            "整改完成日期早于发现日期",
            id="rectified_before_found",
        ),
        pytest.param(
            {"整改完成日期": "2026-03-10", "验收销号日期": "2026-03-08"},
            "closed_before_rectified",
            "验收销号日期",
            "2026-03-08",
            "验收销号日期早于整改完成日期",
            id="closed_before_rectified",
        ),
        pytest.param(
            {"整改完成日期": "", "验收销号日期": "2026-03-10"},
            "closed_without_rectified",
            "验收销号日期",
            "2026-03-10",
            "已验收销号但没有整改完成日期",
            id="closed_without_rectified",
        ),
        pytest.param(
            {"整改期限": "2026-03-01"},
            "deadline_before_found",
            "整改期限",
            "2026-03-01",
            "整改期限早于发现日期",
            id="deadline_before_found",
        ),
        pytest.param(
            {**OPEN, "发现日期": "2026-11-24", "整改期限": "2026-12-24"},
            "future_date",
            "发现日期",
            "2026-11-24",
            "日期晚于今天（2026-11-23）",
            id="future_found_date",
        ),
        pytest.param(
            {"整改完成日期": "2026-11-24", "验收销号日期": ""},
            "future_date",
            "整改完成日期",
            "2026-11-24",
            "日期晚于今天（2026-11-23）",
            id="future_rectified_date",
        ),
        pytest.param(
            {"整改完成日期": "2026-11-20", "验收销号日期": "2026年12月1日"},
            "future_date",
            "验收销号日期",
            "2026年12月1日",
            "日期晚于今天",
            id="future_closed_date",
        ),
        pytest.param(
            {"隐患来源": "路过"}, "unknown_source", "隐患来源", "路过", "自查/检查/专家/举报", id="unknown_source"
        ),
        pytest.param({"隐患等级": "较大"}, "unknown_grade", "隐患等级", "较大", "一般 或 重大", id="unknown_grade"),
        pytest.param({"隐患等级": " "}, "missing_grade", "隐患等级", None, "隐患等级为空", id="missing_grade"),
        pytest.param(
            {"隐患等级": "重大", "挂牌督办": "市级"},
            "major_without_basis",
            "判定依据",
            "",
            "重大隐患须填写判定依据",
            id="major_without_basis",
        ),
        pytest.param(
            {"隐患等级": "重大", "判定依据": MAJOR_BASIS, "挂牌督办": "乡级"},
            "unknown_listed_level",
            "挂牌督办",
            "乡级",
            "挂牌督办应为空或",
            id="unknown_listed_level",
        ),
        pytest.param(
            {"发现日期": "2026-02-30", "整改期限": ""},
            "bad_date",
            "发现日期",
            "2026-02-30",
            "日期格式应为 YYYY-MM-DD",
            id="bad_found_date",
        ),
        pytest.param({"整改期限": "下周五"}, "bad_date", "整改期限", "下周五", "YYYY-MM-DD", id="bad_deadline_text"),
        pytest.param(
            {"发现日期": "", "整改期限": ""}, "missing_date", "发现日期", "", "日期为空", id="missing_found_date"
        ),
    ],
)
def test_bad_cell_rejects_its_row_and_loads_the_rest(h: Harness, cells, code, column, value, fragment):
    a, bad, c = h.codes(3)
    rows = [line(a, h.uscc), line(bad, h.uscc, cells), line(c, h.enterprises[1].uscc)]
    path = h.write_csv("bad_cell.csv", rows)
    result = h.load(path)
    problem = only_problem(result.rejections, code)
    assert_problem(problem, file=path.name, row=3, column=column, fragment=fragment, value=value)
    assert result.total_rows == 3
    report = h.assert_rejected(result, path, rejected={3: bad}, loaded=[a, c], code=code)
    assert f"[{column}]" in report[REPORT_COLUMN].iat[0] and fragment in report[REPORT_COLUMN].iat[0]
    stored = h.stored([a])[a]
    assert (stored.found_date, stored.source, stored.hazard_grade, stored.deadline_date) == (
        dt.date(2026, 3, 5),
        "检查",
        2,
        dt.date(2026, 4, 5),
    )


def test_missing_hazard_id_rejects_the_row(h: Harness):
    (a,) = h.codes(1)
    path = h.write_csv("no_id.csv", [line(a, h.uscc), line("  ", h.uscc, {"隐患描述": "无编号的隐患"})])
    result = h.load(path)
    problem = only_problem(result.rejections, "missing_hazard_code")
    assert_problem(problem, file=path.name, row=3, column="隐患编号", fragment="隐患编号为空")
    assert (result.inserted, result.rejected) == (1, 1)
    assert read_report(result.rejects_file)["隐患描述"].tolist() == ["无编号的隐患"]


def test_duplicate_id_in_file_keeps_the_first_row(h: Harness):
    a, b = h.codes(2)
    rows = [
        line(a, h.uscc, {"隐患描述": "首次出现"}),
        line(b, h.uscc),
        line(f" {a} ", h.uscc, {"隐患描述": "重复出现"}),  # the same id with stray spaces
    ]
    path = h.write_csv("duplicate.csv", rows)
    result = h.load(path)
    problem = only_problem(result.rejections, "duplicate_in_file")
    assert_problem(problem, file=path.name, row=4, column="隐患编号", fragment="与第 2 行重复")
    h.assert_rejected(result, path, rejected={4: f" {a} ".strip()}, loaded=[a, b], code="duplicate_in_file")
    assert h.stored([a])[a].description == "首次出现"


def test_row_with_more_cells_than_the_header_is_reported(h: Harness):
    # An unquoted comma in the last column (挂牌督办 left blank, a note typed beyond it) adds a cell.
    a, b = h.codes(2)
    body = csv_bytes([line(a, h.uscc)]) + (",".join(line(b, h.uscc)) + ",配电箱未接地,未张贴警示标志\r\n").encode()
    path = h.write("extra_cells.csv", body)
    result = h.load(path)
    problem = only_problem(result.rejections, "too_many_cells")
    assert_problem(problem, file=path.name, row=3, column=None, fragment="单元格比表头多")
    h.assert_rejected(result, path, rejected={3: b}, loaded=[a], code="too_many_cells")


# ================================================================ what loads


def test_major_hazard_with_basis_loads(h: Harness):
    a, b = h.codes(2)
    major = {"隐患等级": "重大隐患", "判定依据": MAJOR_BASIS, "挂牌督办": "市", "场所类型": "粉尘涉爆区域"}
    path = h.write_csv("major.csv", [line(a, h.uscc, major), line(b, h.uscc, {"隐患等级": "一般隐患"})])
    result = h.load(path)
    assert (result.inserted, result.rejected, result.rejections, result.status) == (2, 0, [], "loaded")
    assert result.rejects_file is None and not report_path(path, "rejects").exists()
    stored = h.stored([a, b])
    assert (stored[a].hazard_grade, stored[a].judgement_basis, stored[a].listed_level, stored[a].place_type) == (
        1,
        MAJOR_BASIS,
        "市级",
        "粉尘涉爆区域",
    )
    assert (stored[b].hazard_grade, stored[b].judgement_basis, stored[b].listed_level) == (2, None, None)


def test_chinese_and_slashed_dates_load(h: Harness):
    (a,) = h.codes(1)
    cells = {
        "发现日期": "2026年3月5日",
        "整改期限": "2026年3月20日",
        "整改完成日期": "2026/3/18",
        "验收销号日期": "2026年3月25日",
    }
    result = h.load(h.write_csv("chinese_dates.csv", [line(a, h.uscc, cells)]))
    assert (result.inserted, result.rejections) == (1, [])
    stored = h.stored([a])[a]
    assert (stored.found_date, stored.deadline_date, stored.rectified_date, stored.closed_date) == (
        dt.date(2026, 3, 5),
        dt.date(2026, 3, 20),
        dt.date(2026, 3, 18),
        dt.date(2026, 3, 25),
    )


def test_dates_on_the_frozen_today_load(h: Harness):
    # "Future" means after today: a hazard found, rectified and closed today is valid.
    (a,) = h.codes(1)
    today = TODAY.isoformat()
    cells = {"发现日期": today, "整改期限": today, "整改完成日期": today, "验收销号日期": today}
    result = h.load(h.write_csv("today.csv", [line(a, h.uscc, cells)]))
    assert (result.inserted, result.rejections) == (1, [])
    assert h.stored([a])[a].closed_date == TODAY


def test_overdue_is_not_decided_by_the_loader(h: Harness):
    # Overdue (past deadline, not rectified) is a state the indicators compute (DOMAIN.md §3), not
    # a fault in the file: such a hazard loads as it is, unflagged. A deadline ahead of today loads too.
    overdue, ahead, late_fixed = h.codes(3)
    late_fix = {"整改完成日期": "2026-10-20", "验收销号日期": "2026-10-25"}  # rectified after its deadline
    rows = [
        line(overdue, h.uscc, {**OPEN, "发现日期": "2026-09-01", "整改期限": "2026-10-01"}),
        line(ahead, h.uscc, {**OPEN, "发现日期": "2026-11-20", "整改期限": "2027-01-31"}),
        line(late_fixed, h.uscc, {"发现日期": "2026-09-01", "整改期限": "2026-09-15", **late_fix}),
    ]
    path = h.write_csv("overdue.csv", rows)
    result = h.load(path)
    assert (result.inserted, result.rejected, result.rejections, result.warnings) == (3, 0, [], [])
    assert result.warnings_file is None and result.rejects_file is None
    stored = h.stored([overdue, ahead, late_fixed])
    assert (stored[overdue].deadline_date, stored[overdue].rectified_date) == (dt.date(2026, 10, 1), None)
    assert (stored[ahead].deadline_date, stored[ahead].rectified_date) == (dt.date(2027, 1, 31), None)
    assert stored[late_fixed].rectified_date == dt.date(2026, 10, 20)


def test_hazard_region_path_is_its_enterprises(h: Harness):
    # Row-level security filters hazards by their stored ancestry: it must be the enterprise's.
    codes = h.codes(len(h.enterprises))
    rows = [line(code, e.uscc.lower(), {}) for code, e in zip(codes, h.enterprises, strict=True)]
    result = h.load(h.write_csv("region_path.csv", rows))
    assert (result.inserted, result.rejections) == (len(codes), [])
    stored = h.stored(codes)
    with h.engine.begin() as conn:
        apply_scope(conn, Scope.whole_district(DISTRICT))
        paths = dict(
            conn.execute(
                text("SELECT id, region_path FROM enterprise WHERE id = ANY(:ids)"),
                {"ids": [e.id for e in h.enterprises]},
            ).all()
        )
    assert len({tuple(p) for p in paths.values()}) >= 4, "the enterprises chosen sit in different cells"
    for code, enterprise in zip(codes, h.enterprises, strict=True):
        hazard = stored[code]
        assert (hazard.uscc, hazard.enterprise_id) == (enterprise.uscc, enterprise.id)
        assert list(hazard.region_path) == list(paths[enterprise.id]) == enterprise.region_path
        assert hazard.region_path[0] == DISTRICT


def test_gbk_csv_loads_with_chinese_text_intact(h: Harness):
    # 犇 (A0C4) exists only in GBK's extension: a GB2312 decode would fail on it.
    descriptions = ["犇腾仓库消防通道堵塞", "鑫淼化工储罐区静电接地缺失"]
    a, b = h.codes(2)
    rows = [
        line(a, h.uscc, {"隐患描述": descriptions[0], "隐患来源": "企业自查"}),
        line(b, h.uscc, {"隐患描述": descriptions[1], "隐患来源": "群众举报", "发现日期": "2026年3月6日"}),
    ]
    path = h.write_csv("gbk.csv", rows, encoding="gbk")
    assert path.read_bytes()[:8] == "隐患编号".encode("gbk"), "the file really is GBK"
    result = h.load(path)
    assert (result.inserted, result.rejected) == (2, 0)
    stored = h.stored([a, b])
    assert [stored[a].description, stored[b].description] == descriptions
    assert [stored[a].source, stored[b].source] == ["自查", "举报"]
    assert stored[b].found_date == dt.date(2026, 3, 6)


def test_xlsx_with_typed_dates_loads(h: Harness):
    a, b, bad = h.codes(3)
    rows = [
        HEADER,
        [a, h.uscc, dt.date(2026, 3, 5), "专家会诊", "液氨管道腐蚀", "重大", MAJOR_BASIS, "", dt.date(2026, 5, 1)],
        [b, h.uscc, dt.date(2026, 3, 6), "检查", "", "一般", "", "", "", dt.date(2026, 3, 7), dt.date(2026, 3, 9)],
        [bad, h.uscc, dt.date(2026, 3, 6), "检查", "", "一般", "", "", dt.date(2026, 3, 1)],
    ]
    path = write_xlsx(h.folder / "hazards.xlsx", {"隐患台账": rows})
    result = h.load(path)
    problem = only_problem(result.rejections, "deadline_before_found")
    assert_problem(
        problem, file=path.name, row=4, column="整改期限", fragment="整改期限早于发现日期", value="2026-03-01"
    )
    h.assert_rejected(result, path, rejected={4: bad}, loaded=[a, b], code="deadline_before_found")
    stored = h.stored([a, b])
    assert (stored[a].found_date, stored[a].source, stored[a].hazard_grade, stored[a].deadline_date) == (
        dt.date(2026, 3, 5),
        "专家",
        1,
        dt.date(2026, 5, 1),
    )
    assert (stored[b].rectified_date, stored[b].closed_date, stored[b].description) == (
        dt.date(2026, 3, 7),
        dt.date(2026, 3, 9),
        None,
    )


# ================================================================ re-loads


def test_reloading_the_same_file_changes_nothing(h: Harness):
    a, b = h.codes(2)
    path = h.write_csv("same.csv", [line(a, h.uscc), line(b, h.enterprises[1].uscc, {"隐患来源": "举报"})])
    first = h.load(path)
    assert (first.inserted, first.updated, first.status) == (2, 0, "loaded")
    before, stamps = h.snapshot(), {c: r.updated_at for c, r in h.stored([a, b]).items()}
    again = h.load(path)
    assert (again.total_rows, again.inserted, again.updated, again.unchanged, again.status) == (
        2,
        0,
        0,
        2,
        "unchanged",
    )
    assert h.snapshot() == before
    assert {c: r.updated_at for c, r in h.stored([a, b]).items()} == stamps, "unchanged rows are not rewritten"
    audit = h.audit(again.audit_id)
    assert (audit.status, audit.inserted, audit.updated, audit.unchanged) == ("unchanged", 0, 0, 2)


def test_changed_row_updates_by_hazard_id(h: Harness):
    a, b = h.codes(2)
    h.load(h.write_csv("first.csv", [line(a, h.uscc, OPEN), line(b, h.uscc)]))
    first = h.stored([a, b])
    # The same list a month later: a was rectified and closed, b unchanged.
    closed = {"整改完成日期": "2026-04-01", "验收销号日期": "2026-04-03"}
    path = h.write_csv("second.csv", [line(a, h.uscc, closed), line(b, h.uscc)])
    second = h.load(path)
    assert (second.inserted, second.updated, second.unchanged, second.rejected, second.status) == (
        0,
        1,
        1,
        0,
        "loaded",
    )
    audit = h.audit(second.audit_id)
    assert (audit.file_name, audit.status, audit.inserted, audit.updated, audit.unchanged) == (
        "second.csv",
        "loaded",
        0,
        1,
        1,
    )
    stored = h.stored([a, b])
    assert stored[a].id == first[a].id, "updated in place, keyed by 隐患编号"
    assert (stored[a].rectified_date, stored[a].closed_date) == (dt.date(2026, 4, 1), dt.date(2026, 4, 3))
    assert stored[b].updated_at == first[b].updated_at


def test_hazard_moved_to_another_enterprise_takes_its_region_path(h: Harness):
    (a,) = h.codes(1)
    first, other = h.enterprises[0], h.enterprises[1]
    h.load(h.write_csv("before.csv", [line(a, first.uscc)]))
    result = h.load(h.write_csv("after.csv", [line(a, other.uscc)]))
    assert (result.inserted, result.updated) == (0, 1)
    stored = h.stored([a])[a]
    assert (stored.enterprise_id, list(stored.region_path)) == (other.id, other.region_path)


# ================================================================ loader bugs found by this corpus


def test_duplicate_of_a_rejected_row_is_not_lost(h: Harness):
    (a,) = h.codes(1)
    path = h.write_csv("duplicate_of_rejected.csv", [line(a, NOBODY_USCC), line(a, h.uscc)])
    result = h.load(path)
    assert only_problem(result.rejections, "unknown_enterprise").row == 2
    assert a in h.stored([a]), "row 3 is the only valid row for this id: it must load"


def test_hazard_id_held_by_another_district_is_rejected_not_crashed(h: Harness, admin_engine: Engine):
    # The fixture district T00001 holds hazard H-<uscc>; 隐患编号 is unique across districts.
    taken = f"H-{fx.ENTERPRISES[0][0]}"
    (good,) = h.codes(1)
    path = h.write_csv("other_district_id.csv", [line(taken, h.uscc), line(good, h.uscc)])
    with admin_engine.begin() as conn:
        apply_scope(conn, Scope.whole_district(fx.DISTRICT))
        owner_before = conn.execute(
            text("SELECT enterprise_id, region_path FROM hazard WHERE hazard_code = :c"), {"c": taken}
        ).one()
    try:
        result = h.load(path)
    finally:
        with admin_engine.begin() as conn:
            apply_scope(conn, Scope.whole_district(fx.DISTRICT))
            owner_after = conn.execute(
                text("SELECT enterprise_id, region_path FROM hazard WHERE hazard_code = :c"), {"c": taken}
            ).one_or_none()
        if owner_after != owner_before:
            fx.seed_two_townships(admin_engine)  # put the fixture district back for the other tests
    assert owner_after == owner_before, "another district's hazard is untouched"
    problem = result.rejections[0]
    assert (problem.row, problem.column) == (2, "隐患编号")
    assert good in h.stored([good])


@pytest.mark.parametrize(
    "header",
    [HEADER, ["隐患编号", "统一社会信用代码", "发现日期", "隐患等级"]],
    ids=["all_hazards_open", "required_columns_only"],
)
def test_blank_date_column_does_not_crash_the_load(h: Harness, header: list[str]):
    a, b = h.codes(2)
    rows = [line(a, h.uscc, OPEN, header=header), line(b, h.uscc, OPEN, header=header)]
    result = h.load(h.write_csv("all_open.csv", rows, header=header))
    assert (result.inserted, result.rejections) == (2, [])
    assert h.stored([a])[a].rectified_date is None
