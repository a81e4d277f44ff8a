"""Claiming due scheduled work across processes: one statement per batch of rows.

Sync jobs (``sync_job``) and the feedback loop's periodic scans (``scan_job``) are
rows with a due time (``next_run_at``) and a lease (``lease_owner``, ``lease_until``).
Any number of scheduler processes may share one database; each claims rows with
``claim_due``, one ``UPDATE … RETURNING`` that takes only rows that are due *and* free
(no lease, or one that ran out), and stamps them with its own lease:

- **PostgreSQL**: the due rows are picked in a CTE with ``FOR UPDATE SKIP LOCKED``, so
  two workers claiming at the same instant never wait on or take the same row; a row
  another claim changed since this statement's snapshot is locked at its newest
  version and its conditions are checked again.
- **SQLite**: the whole statement runs under the database's single write lock, so the
  conditional update is atomic on its own; several processes on one SQLite file take
  turns (WAL, Tortoise's busy timeout).

The condition re-checks ``next_run_at <= now`` in the same statement, not only the
lease: a worker that listed a job before another finished it (which moved
``next_run_at`` one period on and freed the lease) cannot take it again for the same
period. A holder that dies leaves its lease to run out; then the next claim takes the
row (scheduled work resumes from its stored state, see ``adapters/runner.py``).

Leases compare the workers' clocks: hosts sharing a database keep them in step (NTP)
to well within the lease.

The statements run across tenants on purpose (``rls.every_tenant``): the scheduler
serves every tenant, and what it then does for a row runs in that row's tenant scope.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Final

from tortoise import Tortoise

from . import rls
from .bulk import numbered

#: The tables whose rows are claimed this way (the names go into SQL text).
CLAIMABLE: Final = frozenset({"sync_job", "scan_job"})


def claim_sql(table: str, returning: str, condition: str, *, dialect: str) -> str:
    """The one claiming statement for ``table``; parameters are $1 now, $2 the batch
    size, $3 the owner, $4 the new lease end. ``condition`` narrows the due rows
    (fixed SQL text of the caller's, never a value)."""
    if table not in CLAIMABLE:
        raise ValueError(f"not a claimable table: {table}")
    due = "next_run_at <= $1 AND (lease_until IS NULL OR lease_until < $1)" + (
        f" AND {condition}" if condition else ""
    )
    lock = " FOR UPDATE SKIP LOCKED" if dialect == "postgres" else ""
    sql = (
        f"WITH due AS (SELECT id FROM {table} WHERE {due} "
        f"ORDER BY next_run_at, id LIMIT $2{lock}) "
        f"UPDATE {table} SET lease_owner = $3, lease_until = $4, updated_at = $1 "
        f"WHERE id IN (SELECT id FROM due) AND {due} RETURNING {returning}"
    )
    return numbered(sql, dialect)


async def claim_due(
    table: str,
    returning: str,
    *,
    owner: str,
    until: datetime,
    now: datetime,
    limit: int,
    condition: str = "",
) -> list[dict[str, Any]]:
    """Claim up to ``limit`` due, free rows of ``table`` for ``owner`` until ``until``;
    returns the ``returning`` columns of the rows this call took (one statement)."""
    connection = Tortoise.get_connection("default")
    sql = claim_sql(table, returning, condition, dialect=connection.capabilities.dialect)
    with rls.every_tenant():
        return list(await connection.execute_query_dict(sql, [now, limit, owner, until]))


#: The columns a claimed row is given back by.
KEYS: Final = frozenset({"id", "binding_id", "tenant_id"})


async def release_unstarted(table: str, key: str, ids: Sequence[int], owner: str) -> None:
    """Give back rows this worker claimed but will not run (it is stopping), still due,
    so another worker takes them at once instead of after their lease (one statement).
    ``key`` names the column ``ids`` are of."""
    if table not in CLAIMABLE or key not in KEYS:
        raise ValueError(f"not a claimable table and key: {table}.{key}")
    if not ids:
        return
    connection = Tortoise.get_connection("default")
    marks = ", ".join(f"${i}" for i in range(2, len(ids) + 2))
    sql = (
        f"UPDATE {table} SET lease_owner = NULL, lease_until = NULL "
        f"WHERE lease_owner = $1 AND {key} IN ({marks})"
    )
    with rls.every_tenant():
        await connection.execute_query(
            numbered(sql, connection.capabilities.dialect), [owner, *map(int, ids)]
        )
