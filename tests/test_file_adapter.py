"""CSV and Excel files as KPI data: real files written to disk, read as users write them."""

from __future__ import annotations

import hashlib
import io
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest
from pydantic import ValidationError

from goalgraph.adapters import AdapterError, FileAdapter, FileConfig, Reading, parse_table
from goalgraph.adapters.contract import Batch, Cursor, Rejection

STORES = FileConfig(
    subject_column="门店编码",
    period_column="日期",
    values={"销售额": "pos.sales", "客流量": "door.visitors"},
)

STORE_CSV = (
    "门店编码,日期,销售额,客流量\r\n"
    "SH001,2026-11-27,61000.5,320\r\n"
    'SH002,2026/11/28,"72,000",415\r\n'
)

STORE_READINGS = [
    Reading("pos.sales", "SH001", date(2026, 11, 27), 61000.5, "line 2"),
    Reading("door.visitors", "SH001", date(2026, 11, 27), 320.0, "line 2"),
    Reading("pos.sales", "SH002", date(2026, 11, 28), 72000.0, "line 3"),
    Reading("door.visitors", "SH002", date(2026, 11, 28), 415.0, "line 3"),
]


def _parse_file(path: Path, config: FileConfig) -> Batch:
    return parse_table(path.read_bytes(), config, path.name)


async def _all(adapter: FileAdapter, cursor: Cursor | None) -> list[Batch]:
    return [batch async for batch in adapter.batches(cursor)]


def _workbook_bytes(book: openpyxl.Workbook) -> bytes:
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_a_gbk_csv_from_chinese_excel_is_read_with_encoding_auto(tmp_path: Path) -> None:
    path = tmp_path / "门店日报.csv"
    path.write_bytes(STORE_CSV.encode("gbk"))

    batch = _parse_file(path, STORES)

    assert batch.readings == STORE_READINGS
    assert batch.rejected == []


def test_a_utf8_csv_with_a_bom_is_read_with_encoding_auto(tmp_path: Path) -> None:
    path = tmp_path / "stores.csv"
    path.write_bytes(STORE_CSV.encode("utf-8-sig"))

    batch = _parse_file(path, STORES)

    assert batch.readings == STORE_READINGS


def test_a_wrong_explicit_encoding_names_the_encoding_and_line(tmp_path: Path) -> None:
    path = tmp_path / "stores.csv"
    path.write_bytes(STORE_CSV.encode("gbk"))

    with pytest.raises(AdapterError, match=r"not valid utf-8 text: line 1 has byte 0xc3"):
        _parse_file(path, STORES.model_copy(update={"encoding": "utf-8"}))


def test_an_explicit_encoding_is_used_as_given(tmp_path: Path) -> None:
    path = tmp_path / "stores.csv"
    path.write_bytes(STORE_CSV.encode("gbk"))

    batch = _parse_file(path, STORES.model_copy(update={"encoding": "GBK"}))

    assert batch.readings == STORE_READINGS


def test_configs_with_an_unknown_encoding_or_long_delimiter_are_refused() -> None:
    with pytest.raises(ValidationError, match="unknown encoding 'gbk2'"):
        FileConfig(encoding="gbk2")
    with pytest.raises(ValidationError, match="delimiter must be one character"):
        FileConfig(delimiter=";;")
    with pytest.raises(ValidationError, match="extra"):
        FileConfig.model_validate({"paht": "/data/x.csv"})


