"""Running a binding's sync: claim it, pull batches, store each with its cursor.

A job is claimed with one conditional update (it is free, or its holder's lease ran
out), so two workers never run one binding at once; the holder renews its lease after
every batch. The scheduler claims due jobs a batch at a time (``core/leases.py``) and
runs each one it still holds (``held=True``); a run asked for by hand claims its job
here, due or not. Each batch is stored in one transaction with the cursor that follows it
and the run's counters: a sync killed at any moment leaves the data and the cursor of
its last stored batch, and the next run resumes there. Values are upserts per KPI and
period, so rows read twice are never counted twice. Rows that cannot be used are kept
as ``RejectedRow``s with their reason, and the sync goes on past them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import aiohttp
from pydantic import ValidationError
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from ..core.enums import SyncStatus
from ..core.errors import DomainError
from ..core.i18n import Msg, msg
from ..core.models import DataBinding, RejectedRow, SyncJob, SyncRun
from ..core.secrets import SecretBox, SecretError
from ..core.services.measurements import MAX_BATCH, MeasurementInput, record_measurements
from ..core.tenancy import TenantScope
from .contract import AdapterError, Batch, DataAdapter, Rejection
from .resolve import KpiResolver

log = logging.getLogger(__name__)

#: Called after each stored batch (CLI progress bars).
Progress = Callable[[SyncRun], None]


class SyncBusy(Exception):
    """Another worker holds the binding's job; str() is English, for logs."""

    def __init__(self, message: Msg) -> None:
        super().__init__(message.render("en"))
        self.message = message


@dataclass(frozen=True, slots=True)
class Lease:
    """Who runs syncs here, and for how long a claim holds without renewal."""

    owner: str
    seconds: float

    def until(self) -> datetime:
        return datetime.now(UTC) + timedelta(seconds=self.seconds)


async def job_of(scope: TenantScope, binding: DataBinding) -> SyncJob:
    """The binding's job (made on first use)."""
    job = await scope.query(SyncJob).filter(binding_id=binding.id).first()
    if job is None:
        job = await scope.create(SyncJob, binding_id=binding.id)
    return job


async def claim(job: SyncJob, lease: Lease) -> bool:
    """Take the job if it is free or its lease ran out: one conditional update."""
    now = datetime.now(UTC)
    taken = (
        await SyncJob.filter(id=job.id)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .update(lease_owner=lease.owner, lease_until=lease.until())
    )
    return taken == 1


async def confirm(job: SyncJob, lease: Lease) -> bool:
    """Renew a lease the scheduler took in its batch, if this worker still holds it: a
    job whose lease ran out while earlier jobs of the batch ran may have been taken by
    another worker since (one conditional update)."""
    now = datetime.now(UTC)
    kept = await SyncJob.filter(id=job.id, lease_owner=lease.owner, lease_until__gte=now).update(
        lease_until=lease.until()
    )
    return kept == 1


async def release(job: SyncJob, lease: Lease, next_run_at: datetime | None) -> None:
    await SyncJob.filter(id=job.id, lease_owner=lease.owner).update(
        lease_owner=None, lease_until=None, next_run_at=next_run_at
    )


async def begin_run(
    scope: TenantScope, binding: DataBinding, lease: Lease, trigger: str, held: bool = False
) -> tuple[SyncJob, SyncRun]:
    """Claim the binding's job (``SyncBusy`` when another worker holds it), close the
    run a killed worker left open, and open this one: how every run of a data or an org
    binding starts. ``held``: the scheduler claimed the job already; it is confirmed."""
    job = await job_of(scope, binding)
    if not await (confirm(job, lease) if held else claim(job, lease)):
        raise SyncBusy(msg("sync.busy", name=binding.name))
    await close_interrupted(scope, binding)
    run = await scope.create(
        SyncRun, binding_id=binding.id, trigger=trigger, started_at=datetime.now(UTC)
    )
    return job, run


