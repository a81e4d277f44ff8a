"""A KPI's value over a span (a cycle, a month): its measurements combined by rule.

- ``sum``: totals (sales, output, orders).
- ``average``: levels (foot traffic per day, wait time, attainment %).
- ``last``: stocks and already-cumulative figures (inventory turnover this month).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from ..enums import Aggregation


def aggregate(values: Sequence[tuple[date, float]], rule: Aggregation) -> float | None:
    """Combine ``(period_start, value)`` pairs; ``None`` when there are none."""
    if not values:
        return None
    match rule:
        case Aggregation.SUM:
            return float(sum(v for _, v in values))
        case Aggregation.AVERAGE:
            return float(sum(v for _, v in values)) / len(values)
        case Aggregation.LAST:
            return float(max(values, key=lambda pv: pv[0])[1])
    raise ValueError(f"unknown aggregation {rule!r}")
