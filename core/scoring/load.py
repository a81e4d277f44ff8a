"""Loading a cycle's rows for the engine in a constant number of queries."""

from __future__ import annotations

from datetime import date

from tortoise.functions import Count

from ..enums import GoalStatus
from ..models import Cycle, KeyResult, Kpi, KpiLink, Objective
from ..tenancy import TenantScope
from .engine import CycleRows
from .values import span_values


async def load_cycle(scope: TenantScope, cycle: Cycle, values: bool = True) -> CycleRows:
    """Active objectives, key results, links and every active KPI of the tenant, with
    the KPIs' values over the cycle unless ``values`` is false (six queries at most,
    whatever the size)."""
    objectives = (
        await scope.query(Objective)
        .filter(cycle_id=cycle.id, status=GoalStatus.ACTIVE)
        .order_by("id")
    )
    key_results = (
        await scope.query(KeyResult)
        .filter(
            objective__cycle_id=cycle.id,
            objective__status=GoalStatus.ACTIVE,
            status=GoalStatus.ACTIVE,
        )
        .order_by("id")
    )
    links = (
        await scope.query(KpiLink)
        .filter(
            key_result__objective__cycle_id=cycle.id,
            key_result__status=GoalStatus.ACTIVE,
            kpi__status=GoalStatus.ACTIVE,
        )
        .order_by("id")
    )
    kpis = {k.id: k for k in await scope.query(Kpi).filter(status=GoalStatus.ACTIVE)}
    found = (
        await span_values(scope, kpis.values(), cycle.starts_on, cycle.ends_on) if values else {}
    )
    return CycleRows(list(objectives), list(key_results), list(links), kpis, found)


async def default_cycle(scope: TenantScope, today: date) -> Cycle | None:
    """The cycle to score when none is named: the shortest one running today that holds
    objectives, else any running today, else the latest."""
    running = await scope.query(Cycle).filter(starts_on__lte=today, ends_on__gte=today)
    if running:
        counts = dict(
            await scope.query(Objective)
            .filter(cycle_id__in=[c.id for c in running], status=GoalStatus.ACTIVE)
            .group_by("cycle_id")
            .annotate(n=Count("id"))
            .values_list("cycle_id", "n")
        )
        with_goals = [c for c in running if counts.get(c.id)]
        pool = with_goals or running
        return min(pool, key=lambda c: (c.ends_on - c.starts_on, -c.id))
    return await scope.query(Cycle).order_by("-starts_on", "-id").first()
