"""Scorecards and rankings as the API shows them."""

from __future__ import annotations

from datetime import datetime
from typing import Self

import strawberry

from ...core.scoring.scorecard import Scorecard as CoreScorecard
from ...core.scoring.service import ScoredCycle
from .goals import KeyResult, Kpi, Objective
from .org import Cycle, OrgUnit, Person
from .scoring import ScoreExplanation


@strawberry.type(description="An objective with its grade in the scorecard's cycle.")
class GradedObjective:
    objective: Objective
    grade: float | None


@strawberry.type(description="A key result owned under another owner's objective, graded.")
class GradedKeyResult:
    key_result: KeyResult
    grade: float | None


@strawberry.type(description="A KPI with its score over the scorecard's cycle.")
class ScoredKpi:
    kpi: Kpi
    score: float | None
    explain: ScoreExplanation | None


@strawberry.type(
    description="Combined performance: okrShare × okrGrade + kpiShare × kpiScore, with the "
    "shares of the tenant's current lifecycle stage (for a closed cycle: of the stage then)."
)
class Scorecard:
    cycle: Cycle
    frozen: bool = strawberry.field(
        description="The cycle is closed: these are its figures as they stood when it "
        "closed, and they no longer change."
    )
    closed_at: datetime | None = strawberry.field(description="When the cycle was closed.")
    stage: str
    okr_share: float
    kpi_share: float
    okr_grade: float | None = strawberry.field(
        description="Mean grade of the objectives and key results owned."
    )
    kpi_score: float | None = strawberry.field(description="Weighted mean score of KPIs owned.")
    combined_score: float | None = strawberry.field(
        description="With one side missing, the other alone."
    )
    person: Person | None
    org_unit: OrgUnit | None
    objectives: list[GradedObjective]
    key_results: list[GradedKeyResult] = strawberry.field(
        description="Key results owned under someone else's objective (goal layering)."
    )
    kpis: list[ScoredKpi]

    @classmethod
    def of(
        cls,
        scored: ScoredCycle,
        card: CoreScorecard,
        person: Person | None = None,
        org_unit: OrgUnit | None = None,
    ) -> Self:
        return cls(
            cycle=Cycle.from_row(scored.cycle),
            frozen=scored.cycle.closed,
            closed_at=scored.cycle.closed_at,
            stage=card.shares.stage,
            okr_share=card.shares.okr_share,
            kpi_share=card.shares.kpi_share,
            okr_grade=card.okr_grade,
            kpi_score=card.kpi_score,
            combined_score=card.combined,
            person=person,
            org_unit=org_unit,
            objectives=[
                GradedObjective(objective=Objective.from_row(o), grade=g)
                for o, g in card.objectives
            ],
            key_results=[
                GradedKeyResult(key_result=KeyResult.from_row(k), grade=g)
                for k, g in card.key_results
            ],
            kpis=[
                ScoredKpi(
                    kpi=Kpi.from_row(k),
                    score=e.score if e else None,
                    explain=ScoreExplanation.of(e, scored.scores.notes.get(k.id)) if e else None,
                )
                for k, e in card.kpis
            ],
        )


@strawberry.type(description="A member of a unit, ranked by combined score.")
class RankingEntry:
    rank: int | None = strawberry.field(description="1 = best; null without any score.")
    person: Person
    scorecard: Scorecard
