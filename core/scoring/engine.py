"""The scoring engine for one cycle: KPI scores, key-result and objective grades.

Pure and set-based: it takes the rows of a cycle (loaded in a constant number of
queries by ``scoring.load``) and computes every score in one bottom-up pass, so
recomputing everything from scratch is as cheap as the data it reads.

- KPI score: the KPI's policy applied to its value over the cycle.
- Key-result grade (0..1): the link-weighted mean of the scores of the KPIs feeding
  it, clamped to 0..1; a key result without KPI data grades by its own check-ins,
  (current − start) / (target − start), clamped.
- Objective grade: the weighted mean of its key results' grades (by weight) and of its
  aligned sub-objectives' grades (by alignment weight).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from ..models import KeyResult, Kpi, KpiLink, Objective
from ..policy import ScoreExplanation, ScoringPolicy
from ..progress import clamp, key_result_own_progress, weighted_mean
from .resolve import PolicyLookup, resolve_policy


@dataclass
class CycleRows:
    """What one cycle's scores are computed from."""

    objectives: list[Objective]
    key_results: list[KeyResult]
    links: list[KpiLink]
    kpis: dict[int, Kpi]
    values: dict[int, float]


@dataclass
class CycleScores:
    """Every score of a cycle, with the explanation of each KPI score."""

    kpis: dict[int, ScoreExplanation] = field(default_factory=dict)
    notes: dict[int, str] = field(default_factory=dict)
    key_results: dict[int, float] = field(default_factory=dict)
    objectives: dict[int, float | None] = field(default_factory=dict)
    #: The (grade, weight) parts behind each grade, written out only when explained.
    key_result_parts: dict[int, list[tuple[float | None, float]]] = field(default_factory=dict)
    objective_parts: dict[int, list[tuple[float | None, float]]] = field(default_factory=dict)
    #: Key results graded by their own check-ins (no KPI data).
    by_check_in: dict[int, KeyResult] = field(default_factory=dict)

    def key_result_formula(self, key_result_id: int) -> str | None:
        """How the grade was reached, e.g. "(0.7 × 0.9 + 0.3 × 0.75) / 1 = 0.855"."""
        if key_result_id in self.by_check_in:
            kr, grade = self.by_check_in[key_result_id], self.key_results[key_result_id]
            return (
                f"({kr.current_value:g} − {kr.start_value:g}) / "
                f"({kr.target_value:g} − {kr.start_value:g}), clamped = {grade:.4g}"
            )
        if key_result_id not in self.key_result_parts:
            return None
        parts = self.key_result_parts[key_result_id]
        fed, grade = weighted_mean(parts), self.key_results[key_result_id]
        text = formula(parts, fed)
        return text + (f", clamped to {grade:.4g}" if fed is not None and grade != fed else "")

    def objective_formula(self, objective_id: int) -> str | None:
        if objective_id not in self.objective_parts:
            return None
        return formula(self.objective_parts[objective_id], self.objectives[objective_id])


def formula(pairs: Iterable[tuple[float | None, float]], result: float | None) -> str:
    """The weighted mean written out with its numbers (unknown parts left out)."""
    known = [(v, w) for v, w in pairs if v is not None and w > 0]
    if not known or result is None:
        return "no data yet"
    terms = " + ".join(f"{w:g} × {v:.4g}" for v, w in known)
    return f"({terms}) / {sum(w for _, w in known):g} = {result:.4g}"


def score_cycle(
    rows: CycleRows, lookup: PolicyLookup | None = None, policy: ScoringPolicy | None = None
) -> CycleScores:
    """Every score of the cycle. Rows are taken in id order, so the floating-point sums
    (and thus every number) are identical however the rows arrived. ``policy``, when
    given, scores every KPI instead of each KPI's own (progress uses that)."""
    result = CycleScores()
    for kpi in rows.kpis.values():
        value = rows.values.get(kpi.id)
        if value is None:
            continue
        if policy is not None:
            rule = policy
        else:
            resolved = resolve_policy(kpi.scoring_policy, lookup)
            rule = resolved.policy
            if resolved.note:
                result.notes[kpi.id] = resolved.note
        result.kpis[kpi.id] = rule.explain(value, kpi.target, kpi.threshold, kpi.direction)
    links_of: dict[int, list[KpiLink]] = defaultdict(list)
    for link in sorted(rows.links, key=lambda link: (link.key_result_id, link.kpi_id)):
        links_of[link.key_result_id].append(link)
    key_results = sorted(rows.key_results, key=lambda k: k.id)
    objectives = sorted(rows.objectives, key=lambda o: o.id)
    for key_result in key_results:
        parts = [
            (result.kpis[link.kpi_id].score if link.kpi_id in result.kpis else None, link.weight)
            for link in links_of.get(key_result.id, [])
        ]
        fed = weighted_mean(parts)
        if fed is not None:
            result.key_results[key_result.id] = clamp(fed)
            result.key_result_parts[key_result.id] = parts
        else:
            result.key_results[key_result.id] = key_result_own_progress(key_result)
            result.by_check_in[key_result.id] = key_result
    krs_of: dict[int, list[KeyResult]] = defaultdict(list)
    for key_result in key_results:
        krs_of[key_result.objective_id].append(key_result)
    ids = {o.id for o in objectives}
    children: dict[int, list[Objective]] = defaultdict(list)
    for objective in objectives:
        if objective.parent_id in ids:
            children[objective.parent_id].append(objective)
    for objective in sorted(objectives, key=lambda o: -o.depth):
        parts = [
            *((result.key_results[k.id], k.weight) for k in krs_of.get(objective.id, [])),
            *(
                (result.objectives[c.id], c.alignment_weight)
                for c in children.get(objective.id, [])
            ),
        ]
        result.objectives[objective.id] = weighted_mean(parts)
        result.objective_parts[objective.id] = parts
    return result
