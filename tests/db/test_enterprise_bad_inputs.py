"""Bad inputs for the enterprise loader: one test per way an office's list goes wrong (DOMAIN.md §4-5).

Each test builds its file in ``tmp_path`` (CSVs as explicit bytes, so the encoding is exactly the
one named; XLSX with xlsxwriter) and checks both halves of a good refusal:

- what the user is told: the problem code, the file name, the row as numbered in the file (header
  = row 1) and the column where there is one, and a fragment of the Chinese message;
- that nothing is half-written: a refused file leaves the enterprise table byte-for-byte as it was
  and leaves one audit row 'refused'; a rejected row stays out while the file's valid rows load,
  and the rejects CSV beside the input (UTF-8 with BOM) carries it with its 问题说明.

Every enterprise written here has a USCC registered under ``TEST_REGION``, a county code the demo
never uses, and is deleted after its test; the fixture checks the demo list is then exactly as it
was. The tests at the end pin loader bugs this corpus found (non-finite numbers, out-of-range
employee counts, a USCC of another district, ragged rows, duplicates of rejected rows, warnings
for rejected rows); each failed before its fix.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import Engine, Row, text

from db.scope import Scope, apply_scope
from geo.chinese_crs import wgs84_to_gcj02
from geo.uscc import make_uscc, random_valid_uscc
from loaders.enterprises import EnterpriseLoadResult, EnterpriseOptions, load_enterprises
from loaders.errors import LoadRefusedError, Problem
from loaders.report import REPORT_COLUMN, ROW_COLUMN, report_path
from tests.support import corpus
from tests.support import fixtures_data as fx
from tests.support.corpus import UTF8_BOM, assert_problem, only_problem, read_report, write_xlsx

pytestmark = pytest.mark.db

DISTRICT = "340303"  # 蚌山区
# GB/T 2260 has no county 349901: USCCs registered there cannot collide with a demo enterprise.
TEST_REGION = "349901"
OUTSIDE_WGS84 = ("117.36", "32.975")  # north bank of the Huai, in 淮上区: outside 蚌山区
HEADER = [
    "企业名称",
    "统一社会信用代码",
    "行业领域",
    "风险标签",
    "风险等级",
    "从业人数",
    "LS_L",
    "LS_S",
    "经营状态",
    "成立日期",
    "经度",
    "纬度",
    "坐标系",
]
# What the user may write in 行业领域 (data/vocab/sectors.csv): a message about an unknown sector lists them.
SECTORS = ("危险化学品", "烟花爆竹", "非煤矿山", "冶金", "建筑施工", "人员密集场所")
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)  # GB 11714 organisation-code check, mod 11
_ORG_CHECK_CHARS = "?123456789X0"  # check value 10 → X, 11 → 0


# ---------------------------------------------------------------- building input files


def csv_bytes(rows, **kwargs) -> bytes:
    """Rows as Excel writes a CSV, with this corpus's header unless another is given."""
    return corpus.csv_bytes(rows, **{"header": HEADER, **kwargs})


def line(name: str, uscc: str, cells: dict[str, str] | None = None, *, header: Sequence[str] = HEADER) -> list[str]:
    """One data row in ``header`` order; columns not given are empty."""
    values = {"企业名称": name, "统一社会信用代码": uscc, **(cells or {})}
    unknown = set(values) - set(header)
    assert not unknown, f"cells {unknown} are not in the header {header}"
    return [values.get(column, "") for column in header]


def sequential_usccs(count: int, region: str = "349902") -> list[str]:
    """``count`` distinct valid USCCs, quickly: old-style organisation codes 00000001, 00000002, …"""
    codes = []
    for number in range(1, count + 1):
        body = f"{number:08d}"
        check = 11 - sum(int(d) * w for d, w in zip(body, _ORG_WEIGHTS, strict=True)) % 11
        codes.append(make_uscc(f"91{region}{body}{_ORG_CHECK_CHARS[check]}"))
    return codes


# ---------------------------------------------------------------- reading back


@dataclass(frozen=True)
class InsidePoint:
    """A demo enterprise's point (CGCS2000 ≈ WGS84) and the cell the point → cell rule gives it."""

    lon: float
    lat: float
    cell_code: str

    def cells(self, system: str = "WGS84") -> dict[str, str]:
        lon, lat = (self.lon, self.lat) if system == "WGS84" else wgs84_to_gcj02(self.lon, self.lat)
        return {"经度": f"{float(lon):.9f}", "纬度": f"{float(lat):.9f}", "坐标系": system}


