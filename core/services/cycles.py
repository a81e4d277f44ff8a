"""Cycles (考核周期): opening, closing and rolling objectives forward into the next one.

A closed cycle is a finished review: its stored scores are made current one last time
and then frozen (the score store skips closed cycles), and every write into its goals
is refused with ``CYCLE_CLOSED``. KPIs span cycles, so their measurements and settings
still change; only the closed cycle's figures stay as they were.

Rolling forward copies objectives of one cycle into another open one, with their
alignment tree, key results and KPI links, in a constant number of statements.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

from tortoise.transactions import in_transaction

from .. import audit
from ..enums import CycleKind, GoalStatus, Role
from ..errors import DomainError, ErrorCode, forbidden
from ..i18n import Msg, msg
from ..models import AuditEvent, Cycle, KeyResult, KpiLink, Objective
from ..scoring.store import Changes, ensure_built, rebuild, refresh
from ..tenancy import TenantScope
from ..validation import Checks
from .frozen import closed_error
from .key_results import AUDITED

_ADMINS = {Role.ADMIN, Role.CONSULTANT}
_INDEXES = {CycleKind.YEAR: 1, CycleKind.HALF: 2, CycleKind.QUARTER: 4, CycleKind.MONTH: 12}
FIRST_YEAR, LAST_YEAR = 1900, 2999


def _require_admin(scope: TenantScope, what: Msg | None = None) -> None:
    if scope.role not in _ADMINS:
        raise forbidden(msg("cycle.change_forbidden", what=what or msg("cycle.what.cycles")))


def cycle_span(kind: CycleKind, year: int, index: int = 1) -> tuple[str, str, date, date]:
    """``(name, name_en, starts_on, ends_on)`` of the ``index``-th cycle of ``kind`` in
    ``year``: (QUARTER, 2026, 4) is ("2026Q4", "2026 Q4", 2026-10-01, 2026-12-31). Weeks
    are ISO weeks ("2026-W05"); any other span takes explicit dates."""
    checks = Checks()
    if not FIRST_YEAR <= year <= LAST_YEAR:
        checks.add(
            ErrorCode.OUT_OF_RANGE,
            msg("cycle.year_range", first=FIRST_YEAR, last=LAST_YEAR),
            "year",
        )
    last = (
        date(year, 12, 28).isocalendar().week
        if kind is CycleKind.WEEK and FIRST_YEAR <= year <= LAST_YEAR
        else _INDEXES.get(kind, 53)
    )
    if not 1 <= index <= last:
        checks.add(ErrorCode.OUT_OF_RANGE, msg("cycle.index_range", last=last), "index")
    checks.done()
    if kind is CycleKind.YEAR:
        return str(year), str(year), date(year, 1, 1), date(year, 12, 31)
    if kind is CycleKind.WEEK:
        monday = date.fromisocalendar(year, index, 1)
        return (
            f"{year}-W{index:02d}",
            f"{year} week {index}",
            monday,
            monday + timedelta(days=6),
        )
    months = 12 // _INDEXES[kind]
    first_month = (index - 1) * months + 1
    last_month = first_month + months - 1
    starts_on = date(year, first_month, 1)
    ends_on = date(year, last_month, calendar.monthrange(year, last_month)[1])
    if kind is CycleKind.MONTH:
        return f"{year}-{index:02d}", f"{calendar.month_name[index]} {year}", starts_on, ends_on
    letter = "H" if kind is CycleKind.HALF else "Q"
    return f"{year}{letter}{index}", f"{year} {letter}{index}", starts_on, ends_on


def span_for(
    kind: CycleKind,
    *,
    year: int | None = None,
    index: int = 1,
    name: str | None = None,
    name_en: str | None = None,
    starts_on: date | None = None,
    ends_on: date | None = None,
) -> tuple[str, str, date, date]:
    """What a new cycle is called and spans: ``cycle_span`` of ``year`` and ``index``
    when a year is given (a name or dates given too take precedence), else the explicit
    name and dates, all required."""
    if year is not None:
        span_name, span_name_en, span_start, span_end = cycle_span(kind, year, index)
        return (
            span_name if name is None else name,
            span_name_en if name_en is None else name_en,
            span_start if starts_on is None else starts_on,
            span_end if ends_on is None else ends_on,
        )
    checks = Checks()
    for field, value in (("name", name), ("startsOn", starts_on), ("endsOn", ends_on)):
        if value is None:
            checks.add(ErrorCode.REQUIRED, msg("cycle.required_without_year", field=field), field)
    checks.done()
    assert name is not None
    assert starts_on is not None
    assert ends_on is not None
    return name, name_en or "", starts_on, ends_on


def _dates(cycle: Cycle) -> dict[str, Any]:
    return {
        "name": cycle.name,
        "kind": cycle.kind.value,
        "starts_on": cycle.starts_on.isoformat(),
        "ends_on": cycle.ends_on.isoformat(),
    }


async def create_cycle(
    scope: TenantScope,
    *,
    name: str,
    kind: CycleKind,
    starts_on: date,
    ends_on: date,
    name_en: str = "",
) -> Cycle:
    """A cycle (quarter, month, ...) with inclusive dates; names are unique per tenant.
    Its stored scores are built at once (values already measured in its span count)."""
    _require_admin(scope)
    checks = Checks()
    checks.text("name", name, 100)
    checks.text("nameEn", name_en, 100, required=False)
    if ends_on < starts_on:
        checks.add(ErrorCode.INVALID, msg("cycle.ends_before_start"), "endsOn")
    checks.done()
    if await scope.query(Cycle).filter(name=name.strip()).exists():
        raise DomainError.single(ErrorCode.CONFLICT, msg("cycle.exists", name=name), "name")
    async with in_transaction():
        cycle = await scope.create(
            Cycle,
            name=name.strip(),
            name_en=name_en.strip(),
            kind=kind,
            starts_on=starts_on,
            ends_on=ends_on,
        )
        await _audit(scope, "cycle.created", cycle.id, None, _dates(cycle))
        await rebuild(scope, cycle, await scope.scoring_policies())
    return cycle


async def _audit(
    scope: TenantScope,
    action: str,
    cycle_id: int,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    await audit.record(scope, action, "cycle", cycle_id, before, after)


async def _locked(scope: TenantScope, cycle_id: int) -> Cycle:
    cycle = await scope.query(Cycle).filter(id=cycle_id).select_for_update().first()
    if cycle is None:
        raise DomainError.single(
            ErrorCode.NOT_FOUND, msg("error.not_found", kind=msg("noun.cycle")), "id"
        )
    return cycle


async def close_cycle(scope: TenantScope, cycle_id: int) -> Cycle:
    """Close a cycle: its stored scores are made current once more, then frozen."""
    _require_admin(scope)
    await scope.get(Cycle, cycle_id, "id")
    async with in_transaction():
        cycle = await _locked(scope, cycle_id)
        if cycle.closed:
            raise closed_error(cycle, "id")
        await rebuild(scope, cycle, await scope.scoring_policies())
        cycle.closed_at = datetime.now(UTC)
        cycle.closed_by_id = scope.actor.person_id
        await cycle.save(update_fields=["closed_at", "closed_by_id", "updated_at"])
        await _audit(
            scope,
            "cycle.closed",
            cycle.id,
            {"closed_at": None, "closed_by_id": None},
            {"closed_at": cycle.closed_at.isoformat(), "closed_by_id": cycle.closed_by_id},
        )
    return cycle


async def reopen_cycle(scope: TenantScope, cycle_id: int) -> Cycle:
    """Open a closed cycle again (admins only): its goals take writes again and its
    stored scores catch up with what was measured or changed while it was closed."""
    if scope.role is not Role.ADMIN:
        raise forbidden(msg("cycle.reopen_admin_only"))
    await scope.get(Cycle, cycle_id, "id")
    async with in_transaction():
        cycle = await _locked(scope, cycle_id)
        if not cycle.closed:
            raise DomainError.single(ErrorCode.INVALID, msg("cycle.not_closed"), "id")
        assert cycle.closed_at is not None
        before = {"closed_at": cycle.closed_at.isoformat(), "closed_by_id": cycle.closed_by_id}
        cycle.closed_at = None
        cycle.closed_by_id = None
        await cycle.save(update_fields=["closed_at", "closed_by_id", "updated_at"])
        await _audit(
            scope, "cycle.reopened", cycle.id, before, {"closed_at": None, "closed_by_id": None}
        )
        await rebuild(scope, cycle, await scope.scoring_policies())
    return cycle


async def next_cycle(scope: TenantScope, cycle: Cycle) -> Cycle:
    """The cycle of the same kind that starts the day after ``cycle`` ends."""
    found = (
        await scope.query(Cycle)
        .filter(kind=cycle.kind, starts_on=cycle.ends_on + timedelta(days=1))
        .order_by("id")
        .first()
    )
    if found is None:
        raise DomainError.single(
            ErrorCode.NOT_FOUND,
            msg("cycle.no_next", kind=cycle.kind.value, name=cycle.name),
            "toCycleId",
        )
    return found


def rolled_start(key_result: KeyResult) -> float:
    """Where a rolled-forward key result starts: where the original stands now (the
    rest of the way to the same target), or where the original started when it already
    reached or passed its target."""
    start, target, current = (
        key_result.start_value,
        key_result.target_value,
        key_result.current_value,
    )
    reached = (target - start) * (current - target) >= 0
    return start if reached else current


async def roll_forward(
    scope: TenantScope,
    *,
    from_cycle_id: int,
    to_cycle_id: int | None,
    objective_ids: list[int] | None = None,
) -> list[Objective]:
    """Copy objectives of one cycle into another open one (default: the next cycle of the
    same kind): the chosen ones (default: every active one) with their active
    sub-objectives, key results and KPI links. A copy aligns under the copy of its
    parent, or at the top when its parent stays behind; each remembers its original in
    ``rolled_from_id``. Key results start afresh from where the original stands
    (``rolled_start``) towards the same target; the copies link the same KPIs, which
    span cycles. One transaction, a constant number of statements whatever the count."""
    _require_admin(scope, msg("cycle.what.roll_forward"))
    source = await scope.get(Cycle, from_cycle_id, "fromCycleId")
    if to_cycle_id is None:
        target = await next_cycle(scope, source)
    else:
        target = await scope.get(Cycle, to_cycle_id, "toCycleId")
    if target.id == source.id:
        raise DomainError.single(ErrorCode.INVALID, msg("cycle.roll_into_other"), "toCycleId")
    if target.closed:
        raise closed_error(target, "toCycleId")
    originals = await _chosen(scope, source, objective_ids)
    if not originals:
        return []
    ids = [o.id for o in originals]
    async with in_transaction():
        # Under the target's row lock: two rolls into one cycle cannot both copy, and a
        # cycle closing meanwhile is seen.
        target = await _locked(scope, target.id)
        if target.closed:
            raise closed_error(target, "toCycleId")
        taken = (
            await scope.query(Objective)
            .filter(cycle_id=target.id, rolled_from_id__in=ids, status=GoalStatus.ACTIVE)
            .values_list("rolled_from_id", flat=True)
        )
        if taken:
            raise DomainError.single(
                ErrorCode.CONFLICT,
                msg("cycle.already_rolled", count=len(taken), name=target.name),
                "objectiveIds",
            )
        copies = await _copy_objectives(scope, originals, target)
        key_results = await _copy_key_results(scope, copies)
        links = await _copy_links(scope, key_results)
        await _audit_copies(scope, copies, key_results, links)
        await _audit(
            scope,
            "cycle.rolled_forward",
            target.id,
            None,
            {"from_cycle_id": source.id, "objectives": len(copies)},
        )
        await ensure_built(scope, target)
        await refresh(
            scope,
            Changes(
                key_results={k.id for k, _ in key_results},
                objectives={o.id for o in copies.values()},
            ),
        )
    return sorted(copies.values(), key=lambda o: o.id)


async def _chosen(
    scope: TenantScope, source: Cycle, objective_ids: list[int] | None
) -> list[Objective]:
    """The active objectives to copy, parents before children: every one of the
    cycle, or the chosen ones with their active sub-objectives."""
    active = scope.query(Objective).filter(cycle_id=source.id, status=GoalStatus.ACTIVE)
    everything = await active.order_by("depth", "id")
    if objective_ids is None:
        return list(everything)
    by_id = {o.id: o for o in everything}
    unknown = [i for i in objective_ids if i not in by_id]
    if unknown:
        raise DomainError.single(
            ErrorCode.INVALID,
            msg("cycle.not_active_objectives", count=len(unknown), name=source.name),
            "objectiveIds",
        )
    prefixes = tuple(by_id[i].path for i in objective_ids)
    return [o for o in everything if o.path.startswith(prefixes)]


async def _copy_objectives(
    scope: TenantScope, originals: list[Objective], target: Cycle
) -> dict[int, Objective]:
    """Insert the copies in one statement, read their ids back, then set parents, paths
    and depths in one more: original id → copy."""
    await Objective.bulk_create(
        [
            scope.build(
                Objective,
                title=o.title,
                title_en=o.title_en,
                description=o.description,
                cycle_id=target.id,
                owner_unit_id=o.owner_unit_id,
                owner_person_id=o.owner_person_id,
                alignment_weight=o.alignment_weight,
                origin=o.origin,
                rolled_from_id=o.id,
            )
            for o in originals
        ]
    )
    copies: dict[int, Objective] = {
        int(c.rolled_from_id or 0): c
        for c in await scope.query(Objective).filter(
            cycle_id=target.id,
            rolled_from_id__in=[o.id for o in originals],
            status=GoalStatus.ACTIVE,
        )
    }
    for original in originals:  # parents come first
        copy = copies[original.id]
        parent = copies.get(original.parent_id) if original.parent_id else None
        copy.parent_id = parent.id if parent else None
        copy.path = f"{parent.path if parent else '/'}{copy.id}/"
        copy.depth = parent.depth + 1 if parent else 0
    await Objective.bulk_update(list(copies.values()), fields=["parent_id", "path", "depth"])
    return copies


async def _copy_key_results(
    scope: TenantScope, copies: dict[int, Objective]
) -> list[tuple[KeyResult, KeyResult]]:
    """Each copied objective's active key results, as fresh ones: (copy, original)."""
    originals = (
        await scope.query(KeyResult)
        .filter(objective_id__in=list(copies), status=GoalStatus.ACTIVE)
        .order_by("objective_id", "id")
    )
    if not originals:
        return []
    await KeyResult.bulk_create(
        [
            scope.build(
                KeyResult,
                objective_id=copies[k.objective_id].id,
                title=k.title,
                title_en=k.title_en,
                unit=k.unit,
                direction=k.direction,
                start_value=rolled_start(k),
                target_value=k.target_value,
                current_value=rolled_start(k),
                weight=k.weight,
                owner_unit_id=k.owner_unit_id,
                owner_person_id=k.owner_person_id,
                origin=k.origin,
            )
            for k in originals
        ]
    )
    made = (
        await scope.query(KeyResult)
        .filter(objective_id__in=[c.id for c in copies.values()])
        .order_by("objective_id", "id")
    )
    # Both lists are grouped by objective in insertion order: pair them group by group.
    by_objective: dict[int, list[KeyResult]] = defaultdict(list)
    for row in made:
        by_objective[row.objective_id].append(row)
    pairs: list[tuple[KeyResult, KeyResult]] = []
    taken: dict[int, int] = defaultdict(int)
    for original in originals:
        copy_objective = copies[original.objective_id].id
        pairs.append((by_objective[copy_objective][taken[copy_objective]], original))
        taken[copy_objective] += 1
    return pairs


