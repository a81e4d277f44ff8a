"""The feedback loop's periodic scans: each tenant once per interval, whichever worker.

Values coming in scan what they touched (the sync service's ``after_run``); what only
time changes, a period that closed without its value, needs a scan on a clock too
(``GOALGRAPH_SCAN_EVERY_MINUTES``). Each tenant has a ``scan_job`` row with its due
time and a lease, claimed exactly as sync jobs are (``core/leases.py``): the claim
takes only rows that are due and free, so of several workers one scans each tenant per
interval; when it finishes, the row is due again one interval later. A worker that dies
mid-scan leaves its lease to run out, and the next claim scans the tenant again (a scan
only adds what is new, so a repeated one changes nothing).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from tortoise import Tortoise

from .. import leases, rls
from ..bulk import numbered
from ..models import ScanJob

#: Tenants one claim takes.
SCAN_BATCH = 5


async def schedule_new_tenants(now: datetime, every: timedelta) -> None:
    """Give every tenant without a schedule one, first due an interval from now (one
    statement; a tenant is first scanned when its values come in)."""
    connection = Tortoise.get_connection("default")
    sql = (
        "INSERT INTO scan_job (tenant_id, next_run_at, created_at, updated_at) "
        "SELECT id, $1, $2, $2 FROM tenant WHERE id NOT IN (SELECT tenant_id FROM scan_job) "
        "ON CONFLICT (tenant_id) DO NOTHING"
    )
    with rls.every_tenant():  # the schedule of every tenant, in one statement
        await connection.execute_query(
            numbered(sql, connection.capabilities.dialect), [now + every, now]
        )


async def claim_scans(
    owner: str, lease_seconds: float, now: datetime, limit: int = SCAN_BATCH
) -> list[int]:
    """Claim up to ``limit`` tenants whose scan is due, for ``owner``; their ids."""
    rows = await leases.claim_due(
        "scan_job",
        "tenant_id",
        owner=owner,
        until=now + timedelta(seconds=lease_seconds),
        now=now,
        limit=limit,
    )
    return [int(r["tenant_id"]) for r in rows]


async def finish_scan(tenant_id: int, owner: str, next_run_at: datetime) -> None:
    """The tenant's scan is done: free its row, due again at ``next_run_at``."""
    with rls.bound_to(tenant_id):
        await ScanJob.filter(tenant_id=tenant_id, lease_owner=owner).update(
            lease_owner=None, lease_until=None, next_run_at=next_run_at
        )