@dataclass
class Harness:
    """Files in one test's folder, loads of them, and the enterprise rows they wrote."""

    engine: Engine
    folder: Path
    inside: InsidePoint
    rng: np.random.Generator
    used: set[str] = field(default_factory=set)

    # -- inputs
    def codes(self, count: int) -> list[str]:
        codes: list[str] = []
        while len(codes) < count:
            code = random_valid_uscc(self.rng, TEST_REGION)
            if code not in self.used:
                self.used.add(code)
                codes.append(code)
        return codes

    def track(self, *codes: str) -> None:
        """Codes written into a file by hand: deleted afterwards should a bug have loaded them."""
        self.used.update(c.strip().upper() for c in codes if c.strip())

    def write(self, name: str, data: bytes) -> Path:
        path = self.folder / name
        path.write_bytes(data)
        return path

    def write_csv(self, name: str, rows: Sequence[Sequence[object]], **kwargs: object) -> Path:
        return self.write(name, csv_bytes(rows, **kwargs))

    # -- loading
    def options(self, **kwargs: object) -> EnterpriseOptions:
        return EnterpriseOptions(district_code=DISTRICT, **kwargs)

    def load(self, path: Path, **kwargs: object) -> EnterpriseLoadResult:
        return load_enterprises(self.engine, path, self.options(**kwargs))

    def refuse(self, path: Path, **kwargs: object) -> list[Problem]:
        """Load ``path`` expecting a refusal; check nothing was written but the 'refused' audit row."""
        before, last_audit = self.snapshot(), self.last_audit_id()
        with pytest.raises(LoadRefusedError) as caught:
            self.load(path, **kwargs)
        assert self.snapshot() == before, "a refused file must leave the enterprise table as it was"
        audits = self.audits_since(last_audit)
        assert [(a.kind, a.status, a.file_name) for a in audits] == [("enterprises", "refused", path.name)]
        assert {p["code"] for p in audits[0].detail["problems"]} == {p.code for p in caught.value.problems}
        assert not report_path(path, "rejects").exists(), "a refused file gets no rejects report"
        return caught.value.problems

    # -- the database
    def snapshot(self) -> tuple[int, str]:
        with self.engine.begin() as conn:
            apply_scope(conn, Scope.whole_district(DISTRICT))
            return tuple(
                conn.execute(
                    text(
                        "SELECT count(*), md5(string_agg(uscc || name || coalesce(cell_code, ''), ',' ORDER BY uscc)) "
                        "FROM enterprise"
                    )
                ).one()
            )

    def stored(self, codes: Sequence[str]) -> dict[str, Row]:
        with self.engine.begin() as conn:
            apply_scope(conn, Scope.whole_district(DISTRICT))
            rows = conn.execute(
                text(
                    "SELECT uscc, name, sector, special_flags, grade, employees, ls_l, status, established_date, "
                    "cell_code, region_path, placement, source_x, source_y, source_crs, ST_X(geom) AS lon, "
                    "ST_Y(geom) AS lat FROM enterprise WHERE uscc = ANY(:codes)"
                ),
                {"codes": list(codes)},
            ).all()
        return {row.uscc: row for row in rows}

    def named(self, name: str) -> int:
        with self.engine.begin() as conn:
            apply_scope(conn, Scope.whole_district(DISTRICT))
            return conn.execute(text("SELECT count(*) FROM enterprise WHERE name = :n"), {"n": name}).scalar_one()

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
            apply_scope(conn, Scope.whole_district(DISTRICT))
            conn.execute(text("DELETE FROM enterprise WHERE uscc = ANY(:codes)"), {"codes": sorted(self.used)})

    # -- the usual shape of a row-level test
    def assert_rejected(
        self,
        result: EnterpriseLoadResult,
        path: Path,
        *,
        rejected: dict[int, str],
        loaded: Sequence[str],
        code: str,
    ) -> pd.DataFrame:
        """Rows ``rejected`` (file row → name) stayed out with ``code``; codes ``loaded`` are in.

        Returns the rejects report, which must list exactly the rejected rows.
        """
        assert result.status == "loaded_with_rejects"
        assert result.rejected == len(rejected)
        assert sorted({p.row for p in result.rejections}) == sorted(rejected)
        assert {p.code for p in result.rejections} == {code}
        assert set(self.stored(loaded)) == set(loaded), "the file's valid rows must load"
        for name in rejected.values():
            assert self.named(name) == 0, f"rejected row {name!r} must not be written"
        assert result.rejects_file == report_path(path, "rejects") == path.with_name(f"{path.stem}.rejects.csv")
        report = read_report(result.rejects_file)
        assert report[ROW_COLUMN].astype(int).tolist() == sorted(rejected)
        assert report["企业名称"].tolist() == [rejected[r] for r in sorted(rejected)]
        return report


@pytest.fixture(scope="module")
def inside_point(live_db, admin_engine: Engine) -> InsidePoint:
    with admin_engine.begin() as conn:
        apply_scope(conn, Scope.whole_district(DISTRICT))
        lon, lat, cell = conn.execute(
            text(
                "SELECT ST_X(geom), ST_Y(geom), cell_code FROM enterprise WHERE placement = 'placed' "
                "ORDER BY uscc LIMIT 1"
            )
        ).one()
    return InsidePoint(lon, lat, cell)


@pytest.fixture(scope="module")
def uscc_rng() -> np.random.Generator:
    return np.random.default_rng(20261124)


@pytest.fixture()
def h(live_db, admin_engine: Engine, tmp_path: Path, inside_point: InsidePoint, uscc_rng) -> Iterator[Harness]:
    harness = Harness(admin_engine, tmp_path, inside_point, uscc_rng)
    before = harness.snapshot()
    yield harness
    harness.delete_used()
    assert harness.snapshot() == before, "the test must leave the demo enterprises exactly as it found them"


# ================================================================ encodings and empty files


def test_utf8_with_bom_and_crlf_loads(h: Harness):
    a, b = h.codes(2)
    names = ["蚌埠市淮光机械有限公司", "蚌山区禾泰商贸有限公司"]
    path = h.write_csv("bom.csv", [line(names[0], a, h.inside.cells()), line(names[1], b)], bom=True)
    result = h.load(path)
    assert (result.total_rows, result.inserted, result.rejected, result.status) == (2, 2, 0, "loaded")
    stored = h.stored([a, b])
    assert [stored[a].name, stored[b].name] == names, "the BOM must not stick to the first header"
    assert stored[a].cell_code == h.inside.cell_code


