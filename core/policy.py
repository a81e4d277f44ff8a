"""The scoring-policy contract: how one KPI value becomes a score.

Core ships the common policies with the scoring engine; packs add their own through
the ``goalgraph_scoring_policies`` hook. A policy is pure: same inputs, same score.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

from .enums import Direction


class ScoringPolicy(ABC):
    """A named rule from (value, target, threshold, direction) to a score."""

    #: Unique policy name, e.g. ``"retail.new_product_bonus"``.
    name: ClassVar[str]
    #: Bilingual label: ``{"zh": "...", "en": "..."}``.
    label: ClassVar[dict[str, str]]

    @abstractmethod
    def score(self, value: float, target: float, threshold: float, direction: Direction) -> float:
        """The score of ``value``; 1.0 means exactly on target."""

    @staticmethod
    def achievement(value: float, target: float, direction: Direction) -> float:
        """Value against target, inverted when lower is better (0 when undefined)."""
        if direction is Direction.LOWER_IS_BETTER:
            return target / value if value > 0 else 0.0
        return value / target if target else 0.0
