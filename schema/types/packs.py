"""Industry packs, their templates and the lifecycle stages, as tenants see them."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Self

import strawberry

from ...core.enums import Aggregation, Direction, Frequency
from ...plugins import types as pack_types
from ...plugins.guard import PackFault, PackHealthError
from ...plugins.manager import LoadedPack
from ...plugins.view import StageView


@strawberry.type(description="A user-facing text in Chinese and English.")
class LocalizedText:
    zh: str
    en: str

    @classmethod
    def of(cls, label: pack_types.Label | None) -> LocalizedText | None:
        return cls(zh=label.zh, en=label.en) if label is not None else None


@strawberry.enum(description="Whether a pack loaded, or was left out with an error.")
class PackStatus(Enum):
    LOADED = "loaded"
    FAILED = "failed"


PackFaultCode = strawberry.enum(
    PackFault, name="PackFaultCode", description="Why a pack is unhealthy (stable codes)."
)


@strawberry.enum(description="Whether a pack serves its content.")
class PackHealthStatus(Enum):
    HEALTHY = "healthy"
    UNHEALTHY = "unhealthy"


@strawberry.type(
    name="PackHealthError",
    description="What made a pack unhealthy: at load, or while serving a request.",
)
class PackHealthErrorView:
    code: PackFaultCode  # type: ignore[valid-type]
    message: str = strawberry.field(description="One line naming the pack, hook and fault.")
    at: datetime

    @classmethod
    def of(cls, error: PackHealthError) -> Self:
        return cls(code=error.code, message=error.message, at=error.at)


@strawberry.type(
    description="A pack's health: an unhealthy pack's content is withheld, other packs "
    "keep serving."
)
class PackHealth:
    status: PackHealthStatus
    error: PackHealthErrorView | None

    @classmethod
    def of(cls, pack: LoadedPack) -> Self:
        if pack.ok:
            return cls(status=PackHealthStatus.HEALTHY, error=None)
        error = pack.health_error
        view = PackHealthErrorView.of(error) if error else None
        return cls(status=PackHealthStatus.UNHEALTHY, error=view)


@strawberry.type(description="An installed industry pack and its state for the caller's tenant.")
class Pack:
    name: str
    version: str | None
    title: LocalizedText | None
    industries: list[str]
    source: str
    status: PackStatus
    error: str | None = strawberry.field(description="Why the pack was left out, if it was.")
    health: PackHealth
    enabled_stages: list[str] = strawberry.field(
        description="Lifecycle stages the tenant enabled it for (empty: not enabled)."
    )
    active: bool = strawberry.field(description="Enabled for the tenant's current stage.")
    kpi_template_count: int
    okr_template_count: int
    stage_names: list[str]
    adapter_names: list[str]
    policy_names: list[str]

    @classmethod
    def of(cls, pack: LoadedPack, enabled_stages: list[str], current_stage: str) -> Self:
        info = pack.info
        return cls(
            name=pack.name,
            version=info.version if info else None,
            title=LocalizedText.of(info.title) if info else None,
            industries=list(info.industries) if info else [],
            source=pack.source,
            status=PackStatus.LOADED if pack.ok else PackStatus.FAILED,
            error=pack.error,
            health=PackHealth.of(pack),
            enabled_stages=enabled_stages,
            active=pack.ok and current_stage in enabled_stages,
            kpi_template_count=len(pack.kpi_templates),
            okr_template_count=len(pack.okr_templates),
            stage_names=list(pack.stages),
            adapter_names=list(pack.adapters),
            policy_names=list(pack.policies),
        )


@strawberry.type(description="A KPI a pack can set up for an org unit or a person.")
class KpiTemplate:
    pack: str
    code: str
    name: LocalizedText
    description: LocalizedText | None
    unit: str
    direction: Direction
    frequency: Frequency
    aggregation: Aggregation
    default_target: float
    default_threshold: float = strawberry.field(description="Default pass threshold (达标门槛).")
    suggested_weight: float
    level: str = strawberry.field(description="company, region, department, store, team or person")
    metric: str | None = strawberry.field(description="The adapter metric that feeds it.")
    stages: list[str] = strawberry.field(description="Stages it is meant for; empty: all.")

    @classmethod
    def of(cls, pack: str, t: pack_types.KpiTemplate) -> Self:
        return cls(
            pack=pack,
            code=t.code,
            name=LocalizedText(zh=t.name.zh, en=t.name.en),
            description=LocalizedText.of(t.description),
            unit=t.unit,
            direction=t.direction,
            frequency=t.frequency,
            aggregation=t.aggregation,
            default_target=t.default_target,
            default_threshold=t.default_threshold,
            suggested_weight=t.suggested_weight,
            level=t.level,
            metric=t.metric,
            stages=list(t.stages),
        )


@strawberry.type(description="A key result of an OKR template.")
class KeyResultTemplate:
    title: LocalizedText
    unit: str
    direction: Direction
    start_value: float
    target_value: float
    weight: float
    kpi: str | None = strawberry.field(description="KPI template code whose KPIs feed it.")


@strawberry.type(description="An objective with key results that cascade into unit KPIs.")
class OkrTemplate:
    pack: str
    code: str
    objective: LocalizedText
    description: LocalizedText | None
    level: str
    stages: list[str]
    key_results: list[KeyResultTemplate]

    @classmethod
    def of(cls, pack: str, t: pack_types.OkrTemplate) -> Self:
        return cls(
            pack=pack,
            code=t.code,
            objective=LocalizedText(zh=t.objective.zh, en=t.objective.en),
            description=LocalizedText.of(t.description),
            level=t.level,
            stages=list(t.stages),
            key_results=[
                KeyResultTemplate(
                    title=LocalizedText(zh=k.title.zh, en=k.title.en),
                    unit=k.unit,
                    direction=k.direction,
                    start_value=k.start_value,
                    target_value=k.target_value,
                    weight=k.weight,
                    kpi=k.kpi,
                )
                for k in t.key_results
            ],
        )


@strawberry.type(description="A company lifecycle stage (发展阶段) and its default weighting.")
class LifecycleStage:
    name: str
    label: LocalizedText
    okr_share: float
    kpi_share: float
    pack: str | None = strawberry.field(description="The pack defining it; null: built-in.")
    current: bool = strawberry.field(description="The tenant's current stage.")

    @classmethod
    def of(cls, view: StageView, current_stage: str) -> Self:
        s = view.spec
        return cls(
            name=s.name,
            label=LocalizedText(zh=s.label.zh, en=s.label.en),
            okr_share=s.okr_share,
            kpi_share=s.kpi_share,
            pack=view.pack,
            current=s.name == current_stage,
        )