def test_gbk_csv_loads_with_chinese_names_intact(h: Harness):
    # 鑫 and 淼 are GB2312 level 2, 犇 (A0C4) only in GBK's extension: a GB2312 decode would fail on it.
    names = ["蚌埠鑫淼化工有限公司", "蚌山区犇腾烟花爆竹经营部", "安徽省蚌埠市禹会路五金机电商行"]
    codes = h.codes(3)
    rows = [line(n, c, {"行业领域": s}) for n, c, s in zip(names, codes, ["危化", "烟花爆竹", "商贸"], strict=True)]
    path = h.write_csv("gbk.csv", rows, encoding="gbk")
    assert path.read_bytes()[:8] == "企业名称".encode("gbk"), "the file really is GBK"
    result = h.load(path)
    assert (result.inserted, result.rejected) == (3, 0)
    stored = h.stored(codes)
    assert [stored[c].name for c in codes] == names
    assert [stored[c].sector for c in codes] == ["危险化学品", "烟花爆竹", "商贸"]


@pytest.mark.parametrize(
    "data",
    [
        pytest.param("企业名称\t统一社会信用代码\r\n蚌埠某公司\t91330100799655058B\r\n".encode("utf-16"), id="utf16"),
        pytest.param(bytes(range(0x80, 0x100)) * 8, id="binary"),
    ],
)
def test_undecodable_file_is_refused(h: Harness, data: bytes):
    # UTF-16 is what Excel's "Unicode 文本" export writes: neither UTF-8 nor GBK.
    path = h.write("undecodable.csv", data)
    problem = only_problem(h.refuse(path), "unknown_encoding")
    assert_problem(problem, file="undecodable.csv", row=None, column=None, fragment="无法识别文件编码")
    assert "UTF-8" in problem.message and "GBK" in problem.message


@pytest.mark.parametrize("data", [b"", UTF8_BOM, b"\r\n  \r\n\r\n"], ids=["zero_bytes", "bom_only", "blank_lines"])
def test_empty_file_is_refused(h: Harness, data: bytes):
    path = h.write("empty.csv", data)
    problem = only_problem(h.refuse(path), "empty_file")
    assert_problem(problem, file="empty.csv", row=None, column=None, fragment="文件是空的")


def test_empty_workbook_is_refused(h: Harness):
    path = write_xlsx(h.folder / "empty.xlsx", {"Sheet1": []})
    problem = only_problem(h.refuse(path), "empty_file")
    assert_problem(problem, file="empty.xlsx", row=None, column=None, fragment="文件是空的")


@pytest.mark.parametrize("suffix", ["csv", "xlsx"])
def test_header_only_is_refused(h: Harness, suffix: str):
    path = h.folder / f"header_only.{suffix}"
    if suffix == "csv":
        path.write_bytes(csv_bytes([], bom=True))
    else:
        write_xlsx(path, {"企业名单": [HEADER]})
    problem = only_problem(h.refuse(path), "no_rows")
    assert_problem(problem, file=path.name, row=None, column=None, fragment="只有表头")


def test_missing_file_is_refused(h: Harness):
    problem = only_problem(h.refuse(h.folder / "不存在.csv"), "file_not_found")
    assert_problem(problem, file="不存在.csv", row=None, column=None, fragment="文件不存在")


# ================================================================ headers


@pytest.mark.parametrize(("dropped", "key"), [("企业名称", "name"), ("统一社会信用代码", "uscc")])
def test_missing_required_header_is_refused(h: Harness, dropped: str, key: str):
    header = [c for c in HEADER if c != dropped]
    (code,) = h.codes(1)
    row = [v for c, v in zip(HEADER, line("蚌埠某机械厂", code), strict=True) if c != dropped]
    path = h.write_csv("missing_header.csv", [row], header=header)
    problem = only_problem(h.refuse(path), "missing_column")
    assert problem.column in (key, dropped)
    assert_problem(problem, file=path.name, row=1, column=problem.column, fragment=f"缺少必需的列「{dropped}」")
    assert f"--map {key}=" in problem.message, "the message says how to name the column"


def test_title_row_above_the_header_is_refused_naming_what_it_found(h: Harness):
    # Bureau templates often put a merged title row above the header: the header is then row 2.
    (code,) = h.codes(1)
    path = write_xlsx(
        h.folder / "title_row.xlsx", {"Sheet1": [["蚌山区重点企业名单（2026年）"], HEADER, line("蚌埠某厂", code)]}
    )
    problems = h.refuse(path)
    assert {p.code for p in problems} == {"missing_column"}
    assert all(p.row == 1 and "蚌山区重点企业名单（2026年）" in p.message for p in problems)


def test_renamed_headers_resolve_by_synonyms(h: Harness):
    header = ["单位名称", "信用代码", "行业", "职工人数", "lng", "lat", "坐标类型", "备注"]
    a, b = h.codes(2)
    inside = h.inside.cells("GCJ-02")
    rows = [
        ["蚌埠同义词化工有限公司", a, "危化", "15", inside["经度"], inside["纬度"], "高德"],
        ["蚌埠同义词商贸有限公司", b, "工贸-商贸", "3", *OUTSIDE_WGS84, "WGS-84", "跨河"],
    ]
    result = h.load(h.write_csv("synonyms.csv", rows, header=header))
    assert (result.inserted, result.rejected) == (2, 0)
    stored = h.stored([a, b])
    assert (stored[a].name, stored[a].sector, stored[a].employees) == ("蚌埠同义词化工有限公司", "危险化学品", 15)
    # A GCJ-02 (高德) point is converted back to the true position, so it lands in the true cell,
    # and the point as received is kept.
    assert stored[a].cell_code == h.inside.cell_code
    assert (stored[a].source_x, stored[a].source_crs) == (pytest.approx(float(inside["经度"])), "gcj02")
    assert abs(stored[a].lon - h.inside.lon) < 1e-8 and abs(stored[a].lat - h.inside.lat) < 1e-8
    assert (stored[b].sector, stored[b].placement) == ("商贸", "outside_district")


