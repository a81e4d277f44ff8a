"""The sync service of a server or CLI run: one HTTP session, one lease owner, and the
way to find each tenant's adapters and system scope.

``tick`` runs every due binding once (the scheduler loop of ``goalgraph serve`` and
``goalgraph worker`` calls it every ``GOALGRAPH_SYNC_POLL_SECONDS``; ``goalgraph sync``
calls ``run`` for the bindings it is asked for). Several workers may tick at once: each
claims due jobs a batch at a time in one statement (``core/leases.py``), so each job
runs once per period, whichever worker takes it.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import aiohttp

from ..core import leases, metrics, rls
from ..core.enums import SyncStatus
from ..core.i18n import Msg, msg
from ..core.models import DataBinding, RejectedRow, SyncRun, Tenant
from ..core.secrets import SecretBox
from ..core.tenancy import TenantScope
from . import retries
from .contract import Batch, DataAdapter
from .directory import BUILT_IN
from .org_runner import run_org_binding
from .org_source import OrgSource, TokenCache
from .resolve import KpiResolver
from .runner import Lease, Progress, SyncBusy, run_binding, store_batch

log = logging.getLogger(__name__)

#: Due jobs one claim takes: small, so every worker gets a share of a busy schedule and
#: the last job of a batch starts well within its lease.
CLAIM_BATCH = 5

AdaptersFor = Callable[[TenantScope], Awaitable[Mapping[str, type[DataAdapter]]]]
OrgSourcesFor = Callable[[TenantScope], Awaitable[Mapping[str, type[OrgSource]]]]


async def built_in_org_sources(scope: TenantScope) -> Mapping[str, type[OrgSource]]:
    """The directories every tenant may sync from (packs add theirs through the
    composition root's ``org_sources_for``)."""
    return BUILT_IN


def worker_name() -> str:
    """Who holds a lease: host and process, readable in the sync_job table."""
    return f"{socket.gethostname()}:{os.getpid()}"[:64]


class UnknownAdapter(Exception):
    """A binding names an adapter its tenant no longer has (a pack was disabled);
    str() is English, for logs."""

    def __init__(self, message: Msg) -> None:
        super().__init__(message.render("en"))
        self.message = message


@dataclass
class Syncer:
    box: SecretBox
    lease: Lease
    session: aiohttp.ClientSession
    adapters_for: AdaptersFor
    system_scope: Callable[[Tenant], TenantScope]
    #: Where each tenant's files for file syncs are: ``<import_dir>/<tenant slug>/``.
    import_dir: Path | None = None
    #: Run after a sync that wrote values (the feedback loop's scan of the tenant).
    after_run: Callable[[TenantScope, SyncRun], Awaitable[None]] | None = None
    #: Each tenant's org sources (org bindings, ``kind="org"``): built-in and its packs'.
    org_sources_for: OrgSourcesFor = built_in_org_sources
    #: The directories' access tokens, reused across this process's runs.
    tokens: TokenCache = field(default_factory=TokenCache)

    async def adapter_of(self, scope: TenantScope, binding: DataBinding) -> type[DataAdapter]:
        found = (await self.adapters_for(scope)).get(binding.adapter)
        if found is None:
            raise UnknownAdapter(msg("sync.adapter_unavailable", adapter=binding.adapter))
        return found

    async def org_source_of(self, scope: TenantScope, binding: DataBinding) -> type[OrgSource]:
        found = (await self.org_sources_for(scope)).get(binding.adapter)
        if found is None:
            raise UnknownAdapter(msg("sync.org_source_unavailable", adapter=binding.adapter))
        return found

    async def run(
        self,
        scope: TenantScope,
        binding: DataBinding,
        trigger: str,
        progress: Progress | None = None,
        today: date | None = None,
        held: bool = False,
    ) -> SyncRun:
        """Sync one binding now; ``SyncBusy`` if another worker holds it (``held``: this
        worker's scheduler claimed it, see ``tick``). The binding's kind decides the
        runner: KPI values (``data``) or units and people (``org``)."""
        with retries.about(binding.id, binding.name, scope.tenant.slug):
            run = await self._run(scope, binding, trigger, progress, today, held)
        metrics.sync_run_ended(run)
        return run

    async def _run(
        self,
        scope: TenantScope,
        binding: DataBinding,
        trigger: str,
        progress: Progress | None,
        today: date | None,
        held: bool,
    ) -> SyncRun:
        if binding.kind == "org":
            source = await self.org_source_of(scope, binding)
            return await run_org_binding(
                scope,
                binding,
                source,
                box=self.box,
                session=self.session,
                lease=self.lease,
                trigger=trigger,
                tokens=self.tokens,
                progress=progress,
                held=held,
            )
        adapter = await self.adapter_of(scope, binding)
        run = await run_binding(
            scope,
            binding,
            adapter,
            box=self.box,
            session=self.session,
            lease=self.lease,
            trigger=trigger,
            today=today,
            progress=progress,
            files=self.import_dir / scope.tenant.slug if self.import_dir else None,
            held=held,
        )
        if self.after_run is not None and run.rows_written:
            await self.after_run(scope, run)
        return run

    async def claim_due(self, limit: int = CLAIM_BATCH) -> list[DataBinding]:
        """Claim up to ``limit`` due jobs of active bindings, of every tenant, for this
        worker (one statement), and return their bindings with their tenants (one
        more)."""
        now = datetime.now(UTC)
        rows = await leases.claim_due(
            "sync_job",
            "binding_id",
            owner=self.lease.owner,
            until=self.lease.until(),
            now=now,
            limit=limit,
            condition="binding_id IN (SELECT id FROM data_binding WHERE active)",
        )
        if not rows:
            return []
        with rls.every_tenant():
            found = await DataBinding.filter(id__in=[r["binding_id"] for r in rows]).select_related(
                "tenant"
            )
        return sorted(found, key=lambda b: b.id)

    async def tick(self) -> int:
        """Run every due binding once, a claimed batch at a time; returns how many ran."""
        ran = 0
        while batch := await self.claim_due():
            ran += await self.run_claimed(batch)
        return ran

    async def run_claimed(self, batch: list[DataBinding]) -> int:
        """Run a claimed batch in turn; if the worker is stopped (cancelled) mid-batch,
        the jobs not started yet are given back, still due, for another worker."""
        ran, started = 0, 0
        try:
            for binding in batch:
                started += 1
                if await self.run_scheduled(binding):
                    ran += 1
        finally:
            unstarted = [b.id for b in batch[started:]]
            if unstarted:
                await leases.release_unstarted(
                    "sync_job", "binding_id", unstarted, self.lease.owner
                )
        return ran

    async def run_scheduled(self, binding: DataBinding) -> bool:
        """One claimed job; False when it did not run (its lease was lost, its adapter
        is gone)."""
        try:
            run = await self.run(self.system_scope(binding.tenant), binding, "schedule", held=True)
        except SyncBusy:
            return False  # our lease ran out during the batch and another worker took it
        except UnknownAdapter as exc:
            log.warning("binding %s: %s", binding.id, exc)
            return False
        if run.status is SyncStatus.FAILED:
            log.warning("sync of binding %s failed: %s", binding.id, run.error)
        return True

    async def push(self, scope: TenantScope, binding: DataBinding, batch: Batch) -> dict[str, Any]:
        """Store a pushed batch as a run of its own (the caller holds the transaction)."""
        run = await scope.create(
            SyncRun, binding_id=binding.id, trigger="webhook", started_at=datetime.now(UTC)
        )
        resolver = await KpiResolver.load(scope, binding)
        await store_batch(scope, binding, run, None, batch, resolver)
        run.status = SyncStatus.PARTIAL if run.rows_rejected else SyncStatus.SUCCEEDED
        run.finished_at = datetime.now(UTC)
        await run.save(update_fields=["status", "finished_at", "updated_at"])
        if self.after_run is not None and run.rows_written:
            await self.after_run(scope, run)  # in the push's transaction: all or nothing
        metrics.sync_run_ended(run)
        rejected = await scope.query(RejectedRow).filter(run_id=run.id).order_by("id").limit(20)
        return {
            "run": run.id,
            "read": run.rows_read,
            "written": run.rows_written,
            "rejected": run.rows_rejected,
            "rejections": [{"ref": r.ref, "reason": r.reason} for r in rejected],
        }
