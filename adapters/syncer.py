"""The sync service of a server or CLI run: one HTTP session, one lease owner, and the
way to find each tenant's adapters and system scope.

``tick`` runs every due binding once (the server's lifespan loop calls it every
``GOALGRAPH_SYNC_POLL_SECONDS``; ``goalgraph sync`` calls ``run`` for the bindings it is
asked for). Several workers may tick at once: the job lease lets one of them run each
binding.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import aiohttp
from tortoise.expressions import Q

from ..core import rls
from ..core.enums import SyncStatus
from ..core.models import DataBinding, RejectedRow, SyncJob, SyncRun, Tenant
from ..core.secrets import SecretBox
from ..core.tenancy import TenantScope
from .contract import Batch, DataAdapter
from .directory import BUILT_IN
from .org_runner import run_org_binding
from .org_source import OrgSource, TokenCache
from .resolve import KpiResolver
from .runner import Lease, Progress, SyncBusy, run_binding, store_batch

log = logging.getLogger(__name__)

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
    """A binding names an adapter its tenant no longer has (a pack was disabled)."""


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
            raise UnknownAdapter(
                f"adapter {binding.adapter!r} is not available to this tenant "
                "(is its pack enabled?)"
            )
        return found

    async def org_source_of(self, scope: TenantScope, binding: DataBinding) -> type[OrgSource]:
        found = (await self.org_sources_for(scope)).get(binding.adapter)
        if found is None:
            raise UnknownAdapter(
                f"org source {binding.adapter!r} is not available to this tenant "
                "(is its pack enabled?)"
            )
        return found

    async def run(
        self,
        scope: TenantScope,
        binding: DataBinding,
        trigger: str,
        progress: Progress | None = None,
        today: date | None = None,
    ) -> SyncRun:
        """Sync one binding now; ``SyncBusy`` if another worker holds it. The binding's
        kind decides the runner: KPI values (``data``) or units and people (``org``)."""
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
        )
        if self.after_run is not None and run.rows_written:
            await self.after_run(scope, run)
        return run

    async def due(self) -> list[DataBinding]:
        """Bindings whose scheduled run is due and whose job is free, of every tenant,
        each with its tenant (one statement)."""
        now = datetime.now(UTC)
        with rls.every_tenant():
            jobs = (
                await SyncJob.filter(next_run_at__lte=now, binding__active=True)
                .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
                .order_by("next_run_at")
                .select_related("binding__tenant")
            )
        return [job.binding for job in jobs]

    async def tick(self) -> int:
        """Run every due binding once; returns how many ran."""
        ran = 0
        for binding in await self.due():
            try:
                run = await self.run(self.system_scope(binding.tenant), binding, "schedule")
            except SyncBusy:
                continue  # another worker took it between our look and our claim
            except UnknownAdapter as exc:
                log.warning("binding %s: %s", binding.id, exc)
                continue
            ran += 1
            if run.status is SyncStatus.FAILED:
                log.warning("sync of binding %s failed: %s", binding.id, run.error)
        return ran

    async def run_forever(self, poll_seconds: float) -> None:
        """The server's loop: tick, sleep, forever (a failing tick is logged, not fatal)."""
        while True:
            try:
                await self.tick()
            except Exception:
                log.exception("scheduled syncs failed")
            await asyncio.sleep(poll_seconds)

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
        rejected = await scope.query(RejectedRow).filter(run_id=run.id).order_by("id").limit(20)
        return {
            "run": run.id,
            "read": run.rows_read,
            "written": run.rows_written,
            "rejected": run.rows_rejected,
            "rejections": [{"ref": r.ref, "reason": r.reason} for r in rejected],
        }