def test_explicit_column_mapping_wins(h: Harness):
    header = ["企业名称", "代码X", "经度", "纬度", "坐标系"]
    (code,) = h.codes(1)
    rows = [["蚌埠映射列公司", code, *h.inside.cells().values()]]
    path = h.write_csv("mapped.csv", rows, header=header)
    result = h.load(path, columns={"uscc": "代码X"})
    assert (result.inserted, result.rejected) == (1, 0)
    assert h.stored([code])[code].cell_code == h.inside.cell_code


def test_explicit_mapping_to_an_absent_column_is_refused(h: Harness):
    (code,) = h.codes(1)
    path = h.write_csv("mapped_absent.csv", [line("蚌埠映射错列公司", code)])
    problems = h.refuse(path, columns={"uscc": "代码Y"})
    problem = next(p for p in problems if p.column == "代码Y")
    assert_problem(problem, file=path.name, row=1, column="代码Y", fragment="指定的列「代码Y」不在文件中")
    assert problem.code == "missing_column"


def test_coordinates_without_a_system_refuse_the_file(h: Harness):
    header = [c for c in HEADER if c != "坐标系"]
    (code,) = h.codes(1)
    point = h.inside.cells()
    row = line("蚌埠无坐标系公司", code, {"经度": point["经度"], "纬度": point["纬度"]}, header=header)
    path = h.write_csv("no_crs.csv", [row], header=header)
    problem = only_problem(h.refuse(path), "no_crs")
    assert_problem(problem, file=path.name, row=1, column="坐标系", fragment="文件有经纬度但没有坐标系")
    assert "--crs" in problem.message
    # The fix the message names works.
    result = h.load(path, crs="wgs84")
    assert result.inserted == 1 and h.stored([code])[code].cell_code == h.inside.cell_code


# ================================================================ identity (USCC)


def _forbidden_letter(code: str, letter: str) -> str:
    return code[:10] + letter + code[11:]


def _other_check_char(code: str) -> str:
    return code[:-1] + ("1" if code[-1] != "1" else "2")


@pytest.mark.parametrize(
    ("make_bad", "code", "fragment"),
    [
        pytest.param(_other_check_char, "uscc_check_digit", "第 18 位校验码不符", id="check_char"),
        pytest.param(lambda c: _forbidden_letter(c, "O"), "uscc_alphabet", "不含 I、O、S、V、Z", id="letter_O"),
        pytest.param(lambda c: _forbidden_letter(c, "I"), "uscc_alphabet", "不含 I、O、S、V、Z", id="letter_I"),
        pytest.param(lambda c: c[:-1], "uscc_length", "应为 18 位", id="17_chars"),
        pytest.param(lambda c: c + "0", "uscc_length", "应为 18 位", id="19_chars"),
        pytest.param(lambda c: "91330100799655068B", "uscc_org_code_check", "组织机构代码校验不符", id="org_code"),
        pytest.param(lambda c: "", "uscc_missing", "统一社会信用代码为空", id="empty"),
    ],
)
def test_bad_uscc_rejects_the_row(h: Harness, make_bad, code: str, fragment: str):
    good, spare = h.codes(2)
    bad = make_bad(spare)
    h.track(bad)
    names = ["蚌埠信用代码正确公司", "蚌埠信用代码错误公司"]
    path = h.write_csv("bad_uscc.csv", [line(names[0], good), line(names[1], bad)])
    result = h.load(path)
    problem = only_problem(result.rejections, code)
    assert_problem(problem, file=path.name, row=3, column="统一社会信用代码", fragment=fragment, value=bad)
    report = h.assert_rejected(result, path, rejected={3: names[1]}, loaded=[good], code=code)
    assert fragment in report[REPORT_COLUMN].iat[0]
    assert report["统一社会信用代码"].iat[0] == bad


def test_all_digit_uscc_typed_as_a_number_in_excel_is_rejected_not_mangled(h: Harness):
    # Excel keeps 15 significant digits: an all-digit code typed without a leading ' is lost.
    good = h.codes(1)[0]
    digits = next(c for c in iter(lambda: random_valid_uscc(h.rng, TEST_REGION), None) if c.isdigit())
    h.track(digits)
    path = write_xlsx(
        h.folder / "numeric_uscc.xlsx",
        {"企业名单": [HEADER, line("蚌埠文本代码公司", good), ["蚌埠数字代码公司", int(digits)]]},
    )
    result = h.load(path)
    problem = result.rejections[0]
    assert (problem.file, problem.row, problem.column) == (path.name, 3, "统一社会信用代码")
    assert problem.code.startswith("uscc_") and "统一社会信用代码" in problem.message
    assert problem.value != digits
    assert h.stored([digits]) == {}
    h.assert_rejected(result, path, rejected={3: "蚌埠数字代码公司"}, loaded=[good], code=problem.code)