def test_an_xlsx_with_date_cells_text_dates_and_numbers(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    notes = book.active
    notes.title = "说明"
    notes.append(["这一页不是数据"])
    sheet = book.create_sheet("Sheet1")
    sheet.append(["门店编码", "日期", "销售额", "客流量"])
    sheet.append(["SH001", date(2026, 11, 27), 61000.5, 320])
    sheet.append([1002, datetime(2026, 11, 28, 21, 30), "72,000", 415])
    sheet.append(["SH003", "2026年11月28日", 58000, "12.5%"])
    sheet.append([])
    sheet.append(["SH004", "2026.11.29", 0.125, 300])
    sheet["C6"].number_format = "0.0%"  # shown as 12.5%: read as its CSV export would be
    path = tmp_path / "门店日报.xlsx"
    path.write_bytes(_workbook_bytes(book))

    batch = _parse_file(path, STORES.model_copy(update={"sheet": "Sheet1"}))

    def row(n: int) -> str:
        return f"sheet 'Sheet1' row {n}"

    assert batch.readings == [
        Reading("pos.sales", "SH001", date(2026, 11, 27), 61000.5, row(2)),
        Reading("door.visitors", "SH001", date(2026, 11, 27), 320.0, row(2)),
        Reading("pos.sales", "1002", date(2026, 11, 28), 72000.0, row(3)),
        Reading("door.visitors", "1002", date(2026, 11, 28), 415.0, row(3)),
        Reading("pos.sales", "SH003", date(2026, 11, 28), 58000.0, row(4)),
        Reading("door.visitors", "SH003", date(2026, 11, 28), 12.5, row(4)),
        Reading("pos.sales", "SH004", date(2026, 11, 29), 12.5, row(6)),
        Reading("door.visitors", "SH004", date(2026, 11, 29), 300.0, row(6)),
    ]
    assert batch.rejected == []


def test_an_xlsx_without_a_sheet_name_reads_the_first_sheet_and_serials_are_refused() -> None:
    book = openpyxl.Workbook()
    book.active.title = "日报"
    book.active.append(["subject", "period", "metric", "value"])
    book.active.append(["SH001", 46353, "pos.sales", 1])
    book.active.append(["SH001", date(2026, 11, 27), "pos.sales", None])
    book.create_sheet("Other").append(["nothing", "here"])

    batch = parse_table(_workbook_bytes(book), FileConfig())  # no name: known by its content

    assert batch.readings == []
    assert batch.rejected == [
        Rejection(
            "sheet '日报' row 2",
            "period is a number, not a date: 46353 (Excel serial dates are not guessed; "
            "format the column as dates or write 2026-11-28)",
            '{"subject": "SH001", "period": 46353, "metric": "pos.sales", "value": 1}',
        ),
        Rejection(
            "sheet '日报' row 3",
            "no value",
            '{"subject": "SH001", "period": "2026-11-27 00:00:00", '
            '"metric": "pos.sales", "value": null}',
        ),
    ]


def test_an_unknown_sheet_lists_the_sheets() -> None:
    book = openpyxl.Workbook()
    book.active.title = "日报"

    with pytest.raises(AdapterError, match=r"no sheet '周报'; the workbook has '日报'"):
        parse_table(_workbook_bytes(book), FileConfig(sheet="周报"), "x.xlsx")


def test_bad_rows_are_rejected_with_their_line_while_good_rows_are_read(tmp_path: Path) -> None:
    path = tmp_path / "stores.csv"
    path.write_text(
        "门店编码,日期,销售额,客流量\n"  # line 1
        "SH001,2026-11-27,61000.5,320\n"  # line 2
        "\n"  # line 3: blank lines are skipped silently
        ",,,\n"  # line 4: so are lines of empty cells
        "SH002,2026-13-01,1,2\n"  # line 5: no such month
        "SH003,2026-11-27,很多,2\n"  # line 6: text value
        "SH004,2026-11-27,,418\n"  # line 7: blank sales: only that measure is refused
        '"SH005\n(新店)",2026-11-27,5,6\n'  # lines 8-9: one record over two lines
        ",2026-11-27,5,6\n"  # line 10: no store
        "SH006,,5,6\n"  # line 11: no date
        "SH007,2026-11-27,NaN,inf\n"  # line 12
        "SH008,46353,5,6\n"  # line 13: a serial number is not guessed
        "SH009,2026-11-28,5\n",  # line 14: a short row; the missing cell is blank
        encoding="utf-8",
    )

    batch = _parse_file(path, STORES)

    assert batch.readings == [
        Reading("pos.sales", "SH001", date(2026, 11, 27), 61000.5, "line 2"),
        Reading("door.visitors", "SH001", date(2026, 11, 27), 320.0, "line 2"),
        Reading("door.visitors", "SH003", date(2026, 11, 27), 2.0, "line 6"),
        Reading("door.visitors", "SH004", date(2026, 11, 27), 418.0, "line 7"),
        Reading("pos.sales", "SH005\n(新店)", date(2026, 11, 27), 5.0, "line 8"),
        Reading("door.visitors", "SH005\n(新店)", date(2026, 11, 27), 6.0, "line 8"),
        Reading("pos.sales", "SH009", date(2026, 11, 28), 5.0, "line 14"),
    ]
    assert [(r.ref, r.reason) for r in batch.rejected] == [
        ("line 5", "日期 is not a date: '2026-13-01'"),
        ("line 6", "销售额: not a number: '很多'"),
        ("line 7", "销售额: no value"),
        ("line 10", "no 门店编码"),
        ("line 11", "no 日期"),
        ("line 12", "销售额: not a finite number: 'NaN'"),
        ("line 12", "客流量: not a finite number: 'inf'"),
        (
            "line 13",
            "日期 is a number, not a date: '46353' (Excel serial dates are not guessed; "
            "format the column as dates or write 2026-11-28)",
        ),
        ("line 14", "客流量: no value"),
    ]
    assert batch.rejected[0].content == (
        '{"门店编码": "SH002", "日期": "2026-13-01", "销售额": "1", "客流量": "2"}'
    )


def test_long_rows_are_shortened_in_rejections(tmp_path: Path) -> None:
    path = tmp_path / "stores.csv"
    path.write_text("subject,period,metric,value,note\nSH001,someday,pos.sales,1," + "长" * 600)

    (rejection,) = _parse_file(path, FileConfig()).rejected

    assert rejection.reason == "period is not a date: 'someday'"
    assert len(rejection.content) == 500
    assert rejection.content.endswith("长长...")


def test_one_metric_per_row_with_loose_headers_dates_and_numbers(tmp_path: Path) -> None:
    path = tmp_path / "kpis.txt"
    path.write_text(
        " Subject ;PERIOD;Metric\u3000;value\n"
        "SH001;2026-11-27;pos.sales;1,234.5\n"
        "SH001;2026/1/5;pos.conversion;12.5%\n"
        "SH001;2026.11.28 08:00:00;pos.sales;１２３\n"
        "SH001;2026年11月29日;pos.sales;-7\n"
        "SH001;2026-11-30;;7\n",
        encoding="utf-8",
    )

    batch = _parse_file(path, FileConfig(delimiter=";"))

    assert batch.readings == [
        Reading("pos.sales", "SH001", date(2026, 11, 27), 1234.5, "line 2"),
        Reading("pos.conversion", "SH001", date(2026, 1, 5), 12.5, "line 3"),
        Reading("pos.sales", "SH001", date(2026, 11, 28), 123.0, "line 4"),
        Reading("pos.sales", "SH001", date(2026, 11, 29), -7.0, "line 5"),
    ]
    assert [(r.ref, r.reason) for r in batch.rejected] == [("line 6", "no Metric")]


def test_a_missing_mapped_column_names_it_and_lists_the_headers(tmp_path: Path) -> None:
    path = tmp_path / "stores.csv"
    path.write_text("门店编码,日期,销售额,来客数\nSH001,2026-11-27,1,2\n", encoding="utf-8")

    with pytest.raises(AdapterError) as raised:
        _parse_file(path, STORES)

    assert str(raised.value) == (
        "missing column(s) '客流量'; the headers found are: '门店编码', '日期', '销售额', '来客数'"
    )


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.csv", b"\n\n", "the file is empty: no header row was found"),
        ("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 64, r"\.xls\) cannot be read"),
        ("fake.xlsx", b"subject,period\n", "not a readable xlsx workbook"),
        ("x.csv", b"subject,period,period,metric,value\n", "'period' appear more than once"),
        ("x.csv", b"\xff\xfe\x00\x81", "neither UTF-8 nor GB18030"),
    ],
)
def test_unreadable_files_fail_as_a_whole(name: str, content: bytes, message: str) -> None:
    with pytest.raises(AdapterError, match=message):
        parse_table(content, FileConfig(), name)


