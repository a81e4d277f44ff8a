"""Recording KPI measurements: batches, idempotent per KPI and period.

A batch is checked whole before anything is written and written in one
transaction: either every value lands or none does. Writing a period again
replaces its value (an upsert on the ``(kpi, period_start)`` key), so replays
from data adapters never double a number; a value that changes is kept as a
``MeasurementRevision``, so nothing is lost.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from tortoise.transactions import in_transaction

from .. import events
from ..access import can_edit_goal
from ..bulk import insert_rows, update_rows
from ..enums import GoalStatus
from ..errors import DomainError, ErrorCode, Problem
from ..i18n import msg
from ..models import Kpi, Measurement, MeasurementRevision
from ..owners import owner_refs
from ..periods import period_start
from ..scoring.store import Changes, refresh
from ..tenancy import TenantScope
from ..validation import Checks

MAX_BATCH = 5000


@dataclass(frozen=True, slots=True)
class MeasurementInput:
    """One value for one KPI on any day of the period it belongs to."""

    kpi_id: int
    period: date
    value: float
    source: str = "manual"


async def record_measurements(
    scope: TenantScope, entries: Sequence[MeasurementInput], returning: bool = True
) -> list[Measurement]:
    """Upsert a batch of measurements; returns the stored rows in input order (none
    when ``returning`` is false: syncs need only the counts).

    Two entries for the same KPI and period in one batch: the later one wins,
    exactly as if they had been sent one after the other.
    """
    if not entries:
        raise DomainError.single(ErrorCode.REQUIRED, msg("measurement.none_given"), "entries")
    if len(entries) > MAX_BATCH:
        raise DomainError.single(
            ErrorCode.OUT_OF_RANGE, msg("measurement.batch_too_large", max=MAX_BATCH), "entries"
        )
    checks = Checks()
    for i, entry in enumerate(entries):
        checks.number(f"entries.{i}.value", entry.value)
        checks.text(f"entries.{i}.source", entry.source, 64)
    checks.done()

    now = datetime.now(UTC)
    async with in_transaction():
        kpis = await _lock_kpis(scope, {e.kpi_id for e in entries})
        await _check_kpis(scope, entries, kpis)
        latest: dict[tuple[int, date], tuple[float, str]] = {}
        for entry in entries:
            kpi = kpis[entry.kpi_id]
            period = period_start(entry.period, kpi.frequency)
            latest[(kpi.id, period)] = (entry.value, entry.source)
        changed = await _keep_replaced(scope, latest, now)
        if changed:
            by = scope.actor.person_id
            await insert_rows(
                scope,
                Measurement,
                ("kpi_id", "period_start", "value", "source", "recorded_at", "recorded_by_id"),
                ((k, p, value, source, now, by) for (k, p), (value, source) in changed.items()),
                on_conflict=("tenant_id", "kpi_id", "period_start"),
                update=("value", "source", "recorded_at", "recorded_by_id"),
            )
            await _refresh_current(scope, kpis, changed)
            measured: dict[int, set[date]] = {}
            for kpi_id, period in changed:
                measured.setdefault(kpi_id, set()).add(period)
            await refresh(scope, Changes(measured=measured))
            await events.publish_on_commit(
                events.Event(scope.tenant_id, events.PROGRESS, {"kpis": sorted(measured)})
            )
        if not returning:
            return []
        stored = await scope.query(Measurement).filter(
            kpi_id__in={k for k, _ in latest}, period_start__in={p for _, p in latest}
        )
    by_key = {(m.kpi_id, m.period_start): m for m in stored}
    return [by_key[(e.kpi_id, period_start(e.period, kpis[e.kpi_id].frequency))] for e in entries]


async def _lock_kpis(scope: TenantScope, ids: set[int]) -> dict[int, Kpi]:
    """The batch's KPIs, read inside its transaction and locked until it ends.

    Batches writing the same KPI then run one after another: each keeps the value the
    previous one stored as replaced, and mirrors its newest period onto the KPI from
    what the previous one left, not from a copy read before that one committed (which
    lost the other batch's newer period). Locked in id order, so two batches never wait
    on each other crosswise. SQLite ignores the lock clause and writes one transaction
    at a time; reading inside the transaction is what it needs.
    """
    locked = await scope.query(Kpi).filter(id__in=ids).order_by("id").select_for_update(no_key=True)
    return {k.id: k for k in locked}


async def _check_kpis(
    scope: TenantScope, entries: Sequence[MeasurementInput], kpis: dict[int, Kpi]
) -> None:
    """Every entry's KPI exists, is not archived and may be written by the caller
    (every problem reported at once)."""
    refs = await owner_refs(scope, ((k.owner_unit_id, k.owner_person_id) for k in kpis.values()))
    problems: list[Problem] = []
    for i, entry in enumerate(entries):
        field = f"entries.{i}.kpiId"
        kpi = kpis.get(entry.kpi_id)
        if kpi is None:
            problems.append(
                Problem(ErrorCode.NOT_FOUND, msg("error.not_found", kind=msg("noun.kpi")), field)
            )
        elif kpi.status is GoalStatus.ARCHIVED:
            problems.append(Problem(ErrorCode.ARCHIVED, msg("kpi.archived"), field))
        elif not can_edit_goal(scope, refs[(kpi.owner_unit_id, kpi.owner_person_id)]):
            problems.append(Problem(ErrorCode.FORBIDDEN, msg("measurement.forbidden"), field))
    if problems:
        raise DomainError(*problems)


async def _keep_replaced(
    scope: TenantScope, incoming: dict[tuple[int, date], tuple[float, str]], now: datetime
) -> dict[tuple[int, date], tuple[float, str]]:
    """Keep, as revisions, the stored values this batch is about to change; returns
    the entries that change anything (a value written again as it was is left alone,
    so its recording time stays when it was first known)."""
    stored = (
        await scope.query(Measurement)
        .filter(kpi_id__in={k for k, _ in incoming}, period_start__in={p for _, p in incoming})
        .only("id", "kpi_id", "period_start", "value", "source", "recorded_at", "recorded_by_id")
    )
    same = {
        (old.kpi_id, old.period_start)
        for old in stored
        if incoming.get((old.kpi_id, old.period_start)) == (old.value, old.source)
    }
    replaced = [
        scope.build(
            MeasurementRevision,
            kpi_id=old.kpi_id,
            period_start=old.period_start,
            value=old.value,
            source=old.source,
            recorded_at=old.recorded_at,
            recorded_by_id=old.recorded_by_id,
            replaced_at=now,
        )
        for old in stored
        if (new := incoming.get((old.kpi_id, old.period_start))) is not None
        and new != (old.value, old.source)
    ]
    if replaced:
        await MeasurementRevision.bulk_create(replaced)
    return {key: row for key, row in incoming.items() if key not in same}


async def _refresh_current(
    scope: TenantScope, kpis: dict[int, Kpi], written: dict[tuple[int, date], tuple[float, str]]
) -> None:
    """Mirror the newest period's value onto each KPI (values are never deleted)."""
    newest: dict[int, tuple[date, float]] = {}
    for (kpi_id, period), (value, _) in written.items():
        if kpi_id not in newest or period > newest[kpi_id][0]:
            newest[kpi_id] = (period, value)
    changed: list[Kpi] = []
    for kpi_id, (period, value) in newest.items():
        kpi = kpis[kpi_id]
        if kpi.current_period is None or period >= kpi.current_period:
            kpi.current_value = value
            kpi.current_period = period
            changed.append(kpi)
    await update_rows(
        scope,
        Kpi,
        ("current_value", "current_period"),
        ((k.id, k.current_value, k.current_period) for k in changed),
    )
