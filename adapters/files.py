"""Reading KPI data from CSV and Excel files.

Many stores, plants and HR teams have no API: their figures live in spreadsheets that
someone exports every day or week. ``parse_table`` reads such a file as it is — a CSV
in UTF-8 (with or without the BOM Excel writes) or in GB18030/GBK (what Excel on a
Chinese Windows saves), or an ``.xlsx`` workbook — with the column names the company
already uses, mapped in the configuration (``{"销售额": "pos.sales"}``). Every bad row
is reported with the line or row number a person sees in Excel or a text editor and
with why it was refused, and the good rows are still read, so one typo does not hold
back a whole store's month.

``FileAdapter`` syncs a file on the server on a schedule. Its cursor is the file's
SHA-256: an unchanged file is not read again, a changed one is read whole (values are
upserts per KPI and period, so rows read twice are never counted twice).
"""

from __future__ import annotations

import asyncio
import codecs
import csv
import hashlib
import io
import json
import re
import unicodedata
import zipfile
from collections.abc import AsyncIterator, Generator, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path, PurePath
from typing import Any, ClassVar, Literal

import openpyxl
from openpyxl.utils.exceptions import InvalidFileException
from pydantic import Field, field_validator

from .contract import (
    AdapterConfig,
    AdapterError,
    Batch,
    Cursor,
    DataAdapter,
    Reading,
    Rejection,
    as_number,
)

#: Most readings one batch carries: the runner stores a batch in one transaction.
CHUNK_SIZE = 1_000

#: The start of every zip file, and so of every ``.xlsx`` workbook.
ZIP_MAGIC = b"PK"
#: The start of an OLE2 compound file: an Excel 97-2003 ``.xls`` workbook.
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

_ISO_LIKE = re.compile(
    r"(?P<y>\d{4})(?P<sep>[-/.])(?P<m>\d{1,2})(?P=sep)(?P<d>\d{1,2})"
    r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
)
_CHINESE = re.compile(r"(?P<y>\d{4})年(?P<m>\d{1,2})月(?P<d>\d{1,2})日")


class FileConfig(AdapterConfig):
    """Where the file is, how to read it, and which columns hold what."""

    path: str | None = Field(default=None, description="A file on the server (scheduled syncs).")
    format: Literal["auto", "csv", "xlsx"] = "auto"
    encoding: str = Field(default="auto", description="auto: UTF-8 (BOM or not), else GB18030.")
    sheet: str | None = Field(default=None, description="xlsx: the sheet (None: the first).")
    delimiter: str = ","
    #: None: no subject column (a file for one KPI, imported with ``--kpi``).
    subject_column: str | None = "subject"
    period_column: str = "period"
    metric_column: str = "metric"
    value_column: str = "value"
    #: One column per measure: column → metric (one reading per column). When given,
    #: ``metric_column`` and ``value_column`` are not used.
    values: dict[str, str] = Field(default_factory=dict)

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, encoding: str) -> str:
        if encoding != "auto":
            try:
                codecs.lookup(encoding)
            except LookupError:
                raise ValueError(f"unknown encoding {encoding!r}") from None
        return encoding

    @field_validator("delimiter")
    @classmethod
    def _one_character(cls, delimiter: str) -> str:
        if len(delimiter) != 1:
            raise ValueError("delimiter must be one character (use \\t for tabs)")
        return delimiter

    @field_validator("values")
    @classmethod
    def _named_metrics(cls, values: dict[str, str]) -> dict[str, str]:
        for column, metric in values.items():
            if not column.strip() or not metric.strip():
                raise ValueError("values maps non-empty column names to non-empty metric codes")
        return values


@dataclass(frozen=True, slots=True)
class _Column:
    """A mapped column: its position and its header as the file spells it."""

    index: int
    name: str


@dataclass(frozen=True, slots=True)
class _Row:
    """One line of a CSV or row of a sheet: where it is, and its cells."""

    ref: str
    cells: tuple[object, ...]

    def cell(self, column: _Column) -> object:
        """The cell under ``column``; None past the end of a short row."""
        return self.cells[column.index] if column.index < len(self.cells) else None


@dataclass(frozen=True, slots=True)
class _Measure:
    """Where one reading's value is, and its metric: a code, or the column naming it."""

    value: _Column
    metric: str | _Column


