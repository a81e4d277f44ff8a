"""The scoring engine for one cycle: KPI scores, key-result and objective grades.

Pure and set-based: it takes the rows of a cycle (loaded in a constant number of
queries by ``scoring.load``) and computes scores bottom-up. The same pass serves a
full computation and an incremental one: ``rescore`` recomputes only the nodes named
dirty, taking every other part's score from the scores it is given. A full computation
is ``rescore`` with every node dirty, so "recompute from scratch" and "update along
the changed path" cannot drift apart.

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
from functools import cached_property

from ..models import KeyResult, Kpi, KpiLink, Objective
from ..policy import ScoreExplanation, ScoringPolicy
from ..progress import clamp, key_result_own_progress, weighted_mean
from .resolve import PolicyLookup, resolve_policy

Parts = list[tuple[float | None, float]]


@dataclass
class CycleRows:
    """What one cycle's scores are computed from: all of a cycle, or for an incremental
    update the changed nodes with their direct parts."""

    objectives: list[Objective]
    key_results: list[KeyResult]
    links: list[KpiLink]
    kpis: dict[int, Kpi]
    values: dict[int, float]

    @cached_property
    def objective_by_id(self) -> dict[int, Objective]:
        return {o.id: o for o in self.objectives}

    @cached_property
    def key_result_by_id(self) -> dict[int, KeyResult]:
        return {k.id: k for k in self.key_results}

    @cached_property
    def links_of(self) -> dict[int, list[KpiLink]]:
        """Links by key result, by KPI id: the order every sum is taken in."""
        found: dict[int, list[KpiLink]] = defaultdict(list)
        for link in sorted(self.links, key=lambda link: (link.key_result_id, link.kpi_id)):
            found[link.key_result_id].append(link)
        return found

    @cached_property
    def key_results_of(self) -> dict[int, list[KeyResult]]:
        found: dict[int, list[KeyResult]] = defaultdict(list)
        for key_result in sorted(self.key_results, key=lambda k: k.id):
            found[key_result.objective_id].append(key_result)
        return found

    @cached_property
    def children_of(self) -> dict[int, list[Objective]]:
        found: dict[int, list[Objective]] = defaultdict(list)
        for objective in sorted(self.objectives, key=lambda o: o.id):
            if objective.parent_id in self.objective_by_id:
                found[objective.parent_id].append(objective)
        return found


@dataclass
class Dirty:
    """The nodes whose scores must be computed again (ids; absent ones are dropped)."""

    kpis: set[int] = field(default_factory=set)
    key_results: set[int] = field(default_factory=set)
    objectives: set[int] = field(default_factory=set)

    @classmethod
    def everything(cls, rows: CycleRows) -> Dirty:
        return cls(
            set(rows.kpis),
            {k.id for k in rows.key_results},
            {o.id for o in rows.objectives},
        )

    def __bool__(self) -> bool:
        return bool(self.kpis or self.key_results or self.objectives)


@dataclass
class CycleScores:
    """Scores of a cycle, with the explanation of each KPI score. ``rows`` (when known)
    lets a grade explain itself: its parts are read from the rows on demand."""

    kpis: dict[int, ScoreExplanation] = field(default_factory=dict)
    notes: dict[int, str] = field(default_factory=dict)
    key_results: dict[int, float] = field(default_factory=dict)
    objectives: dict[int, float | None] = field(default_factory=dict)
    rows: CycleRows | None = field(default=None, repr=False)

    def key_result_parts(self, key_result_id: int, rows: CycleRows | None = None) -> Parts:
        """(KPI score, link weight) of every KPI feeding the key result."""
        rows = rows or self.rows
        if rows is None:
            return []
        return [
            (self.kpis[link.kpi_id].score if link.kpi_id in self.kpis else None, link.weight)
            for link in rows.links_of.get(key_result_id, [])
        ]

    def objective_parts(self, objective_id: int, rows: CycleRows | None = None) -> Parts:
        """(grade, weight) of its key results, then of its aligned sub-objectives."""
        rows = rows or self.rows
        if rows is None:
            return []
        return [
            *(
                (self.key_results.get(k.id), k.weight)
                for k in rows.key_results_of.get(objective_id, [])
            ),
            *(
                (self.objectives.get(c.id), c.alignment_weight)
                for c in rows.children_of.get(objective_id, [])
            ),
        ]

    def key_result_formula(self, key_result_id: int) -> str | None:
        """How the grade was reached, e.g. "(0.7 × 0.9 + 0.3 × 0.75) / 1 = 0.855"."""
        if self.rows is None or key_result_id not in self.key_results:
            return None
        grade = self.key_results[key_result_id]
        parts = self.key_result_parts(key_result_id)
        fed = weighted_mean(parts)
        if fed is None:
            kr = self.rows.key_result_by_id[key_result_id]
            return (
                f"({kr.current_value:g} − {kr.start_value:g}) / "
                f"({kr.target_value:g} − {kr.start_value:g}), clamped = {grade:.4g}"
            )
        text = formula(parts, fed)
        return text + (f", clamped to {grade:.4g}" if grade != fed else "")

    def objective_formula(self, objective_id: int) -> str | None:
        if self.rows is None or objective_id not in self.objectives:
            return None
        return formula(self.objective_parts(objective_id), self.objectives[objective_id])


def formula(pairs: Iterable[tuple[float | None, float]], result: float | None) -> str:
    """The weighted mean written out with its numbers (unknown parts left out)."""
    known = [(v, w) for v, w in pairs if v is not None and w > 0]
    if not known or result is None:
        return "no data yet"
    terms = " + ".join(f"{w:g} × {v:.4g}" for v, w in known)
    return f"({terms}) / {sum(w for _, w in known):g} = {result:.4g}"


def rescore(
    rows: CycleRows,
    scores: CycleScores,
    dirty: Dirty,
    lookup: PolicyLookup | None = None,
    policy: ScoringPolicy | None = None,
) -> None:
    """Compute the dirty nodes' scores again, in place, bottom-up: KPIs, key results,
    then objectives deepest first. ``rows`` must hold each dirty node that still counts
    (a dirty id missing from them is dropped: archived, unlinked) with its direct parts;
    parts that are not dirty keep their score in ``scores``. Parts are always taken in
    id order, so every float sum is the same however the rows arrived."""
    for kpi_id in sorted(dirty.kpis):
        scores.kpis.pop(kpi_id, None)
        scores.notes.pop(kpi_id, None)
        kpi, value = rows.kpis.get(kpi_id), rows.values.get(kpi_id)
        if kpi is None or value is None:
            continue
        rule = policy
        if rule is None:
            resolved = resolve_policy(kpi.scoring_policy, lookup)
            rule = resolved.policy
            if resolved.note:
                scores.notes[kpi_id] = resolved.note
        scores.kpis[kpi_id] = rule.explain(value, kpi.target, kpi.threshold, kpi.direction)
    for key_result_id in sorted(dirty.key_results):
        scores.key_results.pop(key_result_id, None)
        key_result = rows.key_result_by_id.get(key_result_id)
        if key_result is None:
            continue
        fed = weighted_mean(scores.key_result_parts(key_result_id, rows))
        scores.key_results[key_result_id] = (
            clamp(fed) if fed is not None else key_result_own_progress(key_result)
        )
    for objective_id in dirty.objectives - rows.objective_by_id.keys():
        scores.objectives.pop(objective_id, None)
    deepest_first = sorted(
        (rows.objective_by_id[i] for i in dirty.objectives if i in rows.objective_by_id),
        key=lambda o: (-o.depth, o.id),
    )
    for objective in deepest_first:
        scores.objectives[objective.id] = weighted_mean(scores.objective_parts(objective.id, rows))


def score_cycle(
    rows: CycleRows, lookup: PolicyLookup | None = None, policy: ScoringPolicy | None = None
) -> CycleScores:
    """Every score of the cycle, from scratch. ``policy``, when given, scores every KPI
    instead of each KPI's own (progress uses that)."""
    scores = CycleScores(rows=rows)
    rescore(rows, scores, Dirty.everything(rows), lookup, policy)
    return scores