async def test_a_sync_reads_a_file_once_until_it_changes(tmp_path: Path) -> None:
    path = tmp_path / "门店日报.csv"
    path.write_bytes(STORE_CSV.encode("gbk"))
    adapter = FileAdapter(STORES.model_copy(update={"path": str(path)}), files=tmp_path)

    (first,) = await _all(adapter, None)
    again = await _all(adapter, first.cursor)
    path.write_bytes((STORE_CSV + "SH003,2026-11-29,100,10\r\n").encode("gbk"))
    (changed,) = await _all(adapter, first.cursor)

    assert first.readings == STORE_READINGS
    assert first.cursor == {"sha256": hashlib.sha256(STORE_CSV.encode("gbk")).hexdigest()}
    assert again == []
    assert changed.readings == [
        *STORE_READINGS,
        Reading("pos.sales", "SH003", date(2026, 11, 29), 100.0, "line 4"),
        Reading("door.visitors", "SH003", date(2026, 11, 29), 10.0, "line 4"),
    ]
    assert changed.cursor == {"sha256": hashlib.sha256(path.read_bytes()).hexdigest()}


async def test_a_large_file_comes_in_batches_of_1000_with_the_cursor_on_the_last(
    tmp_path: Path,
) -> None:
    path = tmp_path / "big.csv"
    lines = [f"E{n:04d},2026-11-27,attendance.hours,{n}" for n in range(2_500)]
    path.write_text("subject,period,metric,value\n" + "\n".join(lines) + "\n")
    adapter = FileAdapter(FileConfig(path=str(path)), files=tmp_path)
    before: Cursor = {"sha256": "the previous file"}

    batches = await _all(adapter, before)

    assert [len(b.readings) for b in batches] == [1_000, 1_000, 500]
    assert [b.cursor for b in batches[:2]] == [before, before]
    assert batches[2].cursor == {"sha256": hashlib.sha256(path.read_bytes()).hexdigest()}
    assert batches[0].readings[0] == Reading(
        "attendance.hours", "E0000", date(2026, 11, 27), 0.0, "line 2"
    )
    assert batches[2].readings[-1] == Reading(
        "attendance.hours", "E2499", date(2026, 11, 27), 2499.0, "line 2501"
    )


