"""DataLoaders: every list of nodes costs one ``IN`` query per kind, never one per node.

One ``Loaders`` per request (built lazily by the context) so caches never outlive
a request or cross tenants. Each loader returns results in key order.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, TypeVar

from strawberry.dataloader import DataLoader
from tortoise.expressions import Q
from tortoise.functions import Count, Max

from ..core.access import can_see_values
from ..core.enums import GoalStatus, Role
from ..core.graph import GoalGraph, load_goal_graph, load_key_results
from ..core.models import (
    Cycle,
    DottedLine,
    KeyResult,
    Kpi,
    KpiLink,
    Measurement,
    Objective,
    OrgUnit,
    Person,
    SyncJob,
    SyncRun,
    TenantOwned,
)
from ..core.owners import owner_refs
from ..core.reporting import tree_manager, tree_reports, unit_chain
from ..core.scoring.graph_scores import graph_progress
from ..core.tenancy import TenantScope

M = TypeVar("M", bound=TenantOwned)
OwnerKey = tuple[int | None, int | None]
#: A person as the reporting loaders need them: id, unit id, whether a manager by role.
PersonKey = tuple[int, int, bool]


def _grouped(rows: Iterable[Any], attr: str, keys: Sequence[int]) -> list[list[Any]]:
    groups: dict[int, list[Any]] = defaultdict(list)
    for row in rows:
        groups[getattr(row, attr)].append(row)
    return [groups.get(k, []) for k in keys]


@dataclass(frozen=True, slots=True)
class GraphOwners:
    """The owners of a goal graph's goals, and who may see its KPIs' values."""

    units: dict[int, OrgUnit]
    people: dict[int, Person]
    visible: dict[OwnerKey, bool]


class Loaders:
    """The loaders of one request, all bound to the caller's tenant scope."""

    def __init__(self, scope: TenantScope) -> None:
        self.scope = scope
        self.org_unit = self._by_id(OrgUnit)
        self.person = self._by_id(Person)
        self.cycle = self._by_id(Cycle)
        self.objective = self._by_id(Objective)
        self.key_result = self._by_id(KeyResult)
        self.kpi = self._by_id(Kpi)
        self.child_objectives = DataLoader(self._child_objectives)
        self.key_results_of = DataLoader(self._key_results_of)
        self.links_of = DataLoader(self._links_of)
        self.links_to = DataLoader(self._links_to)
        self.recent_measurements: DataLoader[tuple[int, int], list[Measurement]] = DataLoader(
            self._recent_measurements
        )
        self.objective_progress = DataLoader(self._objective_progress)
        self.key_result_progress = DataLoader(self._key_result_progress)
        self.values_visible: DataLoader[OwnerKey, bool] = DataLoader(self._values_visible)
        self.sync_job_of: DataLoader[int, SyncJob | None] = DataLoader(self._sync_job_of)
        self.last_run_of: DataLoader[int, SyncRun | None] = DataLoader(self._last_run_of)
        self.child_units: DataLoader[int, list[OrgUnit]] = DataLoader(self._child_units)
        self.people_count: DataLoader[int, int] = DataLoader(self._people_count)
        self.tree_manager_of: DataLoader[PersonKey, Person | None] = DataLoader(
            self._tree_manager_of
        )
        self.dotted_managers_of: DataLoader[int, list[Person]] = DataLoader(
            self._dotted_managers_of
        )
        self.reports_of: DataLoader[PersonKey, list[Person]] = DataLoader(self._reports_of)

    async def prime_graph(self, graph: GoalGraph) -> GraphOwners:
        """Load every owner and KPI visibility of a goal graph up front, and return them.

        GraphQL resolves a tree level by level; without this, each level would
        send its own owner query, so the count would grow with the tree's depth.
        The loaders are primed for fields outside the tree (``parent``, ``feeds``);
        the tree itself reads the returned dicts, which costs no future per node.
        """
        unit_ids = {g.owner_unit_id for g in graph.goals() if g.owner_unit_id is not None}
        person_ids = {g.owner_person_id for g in graph.goals() if g.owner_person_id is not None}
        units = await self.scope.many(OrgUnit, unit_ids)
        people = await self.scope.many(Person, person_ids)
        for unit in units.values():
            self.org_unit.prime(unit.id, unit)
        for person in people.values():
            self.person.prime(person.id, person)
        for kpi in graph.kpis.values():
            self.kpi.prime(kpi.id, kpi)
        keys = list({(k.owner_unit_id, k.owner_person_id) for k in graph.kpis.values()})
        visible = dict(zip(keys, await self.values_visible.load_many(keys), strict=True))
        return GraphOwners(units, people, visible)

    def _by_id(self, model: type[M]) -> DataLoader[int, M | None]:
        async def load(keys: list[int]) -> list[M | None]:
            rows = await self.scope.many(model, keys)
            return [rows.get(k) for k in keys]

        loader: DataLoader[int, M | None] = DataLoader(load)
        return loader

    async def _sync_job_of(self, keys: list[int]) -> list[SyncJob | None]:
        jobs = {
            j.binding_id: j for j in await self.scope.query(SyncJob).filter(binding_id__in=keys)
        }
        return [jobs.get(k) for k in keys]

    async def _last_run_of(self, keys: list[int]) -> list[SyncRun | None]:
        """Each binding's newest run, in two queries for any number of bindings."""
        newest = (
            await self.scope.query(SyncRun)
            .filter(binding_id__in=keys)
            .group_by("binding_id")
            .annotate(last=Max("id"))
            .values_list("binding_id", "last")
        )
        runs = await self.scope.many(SyncRun, (run_id for _, run_id in newest))
        by_binding = {binding_id: runs.get(run_id) for binding_id, run_id in newest}
        return [by_binding.get(k) for k in keys]

    async def _child_objectives(self, keys: list[int]) -> list[list[Objective]]:
        rows = (
            await self.scope.query(Objective)
            .filter(parent_id__in=keys, status=GoalStatus.ACTIVE)
            .order_by("id")
        )
        return _grouped(rows, "parent_id", keys)

    async def _key_results_of(self, keys: list[int]) -> list[list[KeyResult]]:
        rows = (
            await self.scope.query(KeyResult)
            .filter(objective_id__in=keys, status=GoalStatus.ACTIVE)
            .order_by("id")
        )
        return _grouped(rows, "objective_id", keys)

    async def _links_of(self, keys: list[int]) -> list[list[KpiLink]]:
        rows = (
            await self.scope.query(KpiLink)
            .filter(key_result_id__in=keys, kpi__status=GoalStatus.ACTIVE)
            .order_by("id")
        )
        return _grouped(rows, "key_result_id", keys)

    async def _links_to(self, keys: list[int]) -> list[list[KpiLink]]:
        rows = (
            await self.scope.query(KpiLink)
            .filter(kpi_id__in=keys, key_result__status=GoalStatus.ACTIVE)
            .order_by("id")
        )
        return _grouped(rows, "kpi_id", keys)

    async def _recent_measurements(self, keys: list[tuple[int, int]]) -> list[list[Measurement]]:
        """The last ``days`` days of each KPI up to its newest value, oldest first."""
        ids = list({k for k, _ in keys})
        kpis = dict(zip(ids, await self.kpi.load_many(ids), strict=True))
        starts: dict[tuple[int, int], date] = {}
        for kpi_id, days in keys:
            kpi = kpis.get(kpi_id)
            if kpi is not None and kpi.current_period is not None:
                starts[(kpi_id, days)] = kpi.current_period - timedelta(days=days - 1)
        if not starts:
            return [[] for _ in keys]
        rows = (
            await self.scope.query(Measurement)
            .filter(kpi_id__in={k for k, _ in starts}, period_start__gte=min(starts.values()))
            .order_by("period_start")
        )
        by_kpi = _grouped(rows, "kpi_id", [k for k, _ in keys])
        return [
            [m for m in group if key in starts and m.period_start >= starts[key]]
            for key, group in zip(keys, by_kpi, strict=True)
        ]

    async def _objective_progress(self, keys: list[int]) -> list[float | None]:
        graph = await load_goal_graph(self.scope, root_ids=list(keys))
        progress = graph_progress(graph)
        return [progress.objectives.get(k) for k in keys]

    async def _key_result_progress(self, keys: list[int]) -> list[float | None]:
        progress = graph_progress(await load_key_results(self.scope, list(keys)))
        return [progress.key_results.get(k) for k in keys]

    async def _values_visible(self, keys: list[OwnerKey]) -> list[bool]:
        refs = await owner_refs(self.scope, keys)
        return [k in refs and can_see_values(self.scope, refs[k]) for k in keys]

    # The org tree and reporting lines: each a fixed number of queries per level.

    async def _child_units(self, keys: list[int]) -> list[list[OrgUnit]]:
        rows = await self.scope.query(OrgUnit).filter(parent_id__in=keys).order_by("id")
        for row in rows:
            self.org_unit.prime(row.id, row)
        return _grouped(rows, "parent_id", keys)

    async def _people_count(self, keys: list[int]) -> list[int]:
        """Active people directly in each unit, in one grouped query."""
        counts = dict(
            await self.scope.query(Person)
            .filter(org_unit_id__in=keys, active=True)
            .group_by("org_unit_id")
            .annotate(n=Count("id"))
            .values_list("org_unit_id", "n")
        )
        return [int(counts.get(k, 0)) for k in keys]

    async def _paths(self, unit_ids: Iterable[int]) -> dict[int, str]:
        ids = list(set(unit_ids))
        return {u.id: u.path for u in await self.org_unit.load_many(ids) if u is not None}

    async def _active_managers(self, unit_ids: Iterable[int]) -> dict[int, list[int]]:
        """Active people with the manager role in these units, lowest id first, by unit
        (one query; the rows prime the person loader)."""
        rows = (
            await self.scope.query(Person)
            .filter(org_unit_id__in=set(unit_ids), role=Role.MANAGER, active=True)
            .order_by("id")
        )
        by_unit: dict[int, list[int]] = defaultdict(list)
        for row in rows:
            self.person.prime(row.id, row)
            by_unit[row.org_unit_id].append(row.id)
        return by_unit

    async def _tree_manager_of(self, keys: list[PersonKey]) -> list[Person | None]:
        """The org tree's manager of each person: one query of the active managers in
        the units on the people's paths (the units themselves usually come cached)."""
        paths = await self._paths(k[1] for k in keys)
        managers = await self._active_managers(
            u for path in paths.values() for u in unit_chain(path)
        )
        found = [tree_manager(k[0], paths[k[1]], managers) if k[1] in paths else None for k in keys]
        rows = await self.person.load_many([m for m in found if m is not None])
        by_id = {row.id: row for row in rows if row is not None}
        return [by_id.get(m) if m is not None else None for m in found]

    async def _dotted_managers_of(self, keys: list[int]) -> list[list[Person]]:
        lines = (
            await self.scope.query(DottedLine)
            .filter(person_id__in=keys)
            .select_related("manager")
            .order_by("manager_id")
        )
        grouped: dict[int, list[Person]] = defaultdict(list)
        for line in lines:
            self.person.prime(line.manager_id, line.manager)
            grouped[line.person_id].append(line.manager)
        return [grouped.get(k, []) for k in keys]

    async def _reports_of(self, keys: list[PersonKey]) -> list[list[Person]]:
        """Each person's active solid-line reports: those naming them as manager, and
        (for managers) those the org tree gives them. Four queries at most per level:
        explicit reports, the units below the managers, the active managers there, and
        the people of the units whose nearest manager above is one of the keys."""
        ids = [k[0] for k in keys]
        found: dict[int, dict[int, Person]] = {i: {} for i in ids}
        for row in await self.scope.query(Person).filter(manager_id__in=ids, active=True):
            if row.manager_id is not None:
                found[row.manager_id][row.id] = row
        managing = [k for k in keys if k[2]]
        if managing:
            for person, managers in await self._tree_reports(managing):
                for manager_id in managers:
                    found[manager_id][person.id] = person
        return [[found[i][p] for p in sorted(found[i])] for i in ids]

    async def _tree_reports(self, managing: list[PersonKey]) -> list[tuple[Person, list[int]]]:
        tops = await self._paths(k[1] for k in managing)
        if not tops:
            return []
        under = Q()
        for path in set(tops.values()):
            under |= Q(path__startswith=path)
        paths: dict[int, str] = dict(
            await self.scope.query(OrgUnit).filter(under).values_list("id", "path")
        )
        managers = await self._active_managers(paths)
        top_units = {k[1] for k in managing}

        def nearest_above(unit_id: int) -> int | None:
            for above in unit_chain(paths[unit_id])[1:]:
                if above in managers or above in top_units:
                    return above
            return None

        # Units whose people may report to a key: the keys' own units, and units below
        # whose nearest unit with a manager above is a key's (only their managers, when
        # they have managers of their own).
        whole, managers_only = set(top_units), set[int]()
        for unit_id in paths:
            if unit_id not in top_units and nearest_above(unit_id) in top_units:
                (managers_only if unit_id in managers else whole).add(unit_id)
        wanted = [m for u in managers_only for m in managers[u]]
        candidates = (
            await self.scope.query(Person)
            .filter(Q(org_unit_id__in=whole) | Q(id__in=wanted or [0]))
            .filter(active=True, manager_id__isnull=True)
            .order_by("id")
        )
        reports = tree_reports(
            [k[0] for k in managing],
            [(p.id, paths[p.org_unit_id]) for p in candidates if p.org_unit_id in paths],
            managers,
        )
        by_person: dict[int, list[int]] = defaultdict(list)
        for manager_id, people in reports.items():
            for person_id in people:
                by_person[person_id].append(manager_id)
        return [(p, by_person[p.id]) for p in candidates if by_person.get(p.id)]
