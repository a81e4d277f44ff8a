"""Scores as they stood at a past moment, rebuilt from the audit trail.

Everything that moves a score leaves a trace: settings changes, archives, links,
check-ins, stage and weighting switches, pack enablements, a goal handed to another
owner, a person's move to another unit or change of role, and a unit's move under
another parent are audit events with their before and after values, and a replaced
measurement value is kept as a revision. The rows as they were at ``at`` are today's
rows with every later event undone, newest first; the measurements are the versions
that were current at ``at``.
Scoring those rows gives the figures a review saw then.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from tortoise.expressions import Q

from ..enums import Aggregation, Direction, GoalStatus, Role
from ..models import (
    AuditEvent,
    Cycle,
    KeyResult,
    Kpi,
    KpiLink,
    Measurement,
    MeasurementRevision,
    Objective,
    OrgUnit,
    PackEnablement,
    Person,
    StageWeighting,
)
from ..tenancy import TenantScope
from .aggregate import aggregate
from .engine import CycleRows
from .values import as_date

#: Fields whose audited values are enum members on the rows.
_ENUMS: dict[str, type[StrEnum]] = {
    "status": GoalStatus,
    "direction": Direction,
    "aggregation": Aggregation,
}
_GOALS = {"objective": Objective, "key_result": KeyResult, "kpi": Kpi}


@dataclass
class PastSettings:
    """The tenant-wide settings in force at a moment."""

    stage: str
    #: The tenant's own OKR share per stage (stages absent use the preset).
    okr_shares: dict[str, float]
    #: Enabled packs and their stages.
    enablements: dict[str, list[str]]


async def settings_as_of(scope: TenantScope, at: datetime) -> PastSettings:
    """Stage, weightings and pack enablements as they were at ``at``."""
    settings = PastSettings(
        scope.tenant.lifecycle_stage,
        {w.stage: w.okr_share for w in await scope.query(StageWeighting).all()},
        {e.pack: list(e.stages) for e in await scope.query(PackEnablement).all()},
    )
    later = (
        await scope.query(AuditEvent)
        .filter(created_at__gt=at, entity_type__in=["tenant", "stage_weighting", "pack_enablement"])
        .order_by("-created_at", "-id")
    )
    for event in later:
        before = event.before or {}
        if event.action == "tenant.stage_changed":
            settings.stage = before["stage"]
        elif event.action == "stage.weighting_changed":
            settings.okr_shares[before["stage"]] = before["okr_share"]
        elif event.entity_type == "pack_enablement":
            pack = (event.after or before)["pack"]
            if event.before is None:
                settings.enablements.pop(pack, None)  # enabled later: not yet then
            else:
                settings.enablements[pack] = list(before["stages"])
    return settings


async def cycle_as_of(
    scope: TenantScope, cycle: Cycle, at: datetime, values: bool = True
) -> CycleRows:
    """The cycle's rows and KPI values as they were at ``at`` (the rows alone when
    ``values`` is false: a closed cycle's scores are read from the store)."""
    objectives = {
        o.id: o for o in await scope.query(Objective).filter(cycle_id=cycle.id, created_at__lte=at)
    }
    key_results = {
        k.id: k
        for k in await scope.query(KeyResult).filter(
            objective_id__in=list(objectives), created_at__lte=at
        )
    }
    kpis = {k.id: k for k in await scope.query(Kpi).filter(created_at__lte=at)}
    links = {
        link.id: link
        for link in await scope.query(KpiLink).filter(key_result_id__in=list(key_results))
    }
    rows: dict[str, dict[int, Any]] = {
        "objective": objectives,
        "key_result": key_results,
        "kpi": kpis,
    }
    later = (
        await scope.query(AuditEvent)
        .filter(created_at__gt=at, entity_type__in=[*_GOALS, "kpi_link"])
        .order_by("-created_at", "-id")
    )
    for event in later:
        if event.entity_type == "kpi_link":
            _undo_link(event, links, key_results)
        else:
            row = rows[event.entity_type].get(event.entity_id)
            if row is not None:
                _undo(row, event.before or {})
    _place(objectives)
    live_objectives = [o for o in objectives.values() if o.status is GoalStatus.ACTIVE]
    live_ids = {o.id for o in live_objectives}
    live_krs = [
        k
        for k in key_results.values()
        if k.status is GoalStatus.ACTIVE and k.objective_id in live_ids
    ]
    live_kpis = {k.id: k for k in kpis.values() if k.status is GoalStatus.ACTIVE}
    kr_ids = {k.id for k in live_krs}
    live_links = [
        link for link in links.values() if link.key_result_id in kr_ids and link.kpi_id in live_kpis
    ]
    found = (
        await values_as_of(scope, live_kpis, cycle.starts_on, cycle.ends_on, at) if values else {}
    )
    return CycleRows(
        sorted(live_objectives, key=lambda o: o.id),
        sorted(live_krs, key=lambda k: k.id),
        sorted(live_links, key=lambda link: link.id),
        live_kpis,
        found,
    )


def _undo(row: Any, before: dict[str, Any]) -> None:
    """Put back the values an event replaced."""
    for name, value in before.items():
        if name in row._meta.fields_map or name.endswith("_id"):
            kind = _ENUMS.get(name)
            setattr(row, name, kind(value) if kind is not None and value is not None else value)


