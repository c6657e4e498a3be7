"""Reading tabular files (CSV in UTF-8, UTF-8 with BOM or GBK/GB18030; XLSX/XLS) as text.

Every cell comes back as a string ("" when empty) with the file's own row number, so the
validation step can name row, column and value exactly as the user sees them in Excel or WPS.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from loaders.errors import LoadRefusedError, Problem

__all__ = ["RawTable", "read_table", "map_headers", "detect_encoding"]

EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".xlsb", ".ods")


@dataclass(frozen=True)
class RawTable:
    """Cells as text; ``row_numbers`` are the rows as numbered in the file (header = 1)."""

    file_name: str
    frame: pd.DataFrame
    row_numbers: list[int]
    encoding: str | None = None
    sheet: str | None = None
    ragged_rows: tuple[int, ...] = ()  # rows with more cells than the header (extra cells dropped)


def detect_encoding(data: bytes) -> str:
    """UTF-8 with BOM, UTF-8, or GB18030 (a superset of GBK and GB2312, what Excel/WPS write)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        data.decode("gb18030")
        return "gb18030"
    except UnicodeDecodeError as exc:
        raise ValueError(f"neither UTF-8 nor GBK/GB18030 (undecodable byte at offset {exc.start})") from exc


def _problem(path: Path, code: str, message: str, value: str | None = None) -> LoadRefusedError:
    return LoadRefusedError([Problem(path.name, None, None, value, code, message)])


_BLANK = re.compile(rb"[\xef\xbb\xbf \r\n\t]*")


def _read_csv(path: Path, encoding: str | None) -> tuple[pd.DataFrame, str]:
    data = path.read_bytes()
    if _BLANK.fullmatch(data):
        raise _problem(path, "empty_file", "文件是空的")
    try:
        # Detection decodes as UTF-8 to tell it from GB18030; a given encoding is checked the same way.
        text = data.decode(encoding) if encoding else None
        encoding = encoding or detect_encoding(data)
        # Arrow reads UTF-8 bytes as they are: decoding and encoding again cost as much as its
        # parse on a 200,000-row list. Other encodings are transcoded once.
        if _is_utf8(encoding):
            source = data.removeprefix(b"\xef\xbb\xbf")
        else:  # GB18030 has a byte order mark of its own, decoded as U+FEFF
            source = (text if text is not None else data.decode(encoding)).lstrip("\ufeff").encode("utf-8")
    except (ValueError, LookupError) as exc:
        raise _problem(path, "unknown_encoding", f"无法识别文件编码（应为 UTF-8 或 GBK）: {exc}") from exc
    head = source[: 1 << 16].decode("utf-8", errors="ignore")
    try:
        delimiter = csv.Sniffer().sniff(head[:4096], delimiters=",\t;|").delimiter
    except csv.Error:
        delimiter = ","
    # Arrow's CSV reader: ~5× faster than pandas' C parser with object cells on a 200,000-row
    # list. Rows are records as Excel numbers them (a quoted cell spanning lines is one row, a
    # blank line is a row).
    try:
        frame = _read_csv_arrow(source, head, delimiter)
    except pa.ArrowInvalid:
        # A row with more or fewer cells than the first (an unquoted comma in an address): read
        # it with the tolerant csv module; read_table reports the row instead of failing the file.
        rows = list(csv.reader(io.StringIO(source.decode("utf-8")), delimiter=delimiter))
        width = max(map(len, rows), default=0)
        frame = pd.DataFrame([row + [""] * (width - len(row)) for row in rows], dtype=object)
    return frame, encoding


def _is_utf8(encoding: str) -> bool:
    return codecs.lookup(encoding).name in ("utf-8", "utf-8-sig")


def _read_csv_arrow(source: bytes, head: str, delimiter: str) -> pd.DataFrame:
    """Every cell as text ('' when empty), columns numbered; raises ArrowInvalid on ragged rows."""
    first = next(csv.reader(io.StringIO(head), delimiter=delimiter), [])
    names = [str(i) for i in range(max(len(first), 1))]
    table = pacsv.read_csv(
        io.BytesIO(source),
        read_options=pacsv.ReadOptions(column_names=names, block_size=1 << 24),
        parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True, ignore_empty_lines=False),
        convert_options=pacsv.ConvertOptions(
            column_types=dict.fromkeys(names, pa.string()),
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    )
    frame = table.to_pandas()
    frame.columns = range(len(names))
    return frame