def test_duplicate_uscc_in_file_keeps_the_first_row(h: Harness):
    a, b = h.codes(2)
    names = ["蚌埠重复代码首行公司", "蚌埠另一家公司", "蚌埠重复代码次行公司"]
    # The second occurrence differs only in case and spaces: still the same code.
    path = h.write_csv("duplicate.csv", [line(names[0], a), line(names[1], b), line(names[2], f" {a.lower()} ")])
    result = h.load(path)
    problem = only_problem(result.rejections, "duplicate_in_file")
    assert_problem(problem, file=path.name, row=4, column="统一社会信用代码", fragment="与第 2 行重复")
    h.assert_rejected(result, path, rejected={4: names[2]}, loaded=[a, b], code="duplicate_in_file")
    assert h.stored([a])[a].name == names[0]


def test_duplicate_of_a_rejected_row_is_not_lost(h: Harness):
    (a,) = h.codes(1)
    path = h.write_csv("duplicate_of_rejected.csv", [line("", a), line("蚌埠重复代码有效行公司", a)])
    result = h.load(path)
    assert only_problem(result.rejections, "missing_name").row == 2
    assert a in h.stored([a]), "row 3 is the only valid row for this code: it must load"


def test_uscc_already_in_the_database_updates_it(h: Harness):
    a, b = h.codes(2)
    first = h.load(h.write_csv("first.csv", [line("蚌埠旧名称公司", a, {"从业人数": "10"})]))
    assert (first.inserted, first.updated) == (1, 0)
    path = h.write_csv("second.csv", [line("蚌埠新名称公司", a, {"从业人数": "12"}), line("蚌埠新增公司", b)])
    second = h.load(path)
    assert (second.inserted, second.updated, second.unchanged, second.status) == (1, 1, 0, "loaded")
    audit = h.audit(second.audit_id)
    assert (audit.file_name, audit.status, audit.inserted, audit.updated) == ("second.csv", "loaded", 1, 1)
    assert (h.stored([a])[a].name, h.stored([a])[a].employees) == ("蚌埠新名称公司", 12)
    again = h.load(path)
    assert (again.inserted, again.updated, again.unchanged, again.status) == (0, 0, 2, "unchanged")
    assert h.audit(again.audit_id).unchanged == 2


def test_uscc_held_by_another_district_is_rejected_not_crashed(h: Harness, admin_engine: Engine):
    taken, good = fx.ENTERPRISES[0][0], h.codes(1)[0]
    path = h.write_csv("other_district.csv", [line("蚌埠冒用代码公司", taken), line("蚌埠正常公司", good)])
    try:
        result = h.load(path)
    finally:
        with admin_engine.begin() as conn:
            apply_scope(conn, Scope.whole_district(fx.DISTRICT))
            owner = conn.execute(text("SELECT name, district_code FROM enterprise WHERE uscc = :u"), {"u": taken}).one()
        if tuple(owner) != (fx.ENTERPRISES[0][1], fx.DISTRICT):
            fx.seed_two_townships(admin_engine)  # put the fixture district back for the other tests
    assert tuple(owner) == (fx.ENTERPRISES[0][1], fx.DISTRICT), "another district's enterprise is untouched"
    problem = result.rejections[0]
    assert (problem.row, problem.column) == (2, "统一社会信用代码")
    assert good in h.stored([good])


# ================================================================ cells: numbers, vocabularies, coordinates


