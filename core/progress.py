"""Progress (进度) of goals: the share of the way from start to target, clamped.

A first, simple rule set: a KPI's progress is its achievement against target
(inverted when lower is better), a key result follows the weighted KPIs feeding it
or else its own start→target span, and an objective is the weighted mean of its key
results and aligned sub-objectives. ``None`` means "no data yet", never zero.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from .graph import GoalGraph
from .models import KeyResult, Kpi
from .policy import ScoringPolicy


def clamp(value: float) -> float:
    return max(0.0, min(1.0, value))


def weighted_mean(pairs: Iterable[tuple[float | None, float]]) -> float | None:
    """Mean of the known values by weight; None when nothing is known (never zero)."""
    known = [(v, w) for v, w in pairs if v is not None and w > 0]
    total = sum(w for _, w in known)
    return sum(v * w for v, w in known) / total if known and total else None


def kpi_progress(kpi: Kpi) -> float | None:
    """Achievement (达成率) of the KPI's latest value against its target, in [0, 1]."""
    if kpi.current_value is None:
        return None
    return clamp(ScoringPolicy.achievement(kpi.current_value, kpi.target, kpi.direction))


def key_result_own_progress(key_result: KeyResult) -> float:
    """How far the key result's current value went from start to target."""
    span = key_result.target_value - key_result.start_value
    if span == 0:
        return 1.0
    return clamp((key_result.current_value - key_result.start_value) / span)


@dataclass
class GraphProgress:
    """Progress of every node of a ``GoalGraph``, keyed by kind and id."""

    objectives: dict[int, float | None] = field(default_factory=dict)
    key_results: dict[int, float | None] = field(default_factory=dict)
    kpis: dict[int, float | None] = field(default_factory=dict)


def compute_progress(graph: GoalGraph) -> GraphProgress:
    """Progress of every node, bottom-up, each node computed once."""
    result = GraphProgress()
    for kpi in graph.kpis.values():
        result.kpis[kpi.id] = kpi_progress(kpi)
    for key_result in graph.key_results.values():
        links = graph.links_of.get(key_result.id, [])
        fed = weighted_mean([(result.kpis.get(link.kpi_id), link.weight) for link in links])
        result.key_results[key_result.id] = (
            fed if fed is not None else key_result_own_progress(key_result)
        )
    # Deeper objectives first, so every child is done before its parent.
    for objective in sorted(graph.objectives.values(), key=lambda o: -o.depth):
        pairs = [
            (result.key_results[k], graph.key_results[k].weight)
            for k in graph.key_results_of.get(objective.id, [])
        ]
        pairs += [
            (result.objectives[c], graph.objectives[c].alignment_weight)
            for c in graph.child_objectives.get(objective.id, [])
        ]
        result.objectives[objective.id] = weighted_mean(pairs)
    return result