def _cell_text(value: object) -> str:
    """An Excel cell as the text a user sees: 12.0 → '12', dates as ISO, None → ''."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)


def _read_excel(path: Path, sheet: str | None) -> tuple[pd.DataFrame, str]:
    from python_calamine import CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_path(str(path))
        name = sheet or workbook.sheet_names[0]
        if name not in workbook.sheet_names:
            raise _problem(
                path, "unknown_sheet", f"没有名为 {name!r} 的工作表（有: {', '.join(workbook.sheet_names)}）", name
            )
        rows = workbook.get_sheet_by_name(name).to_python(skip_empty_area=False)
    except LoadRefusedError:
        raise
    except Exception as exc:  # calamine raises its own error types for corrupt or truncated files
        raise _problem(path, "unreadable_file", f"无法读取 Excel 文件（文件可能已损坏或不完整）: {exc}") from exc
    # Most cells are text already: convert only the others (a 20,000-row list has ~500k cells).
    return pd.DataFrame([[v if type(v) is str else _cell_text(v) for v in row] for row in rows], dtype=object), name


def read_table(path: Path, *, sheet: str | None = None, encoding: str | None = None) -> RawTable:
    """Read ``path`` as a header row plus data rows of text; blank rows are skipped."""
    if not path.is_file():
        raise _problem(path, "file_not_found", "文件不存在")
    is_excel = path.suffix.lower() in EXCEL_SUFFIXES
    raw, detail = _read_excel(path, sheet) if is_excel else _read_csv(path, encoding)
    # Arrow-backed text: the string checks below and in the loaders run vectorised.
    raw = raw.fillna("").astype("str").apply(lambda column: column.str.strip())
    nonblank = (raw != "").any(axis=1).to_numpy()
    if not nonblank.any():
        raise _problem(path, "empty_file", "文件是空的")
    row_numbers = (raw.index[nonblank] + 1).tolist()  # as numbered in the file / sheet
    raw = raw[nonblank]
    header = [str(h).lstrip("\ufeff").strip() for h in raw.iloc[0]]
    if len(raw) == 1:
        raise _problem(path, "no_rows", "文件只有表头，没有数据行")
    width = max((i + 1 for i, h in enumerate(header) if h), default=0)
    beyond = raw.iloc[1:, width:]
    ragged = tuple(np.asarray(row_numbers[1:])[(beyond != "").any(axis=1).to_numpy()].tolist())
    raw = raw.iloc[:, :width]
    header = header[:width]
    frame = raw.iloc[1:].reset_index(drop=True)
    frame.columns = _unique(header)
    frame = frame.loc[:, [bool(h) or bool((frame[c] != "").any()) for h, c in zip(header, frame.columns, strict=True)]]
    return RawTable(
        path.name,
        frame,
        row_numbers[1:],
        encoding=None if is_excel else detail,
        sheet=detail if is_excel else None,
        ragged_rows=ragged,
    )


def _unique(header: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for i, name in enumerate(header):
        name = name or f"未命名列{i + 1}"
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name}.{seen[name]}")
    return out


def map_headers(
    columns: list[str], synonyms: dict[str, tuple[str, ...]], explicit: dict[str, str] | None = None
) -> dict[str, str]:
    """Field → file column, by explicit mapping first, then by recognised header (case- and
    space-insensitive). Fields not found are absent from the result."""
    explicit = explicit or {}
    normalised = {_norm(c): c for c in columns}
    mapping = {field: column for field, column in explicit.items() if column in columns}
    for field, names in synonyms.items():
        if field in mapping or field in explicit:
            continue
        found = next((normalised[_norm(n)] for n in (field, *names) if _norm(n) in normalised), None)
        if found is not None:
            mapping[field] = found
    return mapping


def _norm(header: str) -> str:
    return "".join(header.split()).lower().replace("（", "(").replace("）", ")")
