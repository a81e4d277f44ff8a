"""Data portability: a tenant's every row out as JSON-ready data, and back in.

The export holds the tenant row and, per table, every column of every row the tenant
owns, with ids as they are: references between rows stay valid without any mapping,
and a round trip gives back the same goal tree, stored scores and audit trail.
Dates and times are ISO 8601, floats are written as Python's shortest exact repr, enums
as their values, JSON columns as they are. Sealed binding credentials stay sealed: the
importing instance needs the same key (``GOALGRAPH_SECRETS_KEY``, or
``GOALGRAPH_SECRET`` when that is unset), or the credentials are entered again.

The tables are read from Tortoise's model registry in foreign-key order
(``tenants.tenant_models``), so a new model travels without a change here.

An import goes into any database of this schema: it is refused as a whole, before
anything is written, when the slug exists, when any id is taken, when a row names a row
the file does not hold, or when the file is of another format, version or schema.
Rows go in parents first, one prepared statement per batch of rows, in one
transaction; on PostgreSQL each table's id sequence is then moved past the imported
ids so that rows created later do not collide with them.
"""

from __future__ import annotations

import enum
import graphlib
from collections.abc import Sequence
from datetime import UTC, date, datetime
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.fields import DateField, DatetimeField, Field, FloatField, JSONField
from tortoise.fields.data import CharEnumFieldInstance, IntEnumFieldInstance
from tortoise.models import Model
from tortoise.transactions import in_transaction

from . import rls
from .bulk import chunked, placeholders
from .errors import DomainError, ErrorCode
from .i18n import Msg, msg
from .models import Tenant
from .tenants import find_tenant, owned_models, self_references

FORMAT = "goalgraph.tenant-export"
VERSION = 1
#: Rows per INSERT batch and ids per look-up: well under SQLite's variable limit.
BATCH = 500


def _refuse(message: Msg) -> DomainError:
    return DomainError.single(ErrorCode.INVALID, message, "file")


def _columns(model: type[Model]) -> list[str]:
    """Every stored column of ``model``, the id first (field name = column name)."""
    names = list(model._meta.fields_db_projection)
    return ["id", *(n for n in names if n != "id")]


def _field(model: type[Model], column: str) -> Field[Any]:
    meta = model._meta
    field: Field[Any] = meta.fields_map[meta.fields_db_projection_reverse.get(column, column)]
    return field


# -- values in and out ------------------------------------------------------------------