@dataclass(frozen=True, slots=True)
class _Layout:
    """The mapped columns found in the header row."""

    header: tuple[str, ...]
    subject: _Column | None
    period: _Column
    measures: tuple[_Measure, ...]


def parse_table(data: bytes, config: FileConfig, filename: str = "") -> Batch:
    """The readings of a CSV or xlsx file, and its rows that could not be used (with why).

    The first non-blank row is the header; completely blank rows are skipped. Raises
    ``AdapterError`` when the file as a whole cannot be read: an unknown format, bytes
    that are not in the given encoding, a mapped column missing from the header.
    """
    kind = _format_of(data, config, filename)
    rows = _xlsx_rows(data, config.sheet) if kind == "xlsx" else _csv_rows(data, config)
    batch = Batch()
    with closing(rows):
        layout: _Layout | None = None
        for row in rows:
            if all(_blank(cell) for cell in row.cells):
                continue
            if layout is None:
                layout = _layout(row.cells, config)
                continue
            readings, rejected = _read_row(row, layout)
            batch.readings.extend(readings)
            batch.rejected.extend(rejected)
    if layout is None:
        raise AdapterError("the file is empty: no header row was found")
    return batch


def _format_of(data: bytes, config: FileConfig, filename: str) -> Literal["csv", "xlsx"]:
    """The configured format, else the file name's, else what the content looks like."""
    if config.format != "auto":
        return config.format
    suffix = PurePath(filename).suffix.lower()
    if suffix == ".xls" or data.startswith(OLE_MAGIC):
        raise AdapterError(
            "Excel 97-2003 workbooks (.xls) cannot be read; save the file as .xlsx or CSV"
        )
    if suffix in {".xlsx", ".xlsm"}:
        return "xlsx"
    if suffix in {".csv", ".tsv", ".txt"}:
        return "csv"
    return "xlsx" if data.startswith(ZIP_MAGIC) else "csv"


def _decode(data: bytes, encoding: str) -> str:
    """The file's text. ``auto`` tries UTF-8 (a BOM or not), then GB18030, which covers
    GBK and GB2312: the encodings Excel uses for CSV on Chinese Windows."""
    if encoding != "auto":
        return _decode_as(data, encoding).removeprefix("\ufeff")
    if data.startswith(codecs.BOM_UTF8):
        return _decode_as(data[len(codecs.BOM_UTF8) :], "utf-8")
    for candidate in ("utf-8", "gb18030"):
        try:
            return data.decode(candidate)
        except UnicodeDecodeError:
            continue
    raise AdapterError("the file is neither UTF-8 nor GB18030 (GBK) text; set its encoding")


def _decode_as(data: bytes, encoding: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        byte = data[exc.start : exc.start + 1].hex()
        raise AdapterError(
            f"the file is not valid {encoding} text: line {line} has byte 0x{byte} "
            f"at offset {exc.start}; check the encoding setting"
        ) from None


def _csv_rows(data: bytes, config: FileConfig) -> Generator[_Row, None, None]:
    """CSV records with the text line each starts on (a quoted cell may span lines)."""
    text = _decode(data, config.encoding)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=config.delimiter)
    line = 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise AdapterError(f"line {reader.line_num}: not readable as CSV: {exc}") from None
        yield _Row(f"line {line}", tuple(cells))
        line = reader.line_num + 1


def _xlsx_rows(data: bytes, sheet: str | None) -> Generator[_Row, None, None]:
    """The rows of one sheet, numbered as Excel numbers them (gaps included)."""
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError) as exc:
        raise AdapterError(f"not a readable xlsx workbook: {exc}") from None
    try:
        worksheet = _sheet(book, sheet)
        worksheet.reset_dimensions()  # some writers record a wrong size; read every row
        where = f"sheet {worksheet.title!r} row"
        for number, cells in enumerate(worksheet.iter_rows(min_row=1), start=1):
            yield _Row(f"{where} {number}", tuple(_cell_value(cell) for cell in cells))
    finally:
        book.close()


def _sheet(book: Any, name: str | None) -> Any:
    """The named sheet (matched like headers), or the first one."""
    sheets = book.worksheets
    if not sheets:
        raise AdapterError("the workbook has no worksheet")
    if name is None:
        return sheets[0]
    for candidate in sheets:
        if _key(candidate.title) == _key(name):
            return candidate
    titles = ", ".join(repr(s.title) for s in sheets)
    raise AdapterError(f"no sheet {name!r}; the workbook has {titles}")


