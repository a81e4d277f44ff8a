"""Progress (进度) primitives: the share of the way from start to target, clamped.

A KPI's progress is its achievement against target (inverted when lower is better);
a key result without KPI data goes by its own start→target span. The roll-up up the
graph is the scoring engine's, run on the newest values (``scoring.graph_scores``).
``None`` means "no data yet", never zero.

Health (on track, at risk, missed) is what a page colours a goal by. A KPI's comes
from its newest value against its own target and pass threshold (达标门槛), whatever
policy scores it; an objective's or key result's from its grade by the usual OKR
reading: 0.7 and above is on track, below 0.4 missed.
"""

from __future__ import annotations

from collections.abc import Iterable

from .enums import GoalHealth
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


#: Grades from which an objective or key result is on track / no longer missed.
ON_TRACK_GRADE = 0.7
AT_RISK_GRADE = 0.4


def kpi_health(kpi: Kpi) -> GoalHealth | None:
    """On track at or past the target, at risk past the threshold only, else missed."""
    value = kpi.current_value
    if value is None:
        return None
    if ScoringPolicy.achievement(value, kpi.target, kpi.direction) >= 1.0:
        return GoalHealth.ON_TRACK
    if ScoringPolicy.meets(value, kpi.threshold, kpi.direction):
        return GoalHealth.AT_RISK
    return GoalHealth.MISSED


def grade_health(grade: float | None) -> GoalHealth | None:
    """An OKR grade read as health; None without a grade."""
    if grade is None:
        return None
    if grade >= ON_TRACK_GRADE:
        return GoalHealth.ON_TRACK
    if grade >= AT_RISK_GRADE:
        return GoalHealth.AT_RISK
    return GoalHealth.MISSED
