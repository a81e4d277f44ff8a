"""The data adapter contract: how business data becomes KPI readings.

An adapter declares the metrics it can supply (``metrics``: metric code → unit) and
fetches readings for a date range. KPI templates name the adapter metric that feeds
them, so a pack's templates are checked against its adapters when the pack loads.
Adapters never compute scores; they only report values.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import date
from typing import Any, ClassVar


@dataclass(frozen=True, slots=True)
class Reading:
    """One value of one metric, for one org unit or person, on one day."""

    metric: str
    subject: str
    period: date
    value: float


class DataAdapter(ABC):
    """Base class of every adapter; subclasses set the class attributes."""

    #: Unique adapter name, e.g. ``"retail.pos"``.
    name: ClassVar[str]
    #: Bilingual title: ``{"zh": "...", "en": "..."}``.
    title: ClassVar[dict[str, str]]
    #: Metric code → unit of the values it reports.
    metrics: ClassVar[dict[str, str]]

    def __init__(self, **config: Any) -> None:
        self.config = config

    @abstractmethod
    async def fetch(self, since: date, until: date) -> list[Reading]:
        """Readings for every day from ``since`` to ``until`` (inclusive)."""