def _out(value: Any) -> Any:
    """One stored value as JSON-ready data."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _in(field: Field[Any], value: Any) -> Any:
    """One exported value back to what the field holds in Python."""
    if value is None or isinstance(field, JSONField):
        return value
    if isinstance(field, DatetimeField):
        moment = datetime.fromisoformat(value)
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    if isinstance(field, DateField):
        return date.fromisoformat(value)
    if isinstance(field, CharEnumFieldInstance | IntEnumFieldInstance):
        return field.enum_type(value)
    if isinstance(field, FloatField):
        return float(value)
    return value


def _db_value(model: type[Model], field: Field[Any], value: Any) -> Any:
    # Passing the class, not an instance, keeps auto_now columns as exported.
    return field.to_db_value(_in(field, value), model)


# -- export -----------------------------------------------------------------------------


def _package_version() -> str:
    try:
        return version("goalgraph")
    except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "unknown"


async def export_tenant(slug: str) -> dict[str, Any]:
    """Everything the tenant owns, as JSON-ready data (see the module docstring)."""
    async with in_transaction() as conn:
        if conn.capabilities.dialect == "postgres":
            # one snapshot for every table: the export is consistent under writes
            await conn.execute_script("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        tenant = await find_tenant(slug)
        tenant_row = (await Tenant.filter(id=tenant.id).values(*_columns(Tenant)))[0]
        tables: dict[str, Any] = {}
        for model in owned_models():
            columns = _columns(model)
            rows = await model.filter(tenant_id=tenant.id).order_by("id").values(*columns)
            tables[model._meta.db_table] = {
                "columns": columns,
                "rows": [[_out(row[c]) for c in columns] for row in rows],
            }
    return {
        "format": FORMAT,
        "version": VERSION,
        "goalgraph": _package_version(),
        "exported_at": datetime.now(UTC).isoformat(),
        "tenant": {c: _out(v) for c, v in tenant_row.items()},
        "tables": tables,
    }


# -- import -----------------------------------------------------------------------------


class _Table:
    """One table of an export, checked against its model and ready to insert."""

    def __init__(self, model: type[Model], columns: list[str], rows: list[list[Any]]) -> None:
        self.model = model
        self.name: str = model._meta.db_table
        self.columns = columns
        self.rows = rows
        self.ids = [row[0] for row in rows]


def _check_header(data: Any) -> None:
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise _refuse(msg("export.not_an_export", format=FORMAT))
    if data.get("version") != VERSION:
        raise _refuse(msg("export.version", version=data.get("version"), supported=VERSION))
    if not isinstance(data.get("tenant"), dict) or not isinstance(data.get("tables"), dict):
        raise _refuse(msg("export.empty"))


def _table(model: type[Model], columns: Sequence[str], rows: Any) -> _Table:
    """The rows of one table with every column of the model, in the model's order."""
    name = model._meta.db_table
    known = _columns(model)
    unknown = [c for c in columns if c not in known]
    if unknown:
        raise _refuse(msg("export.unknown_columns", table=name, columns=unknown))
    if "id" not in columns or not isinstance(rows, list):
        raise _refuse(msg("export.no_rows", table=name))
    position = {c: i for i, c in enumerate(columns)}
    fill: dict[str, Any] = {}
    for column in known:
        if column in position:
            continue
        field = _field(model, column)
        if field.required or field.has_db_default():
            raise _refuse(msg("export.missing_column", table=name, column=column))
        default = field.default() if callable(field.default) else field.default
        fill[column] = _out(default)
    out = []
    for number, row in enumerate(rows, 1):
        if not isinstance(row, list) or len(row) != len(columns):
            raise _refuse(msg("export.row_width", table=name, row=number, count=len(columns)))
        out.append([row[position[c]] if c in position else fill[c] for c in known])
    return _Table(model, known, out)


def _tables(data: dict[str, Any]) -> tuple[_Table, list[_Table]]:
    """The tenant row and every table, checked against this goalgraph's models."""
    tenant = data["tenant"]
    head = _table(Tenant, list(tenant), [list(tenant.values())])
    by_name = {m._meta.db_table: m for m in owned_models()}
    unknown = sorted(set(data["tables"]) - set(by_name))
    if unknown:
        raise _refuse(msg("export.unknown_tables", tables=unknown))
    tables = []
    for name, model in by_name.items():
        block = data["tables"].get(name, {"columns": _columns(model), "rows": []})
        if not isinstance(block, dict):
            raise _refuse(msg("export.not_a_table", table=name))
        tables.append(_table(model, block.get("columns") or [], block.get("rows")))
    return head, tables


def _check_references(head: _Table, tables: list[_Table]) -> None:
    """Every reference names a row of the same export, and every row is the tenant's."""
    tenant_id = head.ids[0]
    ids = {Tenant: {tenant_id}} | {t.model: set(t.ids) for t in tables}
    for table in tables:
        if len(ids[table.model]) != len(table.ids):
            raise _refuse(msg("export.duplicate_id", table=table.name))
        for field in _reference_fields(table.model):
            at = table.columns.index(field.source_field)
            targets = ids[field.related_model]
            for row in table.rows:
                if row[at] is not None and row[at] not in targets:
                    raise _refuse(
                        msg(
                            "export.dangling",
                            table=table.name,
                            id=row[0],
                            column=field.source_field,
                            value=row[at],
                            target=field.related_model._meta.db_table,
                        )
                    )


def _reference_fields(model: type[Model]) -> list[Any]:
    meta = model._meta
    return [meta.fields_map[n] for n in sorted(meta.fk_fields | meta.o2o_fields)]


async def _taken_ids(table: _Table) -> int:
    """How many of the table's ids are already rows in this database, of any tenant."""
    taken = 0
    with rls.every_tenant():
        for chunk in chunked(table.ids, BATCH):
            taken += await table.model.filter(id__in=chunk).count()
    return taken