def _undo_link(event: AuditEvent, links: dict[int, KpiLink], key_results: dict[int, Any]) -> None:
    before = event.before or {}
    if event.action == "kpi.linked":
        links.pop(event.entity_id, None)  # made later: not there yet
    elif event.action == "kpi.unlinked" and before.get("key_result_id") in key_results:
        link = KpiLink(weight=before["weight"])
        link.id = event.entity_id
        link.key_result_id = before["key_result_id"]
        link.kpi_id = before["kpi_id"]
        links[event.entity_id] = link
    elif event.action == "kpi.link_weight" and event.entity_id in links:
        links[event.entity_id].weight = before["weight"]


def _place(objectives: dict[int, Objective]) -> None:
    """Depth and path from the parents as they were (moves were undone on parent_id)."""

    def path(objective: Objective, seen: frozenset[int] = frozenset()) -> str:
        parent = objectives.get(objective.parent_id) if objective.parent_id else None
        if parent is None or parent.id in seen:
            return f"/{objective.id}/"
        return f"{path(parent, seen | {objective.id})}{objective.id}/"

    for objective in objectives.values():
        objective.path = path(objective)
        objective.depth = objective.path.count("/") - 2


async def people_as_of(scope: TenantScope, people: Sequence[Person], at: datetime) -> list[Person]:
    """Copies of ``people`` as they were at ``at``: unit, role and active state put back
    from later audit events (a scorecard counts a manager's unit's goals too, so where
    a person sat then matters). People added after ``at`` are left out."""
    existing = [copy.copy(p) for p in people if p.created_at <= at]
    if not existing:
        return []
    later = await _person_events(scope, at, [p.id for p in existing])
    _undo_people({p.id: p for p in existing}, later)
    return existing


async def people_below_as_of(scope: TenantScope, unit: OrgUnit, at: datetime) -> list[Person]:
    """The active people of ``unit`` and the units below it as the org stood at ``at``:
    units where they were then (moves undone) and people where they were then."""
    paths = await unit_paths_as_of(scope, at)
    top = paths.get(unit.id)
    if top is None:
        return []
    below = {unit_id for unit_id, path in paths.items() if path.startswith(top)}
    later = await _person_events(scope, at)
    moved = {event.entity_id for event in later}
    candidates = [
        copy.copy(p)
        for p in await scope.query(Person)
        .filter(Q(org_unit_id__in=below) | Q(id__in=moved or [0]), created_at__lte=at)
        .order_by("id")
    ]
    _undo_people({p.id: p for p in candidates}, later)
    return [p for p in candidates if p.org_unit_id in below and p.active]


async def unit_paths_as_of(scope: TenantScope, at: datetime) -> dict[int, str]:
    """Every unit's materialised path at ``at``, from the parents it had then."""
    parents: dict[int, int | None] = {
        int(i): p
        for i, p in await scope.query(OrgUnit)
        .filter(created_at__lte=at)
        .values_list("id", "parent_id")
    }
    moves = (
        await scope.query(AuditEvent)
        .filter(created_at__gt=at, entity_type="org_unit", action="org_unit.moved")
        .order_by("-created_at", "-id")
    )
    for event in moves:
        if event.entity_id in parents and event.before is not None:
            parents[event.entity_id] = event.before.get("parent_id")
    paths: dict[int, str] = {}

    def path(unit_id: int, seen: frozenset[int] = frozenset()) -> str:
        if unit_id not in paths:
            parent = parents.get(unit_id)
            above = (
                path(parent, seen | {unit_id}) if parent in parents and parent not in seen else "/"
            )
            paths[unit_id] = f"{above}{unit_id}/"
        return paths[unit_id]

    for unit_id in parents:
        path(unit_id)
    return paths


async def _person_events(
    scope: TenantScope, at: datetime, ids: Sequence[int] | None = None
) -> list[AuditEvent]:
    query = scope.query(AuditEvent).filter(created_at__gt=at, entity_type="person")
    if ids is not None:
        query = query.filter(entity_id__in=list(ids))
    return list(await query.order_by("-created_at", "-id"))


#: The fields of a person a past scorecard or ranking depends on.
_PERSON_FIELDS = ("org_unit_id", "role", "active")


def _undo_people(people: dict[int, Person], later: Sequence[AuditEvent]) -> None:
    """Put back the unit, role and active state later events (newest first) replaced."""
    for event in later:
        person = people.get(event.entity_id)
        before = event.before or {}
        if person is None:
            continue
        for name in _PERSON_FIELDS:
            if name in before:
                value = before[name]
                setattr(person, name, Role(value) if name == "role" else value)


async def values_as_of(
    scope: TenantScope, kpis: dict[int, Kpi], starts_on: date, ends_on: date, at: datetime
) -> dict[int, float]:
    """Each KPI's value over the span from the measurement versions current at ``at``:
    values recorded by then, or the revision a later write replaced."""
    if not kpis:
        return {}
    span = {"kpi_id__in": list(kpis), "period_start__gte": starts_on, "period_start__lte": ends_on}
    current = (
        await scope.query(Measurement)
        .filter(**span, recorded_at__lte=at)
        .values_list("kpi_id", "period_start", "value")
    )
    replaced = (
        await scope.query(MeasurementRevision)
        .filter(**span, recorded_at__lte=at, replaced_at__gt=at)
        .values_list("kpi_id", "period_start", "value")
    )
    periods: dict[int, dict[date, float]] = defaultdict(dict)
    for kpi_id, period, value in [*replaced, *current]:
        periods[kpi_id][as_date(period)] = float(value)
    found: dict[int, float] = {}
    for kpi_id, by_period in periods.items():
        value = aggregate(sorted(by_period.items()), kpis[kpi_id].aggregation)
        if value is not None:
            found[kpi_id] = value
    return found
