"""The scheduler's claims on a real database (SQLite and PostgreSQL): a job runs once
per period, and each tenant's periodic scan once per interval, whichever worker."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta

import aiohttp

from goalgraph.adapters.bindings import BindingInput, create_binding
from goalgraph.adapters.registry import GENERIC
from goalgraph.adapters.runner import Lease
from goalgraph.adapters.scheduler import Scheduler
from goalgraph.core.app import make_syncer
from goalgraph.core.models import ScanJob, SyncJob, SyncRun, Tenant
from goalgraph.core.secrets import SecretBox
from goalgraph.core.settings import Settings, secret_box_key
from goalgraph.plugins.manager import PackManager

from .factories import make_company
from .fake_pos import FakePos, pos_config, serving
from .test_sync import FIRST_DAY, TODAY


async def test_a_job_finished_by_one_worker_is_not_claimed_again_in_its_period(
    client: object, settings: Settings
) -> None:
    company = await make_company("acme")
    pos = FakePos(["s00"], FIRST_DAY, 1)
    async with serving(pos), aiohttp.ClientSession() as session:
        binding = await create_binding(
            company.scope,
            GENERIC,
            SecretBox(secret_box_key(settings)),
            BindingInput(name="POS", adapter="http_json", config=pos_config(pos), every_minutes=60),
        )
        manager = PackManager.discover()
        first, second = (
            make_syncer(settings, manager, session),
            make_syncer(settings, manager, session),
        )
        first.lease, second.lease = Lease("worker-a", 60), Lease("worker-b", 60)
        assert [b.id for b in await first.claim_due()] == [binding.id]
        assert await second.claim_due() == []  # held
        await first.run(company.scope, binding, "schedule", today=TODAY, held=True)
        job = await SyncJob.get(binding_id=binding.id)
        assert job.lease_owner is None
        assert job.next_run_at is not None
        assert job.next_run_at > datetime.now(UTC) + timedelta(minutes=59)
        assert await second.claim_due() == []  # free, but not due again this period
        assert await SyncRun.filter(binding_id=binding.id).count() == 1


async def test_each_tenant_is_scanned_once_per_interval_whichever_worker(
    client: object, settings: Settings
) -> None:
    tenants = [(await make_company(slug)).tenant.id for slug in ("acme", "beta", "gamma")]
    scanned: Counter[int] = Counter()

    async def scan_tenant(tenant: Tenant) -> None:
        scanned[tenant.id] += 1
        await asyncio.sleep(0.01)

    async with aiohttp.ClientSession() as session:
        manager = PackManager.discover()
        workers = []
        for owner in ("worker-a", "worker-b"):
            syncer = make_syncer(settings, manager, session)
            syncer.lease = Lease(owner, 60)
            workers.append(Scheduler(syncer, 1, scan_tenant, scan_every_minutes=60))
        await asyncio.gather(*(w.scan_due() for w in workers))
        assert scanned == Counter()  # first due one interval after the tenant is seen
        await ScanJob.all().update(next_run_at=datetime.now(UTC) - timedelta(seconds=1))
        await asyncio.gather(*(w.scan_due() for w in workers))
        assert scanned == Counter(dict.fromkeys(tenants, 1))
        await asyncio.gather(*(w.scan_due() for w in workers))
        assert scanned == Counter(dict.fromkeys(tenants, 1))
        rows = await ScanJob.all()
        assert all(r.lease_owner is None for r in rows)
        assert all(r.next_run_at > datetime.now(UTC) + timedelta(minutes=59) for r in rows)
