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

from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

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


def ranks(scores: Sequence[float | None]) -> list[int | None]:
    """Competition ranking (1, 2, 2, 4), best first; no score, no rank."""
    first: dict[float, int] = {}
    for position, value in enumerate(sorted((v for v in scores if v is not None), reverse=True)):
        first.setdefault(value, position + 1)
    return [first[v] if v is not None else None for v in scores]


G = TypeVar("G", Objective, KeyResult, Kpi)


class _ByOwner(Generic[G]):
    """Goals of one kind grouped by owning unit and by owning person."""

    def __init__(self, goals: Iterable[G]) -> None:
        self.units: dict[int, list[G]] = defaultdict(list)
        self.people: dict[int, list[G]] = defaultdict(list)
        for goal in goals:
            if goal.owner_unit_id is not None:
                self.units[goal.owner_unit_id].append(goal)
            if goal.owner_person_id is not None:
                self.people[goal.owner_person_id].append(goal)

    def owned(self, unit_ids: Collection[int], person_ids: Collection[int]) -> list[G]:
        found = {g.id: g for u in unit_ids for g in self.units.get(u, [])}
        found.update({g.id: g for p in person_ids for g in self.people.get(p, [])})
        return [found[i] for i in sorted(found)]


class ScoreBoard:
    """The scorecards of one scored cycle, with its goals indexed by owner once, so a
    ranking of many people costs what each person owns, not a scan per person."""

    def __init__(self, rows: CycleRows, scores: CycleScores, shares: Shares) -> None:
        self.rows, self.scores, self.shares = rows, scores, shares
        self._objectives = _ByOwner(rows.objectives)
        self._key_results = _ByOwner(rows.key_results)
        self._kpis = _ByOwner(rows.kpis.values())

    def owner(
        self, *, unit_ids: Collection[int] = (), person_ids: Collection[int] = ()
    ) -> Scorecard:
        """The scorecard over goals owned by ``unit_ids`` or ``person_ids``."""
        objectives = self._objectives.owned(unit_ids, person_ids)
        mine = {o.id for o in objectives}
        key_results = [
            k for k in self._key_results.owned(unit_ids, person_ids) if k.objective_id not in mine
        ]
        return self._card(objectives, key_results, self._kpis.owned(unit_ids, person_ids))

    def person(self, person: Person) -> Scorecard:
        units = {person.org_unit_id} if person.role is Role.MANAGER else set()
        return self.owner(unit_ids=units, person_ids={person.id})

    def company(self) -> Scorecard:
        """The company as a whole: its top-level objectives (which roll everything up)
        and every KPI."""
        top = [o for o in self.rows.objectives if o.parent_id is None]
        return self._card(top, [], sorted(self.rows.kpis.values(), key=lambda k: k.id))

    def ranking(self, people: Sequence[Person]) -> list[tuple[int | None, Person, Scorecard]]:
        """People best first by combined score (ties share a rank; no score, no rank)."""
        cards = [self.person(p) for p in people]
        ranked = zip(ranks([c.combined for c in cards]), people, cards, strict=True)
        return sorted(ranked, key=lambda r: (r[0] is None, r[0] or 0, r[1].id))

    def _card(
        self, objectives: list[Objective], key_results: list[KeyResult], kpis: list[Kpi]
    ) -> Scorecard:
        graded = [(o, self.scores.objectives.get(o.id)) for o in objectives]
        graded_krs = [(k, self.scores.key_results.get(k.id)) for k in key_results]
        scored = [(k, self.scores.kpis.get(k.id)) for k in kpis]
        okr = weighted_mean((g, 1.0) for _, g in [*graded, *graded_krs])
        kpi = weighted_mean((e.score if e else None, k.weight) for k, e in scored)
        return Scorecard(
            okr, kpi, self.shares, combine(okr, kpi, self.shares), graded, graded_krs, scored
        )