@pytest.mark.parametrize(
    ("cells", "code", "column", "value", "fragment"),
    [
        pytest.param({"从业人数": "十五"}, "not_a_number", "从业人数", "十五", "应为数字", id="text_in_number"),
        pytest.param({"从业人数": "-3"}, "negative", "从业人数", "-3", "不能为负数", id="negative_employees"),
        pytest.param({"从业人数": "12.5"}, "not_an_integer", "从业人数", "12.5", "应为整数", id="fractional_employees"),
        pytest.param({"LS_L": "7"}, "out_of_range", "LS_L", "7", "取值应为 1-5", id="ls_7"),
        pytest.param({"行业领域": "养殖业"}, "unknown_sector", "行业领域", "养殖业", "无法识别的行业领域", id="sector"),
        pytest.param({"风险标签": "粉尘涉爆、高温熔融"}, "unknown_flag", "风险标签", None, "粉尘涉爆", id="flag"),
        pytest.param({"风险等级": "极高"}, "unknown_grade", "风险等级", "极高", "重大/较大/一般/低", id="grade"),
        pytest.param({"经营状态": "倒闭"}, "unknown_status", "经营状态", "倒闭", "在营/停产/关闭", id="status"),
        pytest.param({"成立日期": "2020-13-45"}, "bad_date", "成立日期", "2020-13-45", "YYYY-MM-DD", id="date"),
        pytest.param({"企业名称": "  "}, "missing_name", "企业名称", None, "企业名称为空", id="blank_name"),
        pytest.param(
            {"经度": "117°21′", "纬度": "{lat}", "坐标系": "WGS84"},
            "not_a_number",
            "经度",
            "117°21′",
            "经度应为数字",
            id="degrees_minutes",
        ),
        pytest.param(
            {"经度": "{lon}", "纬度": ""}, "half_coordinates", "经度", "{lon}", "同时填写", id="half_coordinates"
        ),
        pytest.param(
            {"经度": "{lon}", "纬度": "{lat}", "坐标系": "火星2号"},
            "unknown_crs",
            "坐标系",
            "火星2号",
            "无法识别的坐标系",
            id="unknown_crs",
        ),
        pytest.param(
            {"经度": "{lon}", "纬度": "{lat}", "坐标系": ""},
            "no_crs",
            "坐标系",
            "",
            "本行有坐标但没有坐标系",
            id="row_without_crs",
        ),
    ],
)
def test_bad_cell_rejects_its_row_and_loads_the_rest(h: Harness, cells, code, column, value, fragment):
    point = h.inside.cells()
    cells = {k: v.format(lon=point["经度"], lat=point["纬度"]) for k, v in cells.items()}
    value = value.format(lon=point["经度"], lat=point["纬度"]) if value is not None else None
    a, bad, c = h.codes(3)
    bad_name = cells.pop("企业名称", "蚌埠坏单元格公司")
    good = {"行业领域": "机械", "风险标签": "有限空间", "风险等级": "较大", "从业人数": "20", "LS_L": "3"}
    good |= {"LS_S": "2", "经营状态": "存续", "成立日期": "2015/6/1", **point}
    rows = [line("蚌埠好行甲公司", a, good), line(bad_name, bad, {**good, **cells}), line("蚌埠好行乙公司", c, good)]
    path = h.write_csv("bad_cell.csv", rows)
    result = h.load(path)
    problem = only_problem(result.rejections, code)
    assert_problem(problem, file=path.name, row=3, column=column, fragment=fragment, value=value)
    report = h.assert_rejected(result, path, rejected={3: bad_name.strip()}, loaded=[a, c], code=code)
    assert f"[{column}]" in report[REPORT_COLUMN].iat[0] and fragment in report[REPORT_COLUMN].iat[0]
    assert h.stored([bad]) == {}
    stored = h.stored([a])[a]
    assert (stored.sector, stored.special_flags, stored.grade, stored.employees, stored.ls_l, stored.status) == (
        "机械",
        ["有限空间"],
        2,
        20,
        3,
        "在营",
    )
    assert stored.established_date == dt.date(2015, 6, 1) and stored.cell_code == h.inside.cell_code


def test_unknown_sector_message_lists_the_accepted_values(h: Harness):
    a, b = h.codes(2)
    path = h.write_csv("sector.csv", [line("蚌埠未知行业公司", a, {"行业领域": "区块链"}), line("蚌埠已知行业公司", b)])
    result = h.load(path)
    problem = only_problem(result.rejections, "unknown_sector")
    assert_problem(problem, file=path.name, row=2, column="行业领域", fragment="可用:", value="区块链")
    assert all(sector in problem.message for sector in SECTORS)


def test_swapped_lat_lon_loads_flagged_without_a_cell(h: Harness):
    a, b = h.codes(2)
    point = h.inside.cells()
    swapped = {"经度": point["纬度"], "纬度": point["经度"], "坐标系": "WGS84"}
    path = h.write_csv("swapped.csv", [line("蚌埠正常坐标公司", a, point), line("蚌埠坐标颠倒公司", b, swapped)])
    result = h.load(path)
    assert (result.inserted, result.rejected, result.placement) == (2, 0, {"placed": 1, "swapped_lonlat": 1})
    problem = only_problem(result.warnings, "swapped_lonlat")
    assert_problem(problem, file=path.name, row=3, column="经度", fragment="经纬度疑似颠倒", value=point["纬度"])
    stored = h.stored([b])[b]
    assert (stored.placement, stored.cell_code, stored.lon, stored.region_path) == (
        "swapped_lonlat",
        None,
        None,
        [DISTRICT],
    )
    assert stored.source_x == pytest.approx(float(point["纬度"])), "the values as received are kept"
    warnings = read_report(result.warnings_file)
    assert warnings["统一社会信用代码"].tolist() == [b] and "经纬度疑似颠倒" in warnings[REPORT_COLUMN].iat[0]
    assert result.rejects_file is None and not report_path(path, "rejects").exists()


def test_point_outside_the_district_loads_flagged_without_a_cell(h: Harness):
    (a,) = h.codes(1)
    outside = {"经度": OUTSIDE_WGS84[0], "纬度": OUTSIDE_WGS84[1], "坐标系": "WGS84"}
    path = h.write_csv("outside.csv", [line("蚌埠河北岸公司", a, outside)])
    result = h.load(path)
    assert (result.inserted, result.placement) == (1, {"outside_district": 1})
    problem = only_problem(result.warnings, "outside_district")
    assert_problem(problem, file=path.name, row=2, column="经度/纬度", fragment="本区县范围外")
    stored = h.stored([a])[a]
    assert (stored.placement, stored.cell_code, stored.region_path) == ("outside_district", None, [DISTRICT])
    assert (stored.lon, stored.lat) == (pytest.approx(117.36), pytest.approx(32.975))
    assert read_report(result.warnings_file)[ROW_COLUMN].tolist() == ["2"]


def test_row_without_coordinates_loads_flagged(h: Harness):
    a, b = h.codes(2)
    path = h.write_csv("no_point.csv", [line("蚌埠有坐标公司", a, h.inside.cells()), line("蚌埠无坐标公司", b)])
    result = h.load(path)
    assert (result.inserted, result.placement) == (2, {"placed": 1, "no_coordinates": 1})
    problem = only_problem(result.warnings, "no_coordinates")
    assert_problem(problem, file=path.name, row=3, column="经度", fragment="没有坐标")
    stored = h.stored([b])[b]
    assert (stored.placement, stored.cell_code, stored.region_path) == ("no_coordinates", None, [DISTRICT])


