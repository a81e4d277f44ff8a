"""The scoring-policy contract: how one KPI value becomes a score, and says why.

Core ships the common policies (``core/scoring/policies.py``); packs add their own
through the ``goalgraph_scoring_policies`` hook. A policy is pure: same inputs, same
score. Every evaluation can explain itself (policy, inputs, formula, result), so a
score shown to a person is never a bare number.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import ClassVar

from .enums import Direction


@dataclass(frozen=True, slots=True)
class ScoreExplanation:
    """A score with everything needed to reproduce it by hand.

    The formula is written out only when asked for: scoring a large tree computes
    thousands of these, and few of them are ever explained.
    """

    rule: ScoringPolicy
    value: float
    target: float
    threshold: float
    direction: Direction
    achievement: float
    score: float

    @property
    def policy(self) -> str:
        return self.rule.name

    @property
    def formula(self) -> str:
        return self.rule.formula(self.value, self.target, self.threshold, self.direction)


class ScoringPolicy(ABC):
    """A named rule from (value, target, threshold, direction) to a score."""

    #: Unique policy name, e.g. ``"linear"`` or ``"retail.new_product_bonus"``.
    name: ClassVar[str]
    #: Bilingual label: ``{"zh": "...", "en": "..."}``.
    label: ClassVar[dict[str, str]]
    #: The lowest and highest score the policy can give (checked by property tests).
    bounds: ClassVar[tuple[float, float]] = (0.0, 1.5)

    @abstractmethod
    def score(self, value: float, target: float, threshold: float, direction: Direction) -> float:
        """The score of ``value``; 1.0 means exactly on target."""

    def formula(self, value: float, target: float, threshold: float, direction: Direction) -> str:
        """How the score was reached, in words and numbers (override for clarity)."""
        rate = self.achievement(value, target, direction)
        return f"achievement {rate:.4g} → {self.score(value, target, threshold, direction):.4g}"

    def explain(
        self, value: float, target: float, threshold: float, direction: Direction
    ) -> ScoreExplanation:
        return ScoreExplanation(
            rule=self,
            value=value,
            target=target,
            threshold=threshold,
            direction=direction,
            achievement=self.achievement(value, target, direction),
            score=self.score(value, target, threshold, direction),
        )

    @staticmethod
    def achievement(value: float, target: float, direction: Direction) -> float:
        """Value against target, inverted when lower is better (达成率).

        Lower is better: 2.5 min against a 3 min target achieves 3 / 2.5 = 1.2; a value
        of zero or less is perfect and counts as 2 (the largest any cap allows).
        """
        if direction is Direction.LOWER_IS_BETTER:
            return target / value if value > 0 else 2.0
        if target == 0:
            return 1.0 if value >= 0 else 0.0
        return value / target

    @staticmethod
    def meets(value: float, threshold: float, direction: Direction) -> bool:
        """Whether ``value`` passes the threshold (达标)."""
        if direction is Direction.LOWER_IS_BETTER:
            return value <= threshold
        return value >= threshold


#: Finds a pack's policy by name for one tenant (None: not available to it).
PolicyLookup = Callable[[str], ScoringPolicy | None]
#: Loads a tenant's ``PolicyLookup`` when scores are computed (the enabled packs).
PolicySource = Callable[[], Awaitable[PolicyLookup | None]]
