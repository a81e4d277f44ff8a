"""The data adapter contract: how business data becomes KPI readings.

An adapter declares its ``name``, the metrics it can supply (``metrics``: metric code →
unit; KPI templates name them, and a pack's templates are checked against its
adapters when the pack loads) and its configuration (``Config``, a pydantic model,
validated when a binding is made; the fields in ``secret_fields`` are credentials).

Given the binding's configuration and a cursor, ``batches`` yields ``Batch``es: the
readings it found, the rows it could not use (with why), and the cursor to resume
from once that batch is stored. The sync runner stores each batch and its cursor in one
transaction, so a sync stopped at any moment resumes where its last stored batch ended:
nothing is lost, and since values are upserts per KPI and period, nothing is doubled.
Adapters never compute scores; they only report values.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, ClassVar

import aiohttp
from pydantic import BaseModel, ConfigDict

#: What a cursor holds: plain JSON, stored with the binding's sync job.
Cursor = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Reading:
    """One value of one metric, for one subject (a store code, an employee number),
    for the period that holds ``period``. ``ref`` says where it came from."""

    metric: str
    subject: str
    period: date
    value: float
    ref: str = ""


@dataclass(frozen=True, slots=True)
class Rejection:
    """A row that could not be used: where it was (``line 42``, ``page 3 item 17``),
    why, and the row itself (shortened)."""

    ref: str
    reason: str
    content: str = ""


@dataclass
class Batch:
    """What one step of a pull found, and where the next step starts."""

    readings: list[Reading] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    #: The cursor to resume from once this batch is stored (None: start over next time).
    cursor: Cursor | None = None


class AdapterConfig(BaseModel):
    """Base of every adapter's configuration: unknown keys are refused, not ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class AdapterError(Exception):
    """The source failed in a way the adapter could not recover from (after retries)."""


class DataAdapter(ABC):
    """Base class of every adapter; subclasses set the class attributes."""

    #: Unique adapter name, e.g. ``"retail.pos"``.
    name: ClassVar[str]
    #: Bilingual title: ``{"zh": "...", "en": "..."}``.
    title: ClassVar[dict[str, str]]
    #: Metric code → unit of the values it reports.
    metrics: ClassVar[dict[str, str]] = {}
    #: The configuration a binding gives it.
    Config: ClassVar[type[AdapterConfig]] = AdapterConfig
    #: Config fields that are credentials: stored sealed, never returned by the API.
    secret_fields: ClassVar[frozenset[str]] = frozenset()
    #: False for adapters that are pushed to (webhooks) or fed files, not pulled.
    pulls: ClassVar[bool] = True

    def __init__(
        self,
        config: AdapterConfig,
        session: aiohttp.ClientSession | None = None,
        today: date | None = None,
        files: Path | None = None,
    ) -> None:
        self.config = config
        self._session = session
        self.today = today or date.today()
        #: The folder this tenant's file-based adapters may read (None: none).
        self.files = files

    @property
    def session(self) -> aiohttp.ClientSession:
        """The run's shared HTTP session (one per app or CLI run, never one per call)."""
        if self._session is None:
            raise AdapterError(f"{self.name}: no HTTP session was given")
        return self._session

    @abstractmethod
    def batches(self, cursor: Cursor | None) -> AsyncIterator[Batch]:
        """Batches from ``cursor`` (None: from the configured start) to the source's end."""


def reading_from(
    item: Mapping[str, Any],
    *,
    metric: str,
    subject_field: str,
    period_field: str,
    value: Any,
    ref: str,
) -> Reading:
    """A reading from one source row, or ValueError naming what is wrong with it."""
    subject = item.get(subject_field)
    if subject is None or str(subject).strip() == "":
        raise ValueError(f"no {subject_field!r}")
    raw_period = item.get(period_field)
    if raw_period is None:
        raise ValueError(f"no {period_field!r}")
    try:
        period = date.fromisoformat(str(raw_period)[:10])
    except ValueError:
        raise ValueError(f"{period_field!r} is not a date: {raw_period!r}") from None
    number = as_number(value)
    return Reading(metric, str(subject).strip(), period, number, ref)


def as_number(value: Any) -> float:
    """A finite float from a number or numeric text (``"1,234.5"`` too), else ValueError."""
    if isinstance(value, bool) or value is None:
        raise ValueError(f"not a number: {value!r}")
    if isinstance(value, str):
        value = value.strip().replace(",", "")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"not a number: {value!r}") from None
    if not math.isfinite(number):
        raise ValueError(f"not a finite number: {value!r}")
    return number