# ================================================================ hostile text


def test_formula_in_name_is_stored_verbatim_and_neutralised_in_reports(h: Harness):
    formula, other = "=cmd|' /C calc'!A0", "@SUM(1+1)*cmd|' /C calc'!A0"
    a, b = h.codes(2)
    # Row 2 loads with a warning (no point); row 3 is rejected for its check character.
    bad = _other_check_char(b)
    h.track(bad)
    path = h.write_csv("formula.csv", [line(formula, a), line(other, bad, h.inside.cells())])
    result = h.load(path)
    assert h.stored([a])[a].name == formula, "the database keeps what was received"
    assert only_problem(result.rejections, "uscc_check_digit").row == 3
    warnings, rejects = read_report(result.warnings_file), read_report(result.rejects_file)
    assert warnings["企业名称"].tolist() == ["'" + formula]
    assert rejects["企业名称"].tolist() == ["'" + other]
    for report in (result.warnings_file, result.rejects_file):
        cells = [cell for row in csv.reader(io.StringIO(report.read_text("utf-8-sig"))) for cell in row]
        assert not any(cell.startswith(("=", "+", "-", "@")) for cell in cells), "no cell may start a formula"


def test_html_in_name_is_stored_verbatim(h: Harness):
    name = "<img src=x onerror=alert(1)>蚌埠公司"
    (a,) = h.codes(1)
    result = h.load(h.write_csv("html.csv", [line(name, a, h.inside.cells())]))
    assert (result.inserted, result.rejections, result.warnings) == (1, [], [])
    assert h.stored([a])[a].name == name, "escaping is the page's job, not the loader's"


# ================================================================ workbooks


def _workbook_rows(h: Harness, count: int) -> tuple[list[list[object]], list[str]]:
    codes = h.codes(count)
    point = h.inside
    rows = [
        [
            f"蚌埠工作簿第{i}号公司",
            code,
            "机械",
            "",
            "一般",
            10 + i,
            2,
            3,
            "在营",
            dt.date(2010, 1, 1) + dt.timedelta(days=i),
            point.lon,
            point.lat,
            "CGCS2000",
        ]
        for i, code in enumerate(codes)
    ]
    return [HEADER, *rows], codes