async def _copy_links(
    scope: TenantScope, key_results: list[tuple[KeyResult, KeyResult]]
) -> list[KpiLink]:
    """The same KPIs feed the copies, with the same weights (KPIs span cycles)."""
    copy_of = {original.id: copy.id for copy, original in key_results}
    if not copy_of:
        return []
    originals = (
        await scope.query(KpiLink)
        .filter(key_result_id__in=list(copy_of), kpi__status=GoalStatus.ACTIVE)
        .order_by("id")
    )
    if not originals:
        return []
    await KpiLink.bulk_create(
        [
            scope.build(
                KpiLink,
                key_result_id=copy_of[link.key_result_id],
                kpi_id=link.kpi_id,
                weight=link.weight,
            )
            for link in originals
        ]
    )
    return list(
        await scope.query(KpiLink).filter(key_result_id__in=list(copy_of.values())).order_by("id")
    )


async def _audit_copies(
    scope: TenantScope,
    copies: dict[int, Objective],
    key_results: list[tuple[KeyResult, KeyResult]],
    links: list[KpiLink],
) -> None:
    """One event per new objective, key result and link, in one statement."""

    def event(action: str, entity_type: str, entity_id: int, after: dict[str, Any]) -> AuditEvent:
        return scope.build(
            AuditEvent,
            actor_id=scope.actor.person_id,
            actor_role=scope.role.value,
            action=action,
            entity_type=entity_type,
            entity_id=entity_id,
            before=None,
            after=after,
        )

    events = [
        event(
            "objective.created",
            "objective",
            copy.id,
            {
                "title": copy.title,
                "alignment_weight": copy.alignment_weight,
                "rolled_from_id": original_id,
            },
        )
        for original_id, copy in sorted(copies.items(), key=lambda item: item[1].id)
    ]
    events += [
        event(
            "key_result.created",
            "key_result",
            copy.id,
            {k: getattr(copy, k) for k in AUDITED},
        )
        for copy, _ in key_results
    ]
    events += [
        event(
            "kpi.linked",
            "kpi_link",
            link.id,
            {"key_result_id": link.key_result_id, "kpi_id": link.kpi_id, "weight": link.weight},
        )
        for link in links
    ]
    await AuditEvent.bulk_create(events)
