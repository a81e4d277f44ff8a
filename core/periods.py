"""The period grid of KPI frequencies: which period a date falls in.

A measurement is stored under its period's first day, so "one value per KPI and
period" is a unique key, and two writes for any day of the same month of a monthly
KPI land on the same row.
"""

from __future__ import annotations

from datetime import date, timedelta

from .enums import Frequency


def period_start(day: date, frequency: Frequency) -> date:
    """The first day of the period of ``frequency`` that contains ``day``."""
    match frequency:
        case Frequency.DAILY:
            return day
        case Frequency.WEEKLY:
            return day - timedelta(days=day.weekday())
        case Frequency.MONTHLY:
            return day.replace(day=1)
        case Frequency.QUARTERLY:
            return day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)
    raise ValueError(f"unknown frequency {frequency!r}")


#: The longest a period of each frequency lasts, in days.
LONGEST_DAYS = {
    Frequency.DAILY: 1,
    Frequency.WEEKLY: 7,
    Frequency.MONTHLY: 31,
    Frequency.QUARTERLY: 92,
}


def previous_period(start: date, frequency: Frequency) -> date:
    """The first day of the period just before the one starting on ``start``."""
    return period_start(start - timedelta(days=1), frequency)
