"""Running an org binding: keep a tenant's units and people in step with its directory.

The same machinery as data syncs (``runner``): the job is claimed with its lease, every
run is recorded with its counts and rejected rows, and each page is applied in one
transaction together with the cursor that follows it, so a run stopped at any point
resumes after its last stored page with nothing lost or doubled.

What the job's cursor holds for an org binding: the pass (one read of the whole
directory, possibly over several runs), the source's own cursor within it, and the
managers met before the managers themselves. When the source has given its last page,
the pass completes: those managers are set and, when the binding says so
(``deactivate_missing``), the binding's people the pass did not see are deactivated.
Only then does the next run start a new pass.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from typing import Any, cast

import aiohttp
from pydantic import ValidationError
from tortoise.transactions import in_transaction

from ..core.enums import SyncStatus
from ..core.errors import DomainError
from ..core.models import DataBinding, OrgSourceMember, Person, RejectedRow, SyncJob, SyncRun
from ..core.secrets import SecretBox, SecretError
from ..core.services.people import deactivate_many
from ..core.tenancy import TenantScope
from .contract import AdapterError, Cursor, Rejection
from .org_apply import Applied, apply_people, apply_units, resolve_managers
from .org_source import OrgPage, OrgSource, OrgSourceConfig, TokenCache
from .runner import Lease, Progress, begin_run, end_run

log = logging.getLogger(__name__)


@dataclass
class PassState:
    """A pass through the directory, as the job's cursor keeps it."""

    id: str
    source: Cursor | None = None
    done: bool = False
    managers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, cursor: Cursor | None) -> PassState:
        if not cursor or "pass" not in cursor:
            return cls(uuid.uuid4().hex)
        return cls(
            str(cursor["pass"]),
            cursor.get("source"),
            bool(cursor.get("done")),
            dict(cursor.get("managers") or {}),
        )

    def cursor(self) -> dict[str, Any]:
        return {
            "pass": self.id,
            "source": self.source,
            "done": self.done,
            "managers": self.managers,
        }


async def run_org_binding(
    scope: TenantScope,
    binding: DataBinding,
    source_class: type[OrgSource],
    *,
    box: SecretBox,
    session: aiohttp.ClientSession,
    lease: Lease,
    trigger: str,
    tokens: TokenCache,
    progress: Progress | None = None,
    held: bool = False,
) -> SyncRun:
    """Sync ``binding``'s directory once; the run says how it went.

    Raises ``SyncBusy`` when another worker holds the job; every other failure is
    recorded on the run (status ``failed``, with the error) and the cursor stays at
    the last stored page.
    """
    job, run = await begin_run(scope, binding, lease, trigger, held)
    try:
        config = source_class.Config.model_validate({**binding.config, **box.open(binding.secrets)})
        source = source_class(config, session, tokens)
        state = PassState.of((await SyncJob.get(id=job.id)).cursor)
        if not state.done:
            async for page in source.pages(state.source):
                await store_page(scope, binding, run, job, page, state)
                await SyncJob.filter(id=job.id, lease_owner=lease.owner).update(
                    lease_until=lease.until()
                )
                if progress is not None:
                    progress(run)
            if not state.done:  # a source that ended without saying so
                state.done = True
        await finish_pass(scope, binding, run, job, state, config)
        run.status = SyncStatus.PARTIAL if run.rows_rejected else SyncStatus.SUCCEEDED
    except (AdapterError, SecretError, ValidationError, DomainError) as exc:
        run.status, run.error = SyncStatus.FAILED, str(exc)
    except Exception as exc:  # a source's own bug must not leave the run open
        log.exception("sync of org binding %s failed", binding.id)
        run.status, run.error = SyncStatus.FAILED, f"{type(exc).__name__}: {exc}"
    finally:
        await end_run(job, run, binding, lease)
    return run


async def store_page(
    scope: TenantScope,
    binding: DataBinding,
    run: SyncRun,
    job: SyncJob,
    page: OrgPage,
    state: PassState,
) -> None:
    """Apply one page, keep its rejected rows, count it and move the cursor: one
    transaction."""
    async with in_transaction():
        applied = Applied()
        if page.units:
            applied = await apply_units(scope, page)
        if page.people:
            people = await apply_people(scope, page, binding.id, state.id)
            applied.written += people.written
            applied.rejected += people.rejected
            applied.pending.update(people.pending)
        for person in page.people:  # seen now: only a still-unknown manager waits
            if person.external_id not in applied.pending:
                state.managers.pop(person.external_id, None)
        state.managers.update(applied.pending)
        await _count(scope, run, page, applied)
        state.source, state.done = page.cursor, page.cursor is None
        await SyncJob.filter(id=job.id).update(cursor=state.cursor())


async def finish_pass(
    scope: TenantScope,
    binding: DataBinding,
    run: SyncRun,
    job: SyncJob,
    state: PassState,
    config: OrgSourceConfig,
) -> None:
    """The pass read the whole directory: set the managers it met late, deactivate the
    people it did not see (when the binding says so) and start a new pass next time."""
    async with in_transaction():
        applied = await resolve_managers(scope, state.managers)
        if config.deactivate_missing:
            applied.written += await _deactivate_unseen(scope, binding, state.id)
        await _count(scope, run, OrgPage(), applied)
        await SyncJob.filter(id=job.id).update(cursor=None)


async def _deactivate_unseen(scope: TenantScope, binding: DataBinding, pass_id: str) -> int:
    """Deactivate the binding's active people this pass did not see. A pass that saw
    nobody at all (an app that lost its access) deactivates nobody."""
    members = scope.query(OrgSourceMember).filter(binding_id=binding.id)
    if not await members.filter(seen_pass=pass_id).exists():
        return 0
    unseen = await members.exclude(seen_pass=pass_id).values_list("person_id", flat=True)
    found = await (
        scope.query(Person).filter(id__in=list(unseen), active=True).values_list("id", flat=True)
    )
    ids = cast(list[int], list(found))
    if not ids:
        return 0
    await deactivate_many(scope, ids)
    return len(ids)


async def _count(scope: TenantScope, run: SyncRun, page: OrgPage, applied: Applied) -> None:
    rejected = [*page.rejected, *applied.rejected]
    if rejected:
        await RejectedRow.bulk_create([_rejected(scope, run, r) for r in rejected])
    run.rows_read += len(page.units) + len(page.people) + len(page.rejected)
    run.rows_written += applied.written
    run.rows_rejected += len(rejected)
    await run.save(update_fields=["rows_read", "rows_written", "rows_rejected", "updated_at"])


def _rejected(scope: TenantScope, run: SyncRun, rejection: Rejection) -> RejectedRow:
    return scope.build(
        RejectedRow,
        run_id=run.id,
        ref=rejection.ref[:200],
        reason=rejection.reason,
        content=rejection.content,
    )