async def run_binding(
    scope: TenantScope,
    binding: DataBinding,
    adapter: type[DataAdapter],
    *,
    box: SecretBox,
    session: aiohttp.ClientSession,
    lease: Lease,
    trigger: str,
    today: date | None = None,
    progress: Progress | None = None,
    files: Path | None = None,
    held: bool = False,
) -> SyncRun:
    """Sync ``binding`` once through ``adapter``; the run says how it went.

    Raises ``SyncBusy`` when another worker holds the job; every other failure is
    recorded on the run (status ``failed``, with the error) and the cursor stays at
    the last stored batch.
    """
    job, run = await begin_run(scope, binding, lease, trigger, held)
    try:
        config = adapter.Config.model_validate({**binding.config, **box.open(binding.secrets)})
        source = adapter(config, session, today, files)
        resolver = await KpiResolver.load(scope, binding)
        cursor = (await SyncJob.get(id=job.id)).cursor
        async for batch in source.batches(cursor):
            await store_batch(scope, binding, run, job, batch, resolver)
            await SyncJob.filter(id=job.id, lease_owner=lease.owner).update(
                lease_until=lease.until()
            )
            if progress is not None:
                progress(run)
        run.status = SyncStatus.PARTIAL if run.rows_rejected else SyncStatus.SUCCEEDED
    except (AdapterError, SecretError, ValidationError, DomainError) as exc:
        run.status, run.error = SyncStatus.FAILED, str(exc)
    except Exception as exc:  # an adapter's own bug must not leave the run open
        log.exception("sync of binding %s failed", binding.id)
        run.status, run.error = SyncStatus.FAILED, f"{type(exc).__name__}: {exc}"
    finally:
        await end_run(job, run, binding, lease)
    return run


#: The error of a run its worker abandoned because it was told to stop.
STOPPED = "interrupted: the worker was stopped; the next run resumes at the stored cursor"


async def end_run(job: SyncJob, run: SyncRun, binding: DataBinding, lease: Lease) -> None:
    """Close the run and give the job back, due again after its period.

    A run still ``running`` here was cancelled (its worker is stopping, ``goalgraph
    worker`` on SIGTERM): the batch in flight rolled back, so it is closed as failed
    and the job keeps its due time, for the next worker to resume at the cursor of the
    last stored batch at once rather than a period later.
    """
    stopped = run.status is SyncStatus.RUNNING
    if stopped:
        run.status, run.error = SyncStatus.FAILED, STOPPED
    run.finished_at = datetime.now(UTC)
    await run.save(update_fields=["status", "error", "finished_at", "updated_at"])
    await release(job, lease, job.next_run_at if stopped else next_run(binding))


def next_run(binding: DataBinding) -> datetime | None:
    if not binding.active or not binding.every_minutes:
        return None
    return datetime.now(UTC) + timedelta(minutes=binding.every_minutes)


async def close_interrupted(scope: TenantScope, binding: DataBinding) -> None:
    """Runs left open by a worker that stopped (its lease ran out): mark them failed."""
    await (
        scope.query(SyncRun)
        .filter(binding_id=binding.id, status=SyncStatus.RUNNING)
        .update(
            status=SyncStatus.FAILED,
            error="interrupted: the worker stopped before the run ended",
            finished_at=datetime.now(UTC),
        )
    )


async def store_batch(
    scope: TenantScope,
    binding: DataBinding,
    run: SyncRun,
    job: SyncJob | None,
    batch: Batch,
    resolver: KpiResolver,
) -> None:
    """Write the batch's values, its rejections, the run's counters and the next cursor,
    all in one transaction."""
    entries: list[MeasurementInput] = []
    rejected = list(batch.rejected)
    source = f"sync:{binding.name}"[:64]
    for reading in batch.readings:
        kpi = resolver.kpi_for(reading)
        if isinstance(kpi, str):
            rejected.append(Rejection(reading.ref, kpi, _describe(reading)))
        else:
            entries.append(MeasurementInput(kpi, reading.period, reading.value, source))
    async with in_transaction():
        for start in range(0, len(entries), MAX_BATCH):
            await record_measurements(scope, entries[start : start + MAX_BATCH], returning=False)
        if rejected:
            await RejectedRow.bulk_create(
                [
                    scope.build(
                        RejectedRow,
                        run_id=run.id,
                        ref=r.ref[:200],
                        reason=r.reason,
                        content=r.content,
                    )
                    for r in rejected
                ]
            )
        run.rows_read += len(batch.readings) + len(batch.rejected)
        run.rows_written += len(entries)
        run.rows_rejected += len(rejected)
        await run.save(update_fields=["rows_read", "rows_written", "rows_rejected", "updated_at"])
        if job is not None:
            await SyncJob.filter(id=job.id).update(cursor=batch.cursor)


def _describe(reading: object) -> str:
    return str(reading)[:500]