def test_truncated_xlsx_is_refused(h: Harness):
    rows, _ = _workbook_rows(h, 40)
    whole = write_xlsx(h.folder / "whole.xlsx", {"企业名单": rows}).read_bytes()
    path = h.write("truncated.xlsx", whole[: len(whole) // 2])  # a download cut off half-way
    problem = only_problem(h.refuse(path), "unreadable_file")
    assert_problem(problem, file=path.name, row=None, column=None, fragment="文件可能已损坏或不完整")


def test_html_table_saved_as_xls_is_refused(h: Harness):
    # Many government web systems "export to Excel" as an HTML table with an .xls name.
    (a,) = h.codes(1)
    html = f"<html><body><table><tr><td>企业名称</td><td>统一社会信用代码</td></tr><tr><td>蚌埠公司</td><td>{a}</td></tr></table>"
    path = h.write("export.xls", html.encode("utf-8"))
    problem = only_problem(h.refuse(path), "unreadable_file")
    assert_problem(problem, file=path.name, row=None, column=None, fragment="无法读取 Excel 文件")


def test_unknown_sheet_is_refused_and_the_named_sheet_loads(h: Harness):
    rows, codes = _workbook_rows(h, 3)
    path = write_xlsx(h.folder / "sheets.xlsx", {"填表说明": [["请从第二个工作表填写"]], "企业名单": rows})
    problem = only_problem(h.refuse(path, sheet="企业清单"), "unknown_sheet")
    assert_problem(problem, file=path.name, row=None, column=None, fragment="没有名为", value="企业清单")
    assert "填表说明" in problem.message and "企业名单" in problem.message
    result = h.load(path, sheet="企业名单")
    assert (result.inserted, result.rejected, result.placement) == (3, 0, {"placed": 3})
    stored = h.stored(codes)[codes[2]]
    assert (stored.employees, stored.established_date, stored.source_crs) == (12, dt.date(2010, 1, 3), "cgcs2000")
    assert stored.cell_code == h.inside.cell_code


# ================================================================ whole-file policies and size


def test_strict_refuses_the_whole_file_on_one_bad_row(h: Harness):
    codes = h.codes(3)
    point = h.inside.cells()
    rows = [line(f"蚌埠严格模式第{i}公司", code, point) for i, code in enumerate(codes)]
    rows[1] = line("蚌埠严格模式坏行公司", codes[1], {**point, "从业人数": "十五"})
    path = h.write_csv("strict.csv", rows)
    problems = h.refuse(path, strict=True)
    assert len(problems) == 1
    assert_problem(problems[0], file=path.name, row=3, column="从业人数", fragment="应为数字", value="十五")
    assert h.stored(codes) == {}


def test_100000_rows_load_quickly(h: Harness):
    count = 100_000
    codes = sequential_usccs(count)
    h.track(*codes)
    assert h.stored(codes[:100] + codes[-100:]) == {}, "the generated codes are new"
    frame = pd.DataFrame(
        {
            "企业名称": [f"蚌埠批量测试企业{i:06d}" for i in range(count)],
            "统一社会信用代码": codes,
            "行业领域": np.resize(np.array(["危险化学品", "机械", "商贸", "建筑施工"]), count),
            "从业人数": np.arange(count) % 500,
            "经度": f"{h.inside.lon:.9f}",
            "纬度": f"{h.inside.lat:.9f}",
            "坐标系": "WGS84",
        }
    )
    path = h.write("large.csv", frame.to_csv(index=False, lineterminator="\r\n").encode("utf-8"))
    started = time.perf_counter()
    result = h.load(path)
    elapsed_s = time.perf_counter() - started
    assert (result.total_rows, result.inserted, result.rejected, result.placement) == (
        count,
        count,
        0,
        {"placed": count},
    )
    assert elapsed_s < 30, f"100,000 rows took {elapsed_s:.1f} s"
    assert h.stored(codes[-1:])[codes[-1]].cell_code == h.inside.cell_code


# ================================================================ loader bugs found by this corpus, fixed


@pytest.mark.parametrize(
    ("cells", "column"),
    [
        pytest.param({"从业人数": "inf"}, "从业人数", id="employees_inf"),
        pytest.param({"LS_L": "1e400"}, "LS_L", id="ls_overflow"),
        pytest.param({"经度": "inf", "纬度": "{lat}", "坐标系": "WGS84"}, "经度", id="lon_inf"),
    ],
)
def test_non_finite_number_rejects_the_row(h: Harness, cells, column):
    point = h.inside.cells()
    cells = {k: v.format(lat=point["纬度"]) for k, v in cells.items()}
    a, bad = h.codes(2)
    path = h.write_csv("non_finite.csv", [line("蚌埠正常公司", a), line("蚌埠无穷大公司", bad, cells)])
    result = h.load(path)
    assert [(p.row, p.column) for p in result.rejections] == [(3, column)]
    assert set(h.stored([a, bad])) == {a}


def test_employees_beyond_integer_range_rejects_the_row(h: Harness):
    a, bad = h.codes(2)
    # A phone number typed into 从业人数.
    path = h.write_csv(
        "huge.csv", [line("蚌埠正常公司", a), line("蚌埠电话号码公司", bad, {"从业人数": "13905521234"})]
    )
    result = h.load(path)
    assert [(p.row, p.column, p.code) for p in result.rejections] == [(3, "从业人数", "out_of_range")]
    assert set(h.stored([a, bad])) == {a}


def test_rejected_row_is_not_reported_as_loaded(h: Harness):
    a, b = h.codes(2)
    rows = [line("蚌埠有坐标好公司", a, h.inside.cells()), line("蚌埠无坐标坏公司", b, {"从业人数": "十五"})]
    path = h.write_csv("rejected_without_point.csv", rows)
    result = h.load(path)
    h.assert_rejected(result, path, rejected={3: "蚌埠无坐标坏公司"}, loaded=[a], code="not_a_number")
    assert [str(p) for p in result.warnings] == []
    assert result.warnings_file is None


def test_blank_lines_keep_file_row_numbers(h: Harness):
    a, b = h.codes(2)
    body = (
        csv_bytes([line("蚌埠空行前公司", a)])
        + b"\r\n\r\n"
        + csv_bytes([line("蚌埠空行后公司", b, {"从业人数": "十五"})], header=None)
    )
    path = h.write("blank_lines.csv", body)
    result = h.load(path)
    problem = only_problem(result.rejections, "not_a_number")
    assert_problem(problem, file=path.name, row=5, column="从业人数", fragment="应为数字")
    h.assert_rejected(result, path, rejected={5: "蚌埠空行后公司"}, loaded=[a], code="not_a_number")


def test_quoted_line_break_counts_as_one_row(h: Harness):
    # Excel writes an address typed with Alt+Enter as one quoted cell over two lines: still one row.
    header = [*HEADER, "地址"]
    a, b = h.codes(2)
    rows = [
        line("蚌埠多行地址公司", a, {"地址": "蚌山区胜利中路\n100号"}, header=header),
        line("蚌埠下一行公司", b, {"从业人数": "十五"}, header=header),
    ]
    path = h.write_csv("multiline.csv", rows, header=header)
    result = h.load(path)
    assert only_problem(result.rejections, "not_a_number").row == 3
    h.assert_rejected(result, path, rejected={3: "蚌埠下一行公司"}, loaded=[a], code="not_a_number")


def test_row_with_more_cells_than_the_header_is_reported(h: Harness):
    # An unquoted comma in an address shifts every later cell one column right.
    header = ["企业名称", "统一社会信用代码", "地址", "主要负责人"]
    a, b = h.codes(2)
    body = csv_bytes([["蚌埠正常公司", a, "蚌山区", "李四"]], header=header)
    body += f"蚌埠逗号地址公司,{b},蚌埠市,蚌山区胜利路,张三\r\n".encode()
    path = h.write("extra_cells.csv", body)
    result = h.load(path)
    # The file has no coordinate columns, so every row also carries a no_coordinates warning.
    assert [p.row for p in result.rejections] == [3], "the shifted row must be named"
    assert result.rejections[0].code == "too_many_cells"
    assert a in h.stored([a])


def test_row_with_fewer_cells_than_the_header_loads(h: Harness):
    a, b = h.codes(2)
    body = csv_bytes([line("蚌埠完整行公司", a)]) + f"蚌埠短行公司,{b}\r\n".encode()
    path = h.write("short_row.csv", body)
    result = h.load(path)
    assert (result.inserted, result.rejected) == (2, 0)
    assert h.stored([b])[b].name == "蚌埠短行公司"
