"""Writing many rows in one statement per batch, without a model instance per row.

Building a Tortoise instance costs more than writing its row: a batch of a thousand
measurements with its roll-up builds several thousand (the values, the scores up the
path). ``insert_rows`` writes plain tuples instead, through the connection of the
running transaction, with each value converted by its field exactly as Tortoise would,
and stamped with the scope's tenant and the time. ``on_conflict`` makes it an upsert
(SQLite and PostgreSQL speak the same ``ON CONFLICT … DO UPDATE``). ``update_rows``
changes columns of rows found by id the same way: one prepared ``UPDATE`` sent for
every row of a batch, where Tortoise's ``bulk_update`` builds a ``CASE`` per column.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from itertools import islice
from typing import Any, TypeVar

from tortoise.connection import connections
from tortoise.models import Model

from .tenancy import TenantScope

T = TypeVar("T")

BATCH = 1000
#: The most values one ``IN`` list holds: PostgreSQL takes at most 32,767 parameters
#: per statement, and a whole large tenant's KPIs are more.
IN_LIMIT = 10_000


def chunked(ids: Sequence[T], size: int = IN_LIMIT) -> Iterator[Sequence[T]]:
    """``ids`` in slices that fit one statement's ``IN`` list."""
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def placeholders(dialect: str, count: int) -> str:
    """``count`` parameter markers in the database's own style."""
    if dialect == "postgres":
        return ", ".join(f"${i}" for i in range(1, count + 1))
    return ", ".join("?" * count)


def numbered(sql: str, dialect: str) -> str:
    """A statement written with PostgreSQL's ``$N`` parameters, in the database's own
    style: SQLite reads the same numbers as ``?N``, so a parameter may appear twice."""
    return sql if dialect == "postgres" else sql.replace("$", "?")


def _quoted(names: Iterable[str]) -> str:
    return ", ".join(f'"{name}"' for name in names)


async def insert_rows(
    scope: TenantScope,
    model: type[Model],
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    on_conflict: Sequence[str] = (),
    update: Sequence[str] = (),
) -> int:
    """Insert ``rows`` (tuples in the order of ``columns``) into ``model``'s table;
    with ``on_conflict``, a row whose key exists updates the ``update`` columns instead
    (``updated_at`` always). Returns how many rows were sent."""
    meta = model._meta
    now = datetime.now(UTC)
    stamped = ("tenant_id", "created_at", "updated_at", *columns)
    fields = [meta.fields_map[_field_name(meta, c)] for c in stamped]
    connection = connections.get(meta.default_connection or "default")
    dialect = connection.capabilities.dialect
    sql = (
        f'INSERT INTO "{meta.db_table}" ({_quoted(stamped)}) '
        f"VALUES ({placeholders(dialect, len(stamped))})"
    )
    if on_conflict:
        changed = [*update, "updated_at"]
        sets = ", ".join(f'"{c}" = excluded."{c}"' for c in dict.fromkeys(changed))
        sql += f" ON CONFLICT ({_quoted(on_conflict)}) DO UPDATE SET {sets}"
    head = (scope.tenant_id, now, now)
    sent = 0
    iterator = iter(rows)
    while batch := list(islice(iterator, BATCH)):
        values = [
            # the model class, not an instance: no field may stamp a value of its own
            [f.to_db_value(v, model) for f, v in zip(fields, (*head, *row), strict=True)]
            for row in batch
        ]
        await connection.execute_many(sql, values)
        sent += len(batch)
    return sent


async def update_rows(
    scope: TenantScope,
    model: type[Model],
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
) -> int:
    """Set ``columns`` (and ``updated_at``) of the rows whose id leads each tuple of
    ``rows`` — ``(id, *values)`` — within the scope's tenant. Returns how many rows
    were sent."""
    meta = model._meta
    fields = [meta.fields_map[_field_name(meta, c)] for c in (*columns, "updated_at")]
    id_field = meta.fields_map[meta.pk_attr]
    connection = connections.get(meta.default_connection or "default")
    dialect = connection.capabilities.dialect
    marks = placeholders(dialect, len(fields) + 2).split(", ")
    sets = ", ".join(f'"{c}" = {m}' for c, m in zip((*columns, "updated_at"), marks, strict=False))
    sql = (
        f'UPDATE "{meta.db_table}" SET {sets} '
        f'WHERE "{meta.pk_attr}" = {marks[-2]} AND "tenant_id" = {marks[-1]}'
    )
    now = datetime.now(UTC)
    sent = 0
    iterator = iter(rows)
    while batch := list(islice(iterator, BATCH)):
        values = [
            [
                *(f.to_db_value(v, model) for f, v in zip(fields, (*row[1:], now), strict=True)),
                id_field.to_db_value(row[0], model),
                scope.tenant_id,
            ]
            for row in batch
        ]
        await connection.execute_many(sql, values)
        sent += len(batch)
    return sent


def _field_name(meta: Any, column: str) -> str:
    """The model field behind a column (``kpi_id`` is the field ``kpi_id`` Tortoise
    keeps beside the relation ``kpi``)."""
    return column if column in meta.fields_map else meta.fields_db_projection_reverse[column]
