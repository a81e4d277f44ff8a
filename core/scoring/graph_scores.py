"""Scores and progress of a loaded goal graph, without loading its cycles again.

Scores are read from the store for the graph's nodes (one query per cycle); progress
is the engine's roll-up of each KPI's newest value, which the graph already holds.
"""

from __future__ import annotations

from collections import defaultdict

from ..graph import GoalGraph
from ..models import Cycle
from ..tenancy import TenantScope
from .engine import CycleRows, CycleScores, score_cycle
from .policies import Linear
from .resolve import PolicyLookup
from .store import stored_scores

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
    """Stored scores of the graph's nodes, by cycle id (one cycle query, then one per
    cycle)."""
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
        if cycle is not None:
            rows = CycleRows(objectives, key_results, links, kpis, {})
            result[cycle_id] = await stored_scores(scope, cycle, rows, lookup, graph.partial)
    return result
