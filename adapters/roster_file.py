"""A roster file (花名册) → roster rows: CSV (UTF-8, UTF-8 with BOM, GBK/GB18030) or
``.xlsx``, read the way ``files.py`` reads KPI exports.

HR teams keep the roster in Excel with Chinese headers; exports from HR systems use
English ones. Both are accepted, matched without regard to case, spaces, full-width
forms or underscores:

| column | headers | required |
|---|---|---|
| employee_no | 工号, employee_no | yes |
| name | 姓名, name | yes |
| department | 部门, department (``华北区/石家庄长安店``) | yes |
| name_en | 英文名, name_en | |
| manager_no | 上级工号, manager_no | |
| email | 邮箱, email | |
| title | 职位, title | |
| role | 角色, role | |
| external_id | 外部ID, external_id | |

Line numbers are the ones a person sees: the header is line 1 of a file that starts
with it, and a CSV record spanning lines is numbered by its first line. What the rows
mean, and which are bad, is for ``core/roster.py`` to say.
"""

from __future__ import annotations

import unicodedata
from contextlib import closing
from dataclasses import dataclass

from ..core.roster import RosterRow
from .contract import AdapterError
from .files import FileConfig, _csv_rows, _format_of, _key, _text, _xlsx_rows


@dataclass(frozen=True, slots=True)
class _Column:
    field: str
    headers: tuple[str, ...]
    required: bool


COLUMNS: tuple[_Column, ...] = (
    _Column("employee_no", ("工号", "employee_no"), True),
    _Column("name", ("姓名", "name"), True),
    _Column("name_en", ("英文名", "name_en"), False),
    _Column("department", ("部门", "department"), True),
    _Column("manager_no", ("上级工号", "manager_no"), False),
    _Column("email", ("邮箱", "email"), False),
    _Column("title", ("职位", "title"), False),
    _Column("role", ("角色", "role"), False),
    _Column("external_id", ("外部ID", "external_id"), False),
)


def _header_key(header: str) -> str:
    """Headers compare like ``files.py``'s, with ``_`` and ``-`` read as spaces."""
    return _key(header.replace("_", " ").replace("-", " "))


_BY_HEADER = {_header_key(h): column for column in COLUMNS for h in column.headers}


def read_roster(
    data: bytes, filename: str = "", *, encoding: str = "auto", sheet: str | None = None
) -> list[RosterRow]:
    """The roster rows of a CSV or xlsx file; blank rows are skipped.

    Raises ``AdapterError`` when the file as a whole cannot be read: an unknown format
    or encoding, no header row, a required column missing (named, with the headers
    the file has), a column given twice.
    """
    try:
        config = FileConfig(encoding=encoding, sheet=sheet)
    except ValueError as exc:
        raise AdapterError(f"unknown encoding {encoding!r}") from exc
    kind = _format_of(data, config, filename)
    records = _xlsx_rows(data, sheet) if kind == "xlsx" else _csv_rows(data, config)
    positions: dict[str, int] | None = None
    rows: list[RosterRow] = []
    with closing(records):
        for record in records:
            cells = record.cells
            if all(_cell(cell) == "" for cell in cells):
                continue
            if positions is None:
                positions = _layout(cells)
                continue
            line = int(record.ref.rsplit(" ", 1)[-1])
            rows.append(_row(line, cells, positions))
    if positions is None:
        raise AdapterError("the file is empty: no header row was found")
    return rows


def _layout(cells: tuple[object, ...]) -> dict[str, int]:
    """Where each known column is; AdapterError names the missing required ones."""
    header = [_text(cell) for cell in cells]
    positions: dict[str, int] = {}
    twice: list[str] = []
    for index, name in enumerate(header):
        column = _BY_HEADER.get(_header_key(name))
        if column is None:
            continue
        if column.field in positions:
            twice.append(name)
        positions[column.field] = positions.get(column.field, index)
    missing = [
        f"{column.headers[0]} ({column.headers[1]})"
        for column in COLUMNS
        if column.required and column.field not in positions
    ]
    if missing:
        found = ", ".join(repr(name) for name in header if name) or "none"
        raise AdapterError(f"missing column(s) {', '.join(missing)}; the file has: {found}")
    if twice:
        raise AdapterError(f"column(s) {', '.join(map(repr, twice))} appear more than once")
    return positions


def _cell(cell: object) -> str:
    """A cell as text; Excel keeps 1001 as the number 1001.0, written back as 1001."""
    if isinstance(cell, float) and cell.is_integer():
        cell = int(cell)
    return unicodedata.normalize("NFKC", _text(cell)).strip() if cell is not None else ""


def _row(line: int, cells: tuple[object, ...], positions: dict[str, int]) -> RosterRow:
    def get(name: str) -> str:
        index = positions.get(name)
        return _cell(cells[index]) if index is not None and index < len(cells) else ""

    department = get("department")
    return RosterRow(
        line=line,
        employee_no=get("employee_no"),
        name=get("name"),
        name_en=get("name_en"),
        department=tuple(part.strip() for part in department.split("/")) if department else (),
        manager_no=get("manager_no"),
        email=get("email"),
        title=get("title"),
        role=get("role"),
        external_id=get("external_id") or None,
    )