async def test_a_file_of_bad_rows_still_moves_the_cursor(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("subject,period,metric,value\nSH001,soon,pos.sales,1\n")

    (batch,) = await _all(FileAdapter(FileConfig(path=str(path)), files=tmp_path), None)

    assert batch.readings == []
    assert batch.rejected == [
        Rejection(
            "line 2",
            "period is not a date: 'soon'",
            '{"subject": "SH001", "period": "soon", "metric": "pos.sales", "value": "1"}',
        )
    ]
    assert batch.cursor == {"sha256": hashlib.sha256(path.read_bytes()).hexdigest()}


async def test_a_sync_without_a_readable_path_fails(tmp_path: Path) -> None:
    with pytest.raises(AdapterError, match="no path is configured"):
        await _all(FileAdapter(FileConfig(), files=tmp_path), None)
    with pytest.raises(AdapterError, match=r"cannot read .*missing\.csv"):
        await _all(
            FileAdapter(FileConfig(path=str(tmp_path / "missing.csv")), files=tmp_path), None
        )


async def test_a_sync_reads_only_inside_the_tenant_import_folder(tmp_path: Path) -> None:
    (tmp_path / "acme").mkdir()
    outside = tmp_path / "secret.csv"
    outside.write_text("subject,period,metric,value\ns1,2026-11-28,m,1\n", encoding="utf-8")
    with pytest.raises(AdapterError, match="leads out of this tenant's import folder"):
        await _all(FileAdapter(FileConfig(path="../secret.csv"), files=tmp_path / "acme"), None)
    with pytest.raises(AdapterError, match="leads out"):
        await _all(FileAdapter(FileConfig(path=str(outside)), files=tmp_path / "acme"), None)
    with pytest.raises(AdapterError, match="file syncs are off here"):
        await _all(FileAdapter(FileConfig(path="secret.csv")), None)