def _cell_value(cell: Any) -> object:
    """A cell's value; a percentage cell as the number shown (12.5% → 12.5, not 0.125),
    so a sheet and its CSV export give the same readings."""
    value = cell.value
    numeric = isinstance(value, int | float) and not isinstance(value, bool)
    if numeric and not cell.is_date and "%" in (cell.number_format or ""):
        return float(Decimal(repr(value)).scaleb(2))
    return value


def _key(header: str) -> str:
    """How headers are compared: full-width forms folded, spaces trimmed, any case."""
    return " ".join(unicodedata.normalize("NFKC", header).split()).casefold()


def _text(cell: object) -> str:
    return "" if cell is None else str(cell).strip()


def _blank(cell: object) -> bool:
    return _text(cell) == ""


def _layout(cells: Sequence[object], config: FileConfig) -> _Layout:
    """Find the mapped columns in the header row; AdapterError names the missing ones."""
    header = tuple(_text(cell) for cell in cells)
    positions: dict[str, list[int]] = {}
    for index, name in enumerate(header):
        positions.setdefault(_key(name), []).append(index)
    wanted = [config.period_column]
    if config.subject_column is not None:
        wanted.insert(0, config.subject_column)
    wanted += list(config.values) if config.values else [config.metric_column, config.value_column]
    missing = [name for name in wanted if _key(name) not in positions]
    if missing:
        found = ", ".join(repr(name) for name in header if name) or "none"
        raise AdapterError(
            f"missing column(s) {', '.join(map(repr, missing))}; the headers found are: {found}"
        )
    twice = [name for name in wanted if len(positions[_key(name)]) > 1]
    if twice:
        raise AdapterError(f"column(s) {', '.join(map(repr, twice))} appear more than once")

    def column(name: str) -> _Column:
        index = positions[_key(name)][0]
        return _Column(index, header[index])

    measures = (
        tuple(_Measure(column(name), metric) for name, metric in config.values.items())
        if config.values
        else (_Measure(column(config.value_column), column(config.metric_column)),)
    )
    subject = column(config.subject_column) if config.subject_column is not None else None
    return _Layout(header, subject, column(config.period_column), measures)


def _read_row(row: _Row, layout: _Layout) -> tuple[list[Reading], list[Rejection]]:
    """The row's readings, one per measure, and a rejection for each that failed.

    A bad subject or period refuses the whole row once; a bad value refuses only its
    measure.
    """
    try:
        subject = (
            _subject(row.cell(layout.subject), layout.subject.name)
            if layout.subject is not None
            else ""
        )
        period = _period(row.cell(layout.period), layout.period.name)
    except ValueError as exc:
        return [], [Rejection(row.ref, str(exc), _show(row, layout.header))]
    readings: list[Reading] = []
    rejected: list[Rejection] = []
    for measure in layout.measures:
        try:
            metric, value = _measure(row, measure)
        except ValueError as exc:
            rejected.append(Rejection(row.ref, str(exc), _show(row, layout.header)))
        else:
            readings.append(Reading(metric, subject, period, value, row.ref))
    return readings, rejected


def _measure(row: _Row, measure: _Measure) -> tuple[str, float]:
    """One measure's metric and value, or ValueError; with one column per measure the
    reason names the column, as a row then has several values that can be wrong."""
    if isinstance(measure.metric, str):
        try:
            return measure.metric, _number(row.cell(measure.value))
        except ValueError as exc:
            raise ValueError(f"{measure.value.name}: {exc}") from None
    metric = _text(row.cell(measure.metric))
    if not metric:
        raise ValueError(f"no {measure.metric.name}")
    return metric, _number(row.cell(measure.value))


def _subject(cell: object, column: str) -> str:
    """A store code or employee number as written (Excel stores 1001 as a number)."""
    if isinstance(cell, float) and cell.is_integer():
        cell = int(cell)
    subject = _text(cell)
    if not subject:
        raise ValueError(f"no {column}")
    return subject


