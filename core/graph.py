"""Loading a piece of the goal graph in a constant number of queries.

An objective subtree is one materialised-path prefix; key results, KPI links and
KPIs are fetched by joining back to that prefix, so the whole graph under any set
of roots costs five queries at most, whatever its size or depth.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import reduce
from operator import or_
from typing import Any

from tortoise.expressions import Q, Subquery

from .enums import GoalStatus
from .models import KeyResult, Kpi, KpiLink, Objective
from .tenancy import TenantScope

#: What a graph's links are read for: weights between key results and KPIs.
LINK_FIELDS = ("id", "tenant_id", "key_result_id", "kpi_id", "weight")


@dataclass
class GoalGraph:
    """Active objectives, key results and KPIs under some roots, indexed for walking."""

    roots: list[int]
    objectives: dict[int, Objective]
    child_objectives: dict[int, list[int]]
    key_results: dict[int, KeyResult]
    key_results_of: dict[int, list[int]]
    kpis: dict[int, Kpi]
    links_of: dict[int, list[KpiLink]] = field(default_factory=dict)
    #: Loaded under given roots: a part of the graph (its scores are read by node id).
    partial: bool = False

    def goals(self) -> Iterator[Objective | KeyResult | Kpi]:
        """Every objective, key result and KPI of the graph."""
        yield from self.objectives.values()
        yield from self.key_results.values()
        yield from self.kpis.values()


def _objective_q(prefix: str, paths: list[str] | None, cycle_id: int | None) -> Q:
    """Objectives under ``paths`` (or all), seen through a relation ``prefix``."""

    def q(name: str, value: Any) -> Q:
        return Q(**{prefix + name: value})

    conditions = [q("status", GoalStatus.ACTIVE)]
    if cycle_id is not None:
        conditions.append(q("cycle_id", cycle_id))
    if paths is not None:
        conditions.append(reduce(or_, (q("path__startswith", p) for p in paths)))
    return reduce(lambda a, b: a & b, conditions)


async def load_goal_graph(
    scope: TenantScope, root_ids: list[int] | None = None, cycle_id: int | None = None
) -> GoalGraph:
    """The active goal graph under ``root_ids``, or the tenant's (cycle's) whole graph.

    Roots that do not exist, belong to another tenant or are archived are left out.
    """
    paths: list[str] | None = None
    if root_ids is not None:
        rows = (
            await scope.query(Objective)
            .filter(id__in=set(root_ids), status=GoalStatus.ACTIVE)
            .values("id", "path")
        )
        by_id = {r["id"]: r["path"] for r in rows}
        paths = [by_id[i] for i in dict.fromkeys(root_ids) if i in by_id]
        if not paths:
            return GoalGraph([], {}, {}, {}, {}, {})
    # Each level by a subquery on the one above: every lookup then runs on an index
    # (a join filtered on the objective's path scans the links), and no id list can
    # pass PostgreSQL's parameter limit on a 100k-node tree.
    active = GoalStatus.ACTIVE
    graph_objectives = scope.query(Objective).filter(_objective_q("", paths, cycle_id))
    objectives = await graph_objectives.order_by("id")
    graph_key_results = scope.query(KeyResult).filter(
        objective_id__in=Subquery(graph_objectives.values("id")), status=active
    )
    key_results = await graph_key_results.order_by("id")
    graph_links = scope.query(KpiLink).filter(
        key_result_id__in=Subquery(graph_key_results.values("id")), kpi__status=active
    )
    # A tree of 10k nodes has as many links; their timestamps (parsed from text on
    # SQLite) would cost more than everything else about them.
    links = await graph_links.order_by("id").only(*LINK_FIELDS)
    kpis = (
        await scope.query(Kpi).filter(id__in=Subquery(graph_links.values("kpi_id")), status=active)
        if links
        else []
    )
    return _index(root_ids, objectives, key_results, links, kpis)


def _index(
    root_ids: list[int] | None,
    objectives: list[Objective],
    key_results: list[KeyResult],
    links: list[KpiLink],
    kpis: list[Kpi],
) -> GoalGraph:
    by_id = {o.id: o for o in objectives}
    children: dict[int, list[int]] = defaultdict(list)
    for objective in objectives:
        if objective.parent_id in by_id:
            children[objective.parent_id].append(objective.id)
    if root_ids is not None:
        roots = [i for i in dict.fromkeys(root_ids) if i in by_id]
    else:
        roots = [o.id for o in objectives if o.parent_id not in by_id]
    key_results_of: dict[int, list[int]] = defaultdict(list)
    for key_result in key_results:
        key_results_of[key_result.objective_id].append(key_result.id)
    links_of: dict[int, list[KpiLink]] = defaultdict(list)
    for link in links:
        links_of[link.key_result_id].append(link)
    return GoalGraph(
        roots=roots,
        objectives=by_id,
        child_objectives=dict(children),
        key_results={k.id: k for k in key_results},
        key_results_of=dict(key_results_of),
        kpis={k.id: k for k in kpis},
        links_of=dict(links_of),
        partial=root_ids is not None,
    )


async def load_key_results(scope: TenantScope, key_result_ids: list[int]) -> GoalGraph:
    """Key results with the active KPIs feeding them (no objectives), in three queries."""
    key_results = await scope.query(KeyResult).filter(id__in=set(key_result_ids))
    links = await scope.query(KpiLink).filter(
        key_result_id__in=set(key_result_ids), kpi__status=GoalStatus.ACTIVE
    )
    kpi_ids = {link.kpi_id for link in links}
    kpis = await scope.query(Kpi).filter(id__in=kpi_ids) if kpi_ids else []
    return _index([], [], key_results, links, kpis)
