"""The scheduler loop: due syncs and the feedback loop's periodic scans, forever.

``goalgraph worker`` runs it alone; ``goalgraph serve`` runs it in-process beside the
HTTP server while ``GOALGRAPH_SYNC_POLL_SECONDS`` > 0 (web workers of an install that
runs ``goalgraph worker`` set it to 0). Any number of these loops may share a database:
each sync job and each tenant's scan is claimed in one statement per batch
(``core/leases.py``), so each runs once per period whichever loop claims it.

Stopping is cancelling the task. The sync in flight is abandoned, not finished: its
batch in flight rolls back, the run is closed as failed (``stopped``), and its job and
the claimed jobs not started yet are given back still due, so another worker resumes
at the stored cursor at once (``adapters/runner.end_run``). A scan in flight rolls back
whole and its tenant is scanned again once its lease runs out.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ..core import leases
from ..core.insights.schedule import claim_scans, finish_scan, schedule_new_tenants
from ..core.models import Tenant
from .syncer import Syncer

log = logging.getLogger(__name__)

ScanTenant = Callable[[Tenant], Awaitable[None]]


@dataclass
class Scheduler:
    syncer: Syncer
    poll_seconds: float
    #: One pass of the feedback loop over a tenant (the composition root's, with its packs).
    scan_tenant: ScanTenant | None = None
    #: Minutes between a tenant's periodic scans (0: none; scans still follow syncs).
    scan_every_minutes: float = 0

    async def tick(self) -> tuple[int, int]:
        """Run the due syncs, then the due scans; how many of each ran."""
        syncs = await self.syncer.tick()
        scans = await self.scan_due() if self.scanning else 0
        return syncs, scans

    @property
    def scanning(self) -> bool:
        return self.scan_tenant is not None and self.scan_every_minutes > 0

    async def scan_due(self) -> int:
        """Scan every tenant whose interval is up, a claimed batch at a time."""
        every = timedelta(minutes=self.scan_every_minutes)
        lease = self.syncer.lease
        await schedule_new_tenants(datetime.now(UTC), every)
        done = 0
        while claimed := await claim_scans(lease.owner, lease.seconds, datetime.now(UTC)):
            done += await self._scan_claimed(claimed, every)
        return done

    async def _scan_claimed(self, tenant_ids: list[int], every: timedelta) -> int:
        assert self.scan_tenant is not None
        tenants = await Tenant.filter(id__in=tenant_ids).order_by("id")
        owner, done = self.syncer.lease.owner, 0
        try:
            for tenant in tenants:
                try:
                    await self.scan_tenant(tenant)
                except Exception:
                    log.exception("periodic scan of tenant %s failed", tenant.slug)
                await finish_scan(tenant.id, owner, datetime.now(UTC) + every)
                done += 1
        finally:
            unstarted = [t.id for t in tenants[done + 1 :]] if done < len(tenants) else []
            await leases.release_unstarted("scan_job", "tenant_id", unstarted, owner)
        return done

    async def run_forever(self) -> None:
        """Tick, sleep, forever (a failing tick is logged, not fatal); cancel to stop."""
        while True:
            try:
                await self.tick()
            except Exception:
                log.exception("the scheduler's tick failed")
            await asyncio.sleep(self.poll_seconds)
