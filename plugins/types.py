"""What packs contribute, as validated, immutable pydantic models.

Pack authors build these in their hooks; the pack manager validates them again when
the pack loads, so a typo (an unknown unit, a duplicate code, a template fed by a
metric no adapter supplies) is a clear error naming the pack and the item.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ..core.enums import Aggregation, Direction, Frequency
from ..core.stages import kpi_share_of
from ..core.units import KNOWN_UNITS

Code = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{1,62}$")]
PackName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]{1,62}$")]

#: Where in the org tree a template applies; "person" for individual KPIs.
LEVELS = ("company", "region", "department", "store", "team", "person")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Label(_Frozen):
    """A user-facing text in Chinese and English."""

    zh: str = Field(min_length=1, max_length=300)
    en: str = Field(min_length=1, max_length=300)


def _known_unit(unit: str) -> str:
    if unit not in KNOWN_UNITS:
        raise ValueError(f"unknown unit {unit!r} (known: {', '.join(sorted(KNOWN_UNITS))})")
    return unit


class PackInfo(_Frozen):
    """Who a pack is: name, version, title, industries, supported goalgraph versions."""

    name: PackName
    version: str = Field(min_length=1, max_length=40)
    title: Label
    industries: tuple[str, ...] = Field(min_length=1)
    goalgraph: str = Field(default=">=0.1", description="A version specifier, e.g. '>=0.1,<1'.")
    description: Label | None = None


class KpiTemplate(_Frozen):
    """A KPI a pack knows how to set up (e.g. retail's customer wait time ≤ 3 min)."""

    code: Code
    name: Label
    description: Label | None = None
    unit: str
    direction: Direction = Direction.HIGHER_IS_BETTER
    frequency: Frequency = Frequency.DAILY
    aggregation: Aggregation = Aggregation.AVERAGE
    default_target: float
    default_threshold: float
    suggested_weight: float = Field(default=1.0, gt=0, le=1000)
    level: str = Field(description=f"One of {', '.join(LEVELS)}.")
    metric: str | None = Field(
        default=None, description="The adapter metric that feeds it, if automated."
    )
    stages: tuple[str, ...] = Field(
        default=(), description="Lifecycle stages it is meant for; empty means all."
    )
    scoring_policy: str = Field(
        default="linear", description="A core policy or one of this pack's policies."
    )

    _unit = field_validator("unit")(_known_unit)

    @field_validator("level")
    @classmethod
    def _level(cls, level: str) -> str:
        if level not in LEVELS:
            raise ValueError(f"unknown level {level!r} (known: {', '.join(LEVELS)})")
        return level

    @model_validator(mode="after")
    def _threshold_on_the_easy_side(self) -> KpiTemplate:
        higher = self.direction is Direction.HIGHER_IS_BETTER
        if (higher and self.default_threshold > self.default_target) or (
            not higher and self.default_threshold < self.default_target
        ):
            raise ValueError("default_threshold must sit on the easier side of default_target")
        return self


class KeyResultTemplate(_Frozen):
    """A key result of an OKR template, optionally fed by a KPI template of the pack."""

    title: Label
    unit: str
    direction: Direction = Direction.HIGHER_IS_BETTER
    start_value: float = 0.0
    target_value: float
    weight: float = Field(default=1.0, gt=0, le=1000)
    kpi: Code | None = Field(
        default=None, description="KPI template whose KPIs (one per org unit) feed it."
    )

    _unit = field_validator("unit")(_known_unit)

    @model_validator(mode="after")
    def _span(self) -> KeyResultTemplate:
        if self.start_value == self.target_value:
            raise ValueError("target_value must differ from start_value")
        return self


class OkrTemplate(_Frozen):
    """An objective with key results, cascading into KPIs of the units applied to."""

    code: Code
    objective: Label
    description: Label | None = None
    level: str = "company"
    key_results: tuple[KeyResultTemplate, ...] = Field(min_length=1, max_length=8)
    stages: tuple[str, ...] = ()

    @field_validator("level")
    @classmethod
    def _level(cls, level: str) -> str:
        if level not in LEVELS:
            raise ValueError(f"unknown level {level!r}")
        return level


class LifecycleStageSpec(_Frozen):
    """A company lifecycle stage (发展阶段) and its default OKR/KPI weighting."""

    name: Code
    label: Label
    okr_share: float = Field(ge=0, le=1)
    description: Label | None = None

    @property
    def kpi_share(self) -> float:
        return kpi_share_of(self.okr_share)


class TrainingRecommendation(_Frozen):
    """A course (技能提升课程) for someone who keeps missing a KPI."""

    code: Code
    title: Label
    description: Label | None = None
    hours: float = Field(gt=0, le=1000)
    kpi_codes: tuple[Code, ...] = Field(min_length=1)
