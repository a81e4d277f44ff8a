"""Grades of a loaded goal graph, scored per cycle without loading the cycle again.

Grades are local (an objective's grade depends only on its subtree, a key result's on
the KPIs feeding it; a property test checks this), so a tree loaded for display can be
scored on its own: only the KPIs' values over each cycle are fetched.
"""

from __future__ import annotations

from collections import defaultdict

from ..graph import GoalGraph
from ..models import Cycle
from ..tenancy import TenantScope
from .engine import CycleRows, CycleScores, score_cycle
from .policies import Linear
from .resolve import PolicyLookup
from .values import span_values

#: Progress is clamped achievement: the linear policy capped at 100%.
PROGRESS = Linear(cap=1.0)


def graph_progress(graph: GoalGraph) -> CycleScores:
    """Progress of every node: the engine's roll-up of each KPI's newest value scored as
    clamped achievement (and key results without KPI data by their check-ins)."""
    links = [link for group in graph.links_of.values() for link in group]
    values = {k.id: k.current_value for k in graph.kpis.values() if k.current_value is not None}
    rows = CycleRows(
        list(graph.objectives.values()),
        list(graph.key_results.values()),
        links,
        graph.kpis,
        values,
    )
    return score_cycle(rows, policy=PROGRESS)


async def score_graph(
    scope: TenantScope, graph: GoalGraph, lookup: PolicyLookup | None = None
) -> dict[int, CycleScores]:
    """Scores of the graph's nodes, by cycle id (one cycle query, then the values)."""
    by_cycle: dict[int, list[int]] = defaultdict(list)
    for objective in graph.objectives.values():
        by_cycle[objective.cycle_id].append(objective.id)
    if not by_cycle:
        return {}
    cycles = await scope.many(Cycle, by_cycle)
    result: dict[int, CycleScores] = {}
    for cycle_id, objective_ids in by_cycle.items():
        objectives = [graph.objectives[i] for i in objective_ids]
        key_results = [
            graph.key_results[k] for i in objective_ids for k in graph.key_results_of.get(i, [])
        ]
        links = [link for k in key_results for link in graph.links_of.get(k.id, [])]
        kpis = {link.kpi_id: graph.kpis[link.kpi_id] for link in links}
        cycle = cycles.get(cycle_id)
        values = (
            await span_values(scope, kpis.values(), cycle.starts_on, cycle.ends_on)
            if cycle is not None
            else {}
        )
        result[cycle_id] = score_cycle(
            CycleRows(objectives, key_results, links, kpis, values), lookup
        )
    return result
