"""Loading a cycle's rows for the engine in a constant number of queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from tortoise.expressions import Q, Subquery
from tortoise.functions import Count
from tortoise.queryset import QuerySet

from ..enums import GoalStatus
from ..models import Cycle, KeyResult, Kpi, KpiLink, Objective, OrgUnit, Person
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


@dataclass(frozen=True, slots=True)
class Reach:
    """Whose scorecards a read must answer: the goals it loads, so a department's
    scorecard costs what the department owns, not the whole cycle.

    ``everything`` loads the whole cycle (its links too: lineage needs them); otherwise
    the goals owned by the units and people under ``below`` (an org path) or in
    ``unit_ids``/``person_ids``, or with ``company`` the top-level objectives and every
    KPI. A partial load holds no links: a scorecard reads stored scores only."""

    everything: bool = False
    below: str | None = None
    unit_ids: frozenset[int] = frozenset()
    person_ids: frozenset[int] = frozenset()
    company: bool = False

    @classmethod
    def owners(
        cls, unit_ids: frozenset[int] = frozenset(), person_ids: frozenset[int] = frozenset()
    ) -> Reach:
        return cls(unit_ids=unit_ids, person_ids=person_ids)

    def owned(self, scope: TenantScope) -> Q:
        """The filter on a goal's owner."""
        if self.below is not None:
            units = units_below(scope, self.below)
            people = scope.query(Person).filter(org_unit_id__in=Subquery(units.values("id")))
            return Q(owner_unit_id__in=Subquery(units.values("id"))) | Q(
                owner_person_id__in=Subquery(people.values("id"))
            )
        return Q(owner_unit_id__in=self.unit_ids or [0]) | Q(
            owner_person_id__in=self.person_ids or [0]
        )


def units_below(scope: TenantScope, path: str) -> QuerySet[OrgUnit]:
    """The org unit at ``path`` and every unit under it: as a subquery, lookups by unit
    id then run on an index, where a join filtered on the unit's path scans the table."""
    return scope.query(OrgUnit).filter(path__startswith=path)


EVERYTHING = Reach(everything=True)


async def load_reach(scope: TenantScope, cycle: Cycle, reach: Reach) -> CycleRows:
    """The active goals of the cycle a read reaches (three queries; no values)."""
    if reach.everything:
        return await load_cycle(scope, cycle, values=False)
    active = GoalStatus.ACTIVE
    objectives = scope.query(Objective).filter(cycle_id=cycle.id, status=active)
    kpis = scope.query(Kpi).filter(status=active)
    key_results: list[KeyResult] = []
    if reach.company:
        objectives = objectives.filter(parent_id__isnull=True)
    else:
        owned = reach.owned(scope)
        objectives, kpis = objectives.filter(owned), kpis.filter(owned)
        key_results = list(
            await scope.query(KeyResult)
            .filter(objective__cycle_id=cycle.id, objective__status=active, status=active)
            .filter(owned)
            .order_by("id")
        )
    found = {k.id: k for k in await kpis.order_by("id")}
    return CycleRows(list(await objectives.order_by("id")), key_results, [], found, {})


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