async def import_tenant(data: Any) -> Tenant:
    """Insert an exported tenant into this database (see the module docstring)."""
    _check_header(data)
    head, tables = _tables(data)
    _check_references(head, tables)
    slug = data["tenant"].get("slug")
    if await Tenant.exists(slug=slug):
        raise DomainError.single(ErrorCode.CONFLICT, msg("export.tenant_exists", slug=slug), "slug")
    taken = {t.name: n for t in [head, *tables] if (n := await _taken_ids(t))}
    if taken:
        listed = ", ".join(f"{name} ({n})" for name, n in taken.items())
        raise DomainError.single(
            ErrorCode.CONFLICT,
            msg("export.ids_taken", ids=listed),
            "file",
        )
    with rls.bound_to(head.ids[0]):
        await _insert_all(head, tables)
    return await Tenant.get(id=head.ids[0])


async def _insert_all(head: _Table, tables: list[_Table]) -> None:
    """Every row of the export in one transaction, bound to the tenant they belong to."""
    async with in_transaction() as conn:
        for table in [head, *tables]:
            await _insert(conn, table)
        if conn.capabilities.dialect == "postgres":
            for table in [head, *tables]:
                await _advance_sequence(conn, table)


def _placeholders(dialect: str, count: int) -> str:
    if dialect not in ("sqlite", "postgres"):
        raise _refuse(msg("export.dialect", dialect=dialect))
    return placeholders(dialect, count)


async def _insert(conn: BaseDBAsyncClient, table: _Table) -> None:
    """The table's rows, parents first, one statement per batch."""
    if not table.rows:
        return
    dialect = conn.capabilities.dialect
    fields = [_field(table.model, c) for c in table.columns]
    quoted = ", ".join(f'"{c}"' for c in table.columns)
    sql = (
        f'INSERT INTO "{table.name}" ({quoted}) '
        f"VALUES ({_placeholders(dialect, len(table.columns))})"
    )
    rows, later = _parents_first(table)
    for chunk in chunked(rows, BATCH):
        values = [
            [_db_value(table.model, f, v) for f, v in zip(fields, row, strict=True)]
            for row in chunk
        ]
        await conn.execute_many(sql, values)
    for column, pairs in later.items():
        first, second = _placeholders(dialect, 2).split(", ")
        update = f'UPDATE "{table.name}" SET "{column}" = {first} WHERE id = {second}'
        for pair_chunk in chunked(pairs, BATCH):
            await conn.execute_many(update, [list(p) for p in pair_chunk])


def _parents_first(table: _Table) -> tuple[list[list[Any]], dict[str, list[tuple[Any, Any]]]]:
    """The rows ordered so that a row another row of the table names comes first.

    A loop of such references (not allowed by the rules, but a file may hold one) is
    broken: its rows go in with the reference empty, set by an update afterwards.
    """
    columns = [table.columns.index(c) for c in self_references(table.model)]
    if not columns:
        return table.rows, {}
    by_id = {row[0]: row for row in table.rows}
    graph = {
        row[0]: {row[at] for at in columns if row[at] is not None and row[at] != row[0]}
        for row in table.rows
    }
    later: dict[str, list[tuple[Any, Any]]] = {}
    try:
        order = list(graphlib.TopologicalSorter(graph).static_order())
    except graphlib.CycleError:
        order = sorted(by_id)
        done: set[Any] = set()
        patched = []
        for row_id in order:
            row = list(by_id[row_id])
            for at in columns:
                target = row[at]
                if target is not None and target != row_id and target not in done:
                    later.setdefault(table.columns[at], []).append((target, row_id))
                    row[at] = None
            done.add(row_id)
            patched.append(row)
        return patched, later
    return [by_id[i] for i in order], later


async def _advance_sequence(conn: BaseDBAsyncClient, table: _Table) -> None:
    """Move the table's id sequence past its ids, never back."""
    if not table.ids:
        return
    _, found = await conn.execute_query(
        "SELECT pg_get_serial_sequence($1, 'id') AS seq", [table.name]
    )
    sequence = found[0]["seq"] if found else None
    if sequence is None:
        return
    await conn.execute_query(
        f"SELECT setval($1, GREATEST($2, (SELECT last_value FROM {sequence})))",
        [sequence, max(table.ids)],
    )