def _period(cell: object, column: str) -> date:
    """A day from a date cell or date text; numbers are refused rather than guessed
    (an Excel serial number, a year, a store code in the wrong column look alike)."""
    if isinstance(cell, datetime):
        return cell.date()
    if isinstance(cell, date):
        return cell
    if _blank(cell):
        raise ValueError(f"no {column}")
    text = unicodedata.normalize("NFKC", str(cell)).strip()
    match = _ISO_LIKE.fullmatch(text) or _CHINESE.fullmatch(text)
    if match:
        try:
            return date(int(match["y"]), int(match["m"]), int(match["d"]))
        except ValueError:
            pass
    if _looks_numeric(text):
        raise ValueError(
            f"{column} is a number, not a date: {cell!r} (Excel serial dates are not "
            "guessed; format the column as dates or write 2026-11-28)"
        )
    raise ValueError(f"{column} is not a date: {cell!r}")


def _looks_numeric(text: str) -> bool:
    try:
        as_number(text)
    except ValueError:
        return False
    return True


def _number(cell: object) -> float:
    """A finite value from a numeric cell or text: ``1,234.5``, ``12.5%`` (→ 12.5)."""
    if _blank(cell):
        raise ValueError("no value")
    if isinstance(cell, str):
        text = unicodedata.normalize("NFKC", cell).strip()
        return as_number(text.removesuffix("%"))
    return as_number(cell)


def _show(row: _Row, header: Sequence[str]) -> str:
    """The row as header → cell, shortened to 500 characters for the rejection list."""
    cells = row.cells
    named = {
        (header[i] if i < len(header) and header[i] else f"column {i + 1}"): (
            cells[i] if i < len(cells) else None
        )
        for i in range(max(len(header), len(cells)))
    }
    text = json.dumps(named, ensure_ascii=False, default=str)
    return text if len(text) <= 500 else text[:497] + "..."


def chunked(batch: Batch, size: int = CHUNK_SIZE) -> list[Batch]:
    """The batch cut into batches of at most ``size`` readings (and rejections), in
    order; at least one, so an empty file still moves the cursor."""
    count = max(len(batch.readings), len(batch.rejected), 1)
    return [
        Batch(batch.readings[start : start + size], batch.rejected[start : start + size])
        for start in range(0, count, size)
    ]


def _read(path: str) -> tuple[bytes, str]:
    """The file's bytes and their SHA-256 (run in a thread: files can be large)."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise AdapterError(f"cannot read {path}: {exc.strerror or exc}") from None
    return data, hashlib.sha256(data).hexdigest()


class FileAdapter(DataAdapter):
    """Readings from a CSV or xlsx file on the server (see the module docstring)."""

    name: ClassVar[str] = "file"
    title: ClassVar[dict[str, str]] = {"zh": "CSV / Excel 文件", "en": "CSV / Excel file"}
    metrics: ClassVar[dict[str, str]] = {}
    Config: ClassVar[type[AdapterConfig]] = FileConfig

    @property
    def settings(self) -> FileConfig:
        assert isinstance(self.config, FileConfig)
        return self.config

    async def batches(self, cursor: Cursor | None) -> AsyncIterator[Batch]:
        """Nothing when the file is unchanged since ``cursor``; else all of it, in chunks.

        Only the last chunk carries the new cursor, so a sync stopped halfway reads the
        file again next time instead of skipping its unread rows. The file must lie in
        the tenant's import folder (``GOALGRAPH_IMPORT_DIR/<tenant>/``): a binding can
        never read any other file of the server.
        """
        if self.settings.path is None:
            raise AdapterError(f"{self.name}: no path is configured to sync from")
        path = str(inside(self.files, self.settings.path))
        data, digest = await asyncio.to_thread(_read, path)
        if _same_file(cursor, digest):
            return
        parsed = await asyncio.to_thread(parse_table, data, self.settings, path)
        chunks = chunked(parsed)
        for chunk in chunks[:-1]:
            chunk.cursor = cursor
            yield chunk
        last = chunks[-1]
        last.cursor = {"sha256": digest}
        yield last


def inside(root: Path | None, relative: str) -> Path:
    """``relative`` within ``root``, refused when file syncs are off or it leads out."""
    if root is None:
        raise AdapterError("file syncs are off here: set GOALGRAPH_IMPORT_DIR on the server")
    base = root.resolve()
    found = (base / relative).resolve()
    if not found.is_relative_to(base):
        raise AdapterError(f"path {relative!r} leads out of this tenant's import folder")
    return found


def _same_file(cursor: Mapping[str, Any] | None, digest: str) -> bool:
    return cursor is not None and cursor.get("sha256") == digest
