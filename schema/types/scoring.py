"""Score explanations and the scoring policies a tenant may use."""

from __future__ import annotations

from typing import Self

import strawberry

from ...core.enums import Direction
from ...core.policy import ScoreExplanation as CoreExplanation
from ...core.policy import ScoringPolicy as CorePolicy


@strawberry.type(description="How a score was reached: policy, inputs, formula, result.")
class ScoreExplanation:
    policy: str
    value: float
    target: float
    threshold: float
    direction: Direction
    achievement: float = strawberry.field(
        description="达成率: value/target, inverted when lower is better."
    )
    formula: str
    score: float
    note: str | None = strawberry.field(description="E.g. why another policy was used.")

    @classmethod
    def of(cls, e: CoreExplanation, note: str | None) -> Self:
        return cls(
            policy=e.policy,
            value=e.value,
            target=e.target,
            threshold=e.threshold,
            direction=e.direction,
            achievement=e.achievement,
            formula=e.formula,
            score=e.score,
            note=note,
        )


@strawberry.type(description="A scoring policy (评分策略) the tenant's KPIs may use.")
class ScoringPolicy:
    name: str
    label_zh: str
    label_en: str
    min_score: float
    max_score: float
    pack: str | None = strawberry.field(description="The pack providing it; null: built-in.")

    @classmethod
    def of(cls, pack: str | None, p: CorePolicy) -> Self:
        return cls(
            name=p.name,
            label_zh=p.label["zh"],
            label_en=p.label["en"],
            min_score=p.bounds[0],
            max_score=p.bounds[1],
            pack=pack,
        )
