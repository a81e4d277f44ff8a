"""The common scoring policies every tenant has (评分策略).

- ``linear``: achievement against target, capped (default 120%).
- ``pass_fail``: 1 when the value passes the threshold (达标门槛), else 0.
- ``banded``: nothing below 80% achievement, linear from 80% to 100%, and above 100% a
  bonus of half the overshoot, capped at 120%.

All are direction-aware: for lower-is-better metrics (customer wait time, complaint
rate, cycle time) achievement is target / value.
"""

from __future__ import annotations

from typing import ClassVar

from ..enums import Direction
from ..policy import ScoringPolicy


class Linear(ScoringPolicy):
    """score = min(achievement, cap), never below 0."""

    name: ClassVar[str] = "linear"
    label: ClassVar[dict[str, str]] = {"zh": "线性达成率（封顶）", "en": "Linear, capped"}
    bounds: ClassVar[tuple[float, float]] = (0.0, 1.2)

    def __init__(self, cap: float = 1.2) -> None:
        self.cap = cap

    def score(self, value: float, target: float, threshold: float, direction: Direction) -> float:
        return max(0.0, min(self.cap, self.achievement(value, target, direction)))

    def formula(self, value: float, target: float, threshold: float, direction: Direction) -> str:
        rate = self.achievement(value, target, direction)
        ratio = (
            f"{target:g} / {value:g}"
            if direction is Direction.LOWER_IS_BETTER
            else (f"{value:g} / {target:g}")
        )
        result = self.score(value, target, threshold, direction)
        return f"min({ratio} = {rate:.4g}, cap {self.cap:g}) = {result:.4g}"


class PassFail(ScoringPolicy):
    """score = 1 if the value passes the threshold, else 0."""

    name: ClassVar[str] = "pass_fail"
    label: ClassVar[dict[str, str]] = {"zh": "达标/未达标", "en": "Pass or fail"}
    bounds: ClassVar[tuple[float, float]] = (0.0, 1.0)

    def score(self, value: float, target: float, threshold: float, direction: Direction) -> float:
        return 1.0 if self.meets(value, threshold, direction) else 0.0

    def formula(self, value: float, target: float, threshold: float, direction: Direction) -> str:
        sign = "≤" if direction is Direction.LOWER_IS_BETTER else "≥"
        verdict = "pass" if self.meets(value, threshold, direction) else "fail"
        result = self.score(value, target, threshold, direction)
        return f"{value:g} {sign} threshold {threshold:g}? {verdict} → {result:g}"


class Banded(ScoringPolicy):
    """Below ``floor`` → 0; floor..1 → achievement; above 1 → 1 + bonus × overshoot, capped."""

    name: ClassVar[str] = "banded"
    label: ClassVar[dict[str, str]] = {"zh": "分段计分", "en": "Banded"}
    bounds: ClassVar[tuple[float, float]] = (0.0, 1.2)

    def __init__(self, floor: float = 0.8, bonus: float = 0.5, cap: float = 1.2) -> None:
        self.floor, self.bonus, self.cap = floor, bonus, cap

    def score(self, value: float, target: float, threshold: float, direction: Direction) -> float:
        rate = self.achievement(value, target, direction)
        if rate < self.floor:
            return 0.0
        if rate <= 1.0:
            return rate
        return min(self.cap, 1.0 + self.bonus * (rate - 1.0))

    def formula(self, value: float, target: float, threshold: float, direction: Direction) -> str:
        rate = self.achievement(value, target, direction)
        result = self.score(value, target, threshold, direction)
        if rate < self.floor:
            return f"achievement {rate:.4g} < {self.floor:g} → 0"
        if rate <= 1.0:
            return f"{self.floor:g} ≤ achievement {rate:.4g} ≤ 1 → {result:.4g}"
        return f"1 + {self.bonus:g} × ({rate:.4g} − 1), cap {self.cap:g} = {result:.4g}"


#: The policies core ships, by name; ``linear`` is the default.
CORE_POLICIES: dict[str, ScoringPolicy] = {p.name: p for p in (Linear(), PassFail(), Banded())}
DEFAULT_POLICY = "linear"
