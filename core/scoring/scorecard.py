"""Scorecards: one person's, one unit's or the company's combined performance.

combined = OKR share × OKR grade + KPI share × KPI score, with the shares of the
tenant's current lifecycle stage. The OKR grade is the mean grade of the objectives
owned; the KPI score the weight-weighted mean score of the KPIs owned. When one side
has no data yet, the other counts alone (shares renormalised) rather than as zero.

The OKR side counts the objectives owned and the key results owned under someone
else's objective (a store's key result under its region's objective: goal layering).
A person answers for what they own; a manager also for what their unit owns (a store
manager for the store's key results and KPIs). Shares are applied when a scorecard is read, so
switching stage or weighting needs no recomputation.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

from ..enums import Role
from ..models import KeyResult, Kpi, Objective, Person
from ..policy import ScoreExplanation
from ..progress import weighted_mean
from .engine import CycleRows, CycleScores


@dataclass(frozen=True, slots=True)
class Shares:
    stage: str
    okr_share: float
    kpi_share: float


@dataclass
class Scorecard:
    okr_grade: float | None
    kpi_score: float | None
    shares: Shares
    combined: float | None
    objectives: list[tuple[Objective, float | None]] = field(default_factory=list)
    key_results: list[tuple[KeyResult, float | None]] = field(default_factory=list)
    kpis: list[tuple[Kpi, ScoreExplanation | None]] = field(default_factory=list)


def combine(okr: float | None, kpi: float | None, shares: Shares) -> float | None:
    """Weighted by the stage's shares; one missing side leaves the other alone."""
    return weighted_mean([(okr, shares.okr_share), (kpi, shares.kpi_share)])


def _card(
    objectives: list[Objective],
    key_results: list[KeyResult],
    kpis: list[Kpi],
    scores: CycleScores,
    shares: Shares,
) -> Scorecard:
    graded = [(o, scores.objectives.get(o.id)) for o in objectives]
    graded_krs = [(k, scores.key_results.get(k.id)) for k in key_results]
    scored = [(k, scores.kpis.get(k.id)) for k in kpis]
    okr = weighted_mean((g, 1.0) for _, g in [*graded, *graded_krs])
    kpi = weighted_mean((e.score if e else None, k.weight) for k, e in scored)
    return Scorecard(okr, kpi, shares, combine(okr, kpi, shares), graded, graded_krs, scored)


def owner_scorecard(
    rows: CycleRows,
    scores: CycleScores,
    shares: Shares,
    *,
    unit_ids: Collection[int] = (),
    person_ids: Collection[int] = (),
) -> Scorecard:
    """The scorecard over goals owned by ``unit_ids`` or ``person_ids``."""

    def owned(goal: Objective | KeyResult | Kpi) -> bool:
        return goal.owner_unit_id in unit_ids or goal.owner_person_id in person_ids

    objectives = [o for o in rows.objectives if owned(o)]
    mine = {o.id for o in objectives}
    key_results = [k for k in rows.key_results if owned(k) and k.objective_id not in mine]
    kpis = sorted((k for k in rows.kpis.values() if owned(k)), key=lambda k: k.id)
    return _card(objectives, key_results, kpis, scores, shares)


def person_scorecard(
    rows: CycleRows, scores: CycleScores, shares: Shares, person: Person
) -> Scorecard:
    units = {person.org_unit_id} if person.role is Role.MANAGER else set()
    return owner_scorecard(rows, scores, shares, unit_ids=units, person_ids={person.id})


def company_scorecard(rows: CycleRows, scores: CycleScores, shares: Shares) -> Scorecard:
    """The company as a whole: its top-level objectives (which roll everything up) and
    every KPI."""
    top = [o for o in rows.objectives if o.parent_id is None]
    return _card(top, [], sorted(rows.kpis.values(), key=lambda k: k.id), scores, shares)
