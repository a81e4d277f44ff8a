"""The hooks an industry pack may implement.

A pack is a module (or object) with functions marked ``@hookimpl`` whose names match
these specs. Every hook is optional; an implementation may accept fewer arguments than
its spec. Content hooks are called once per pack when packs load, and what they return
is validated; behaviour hooks are called at run time through a tenant's view, which
only reaches the packs that tenant enabled for its current stage.
"""

from __future__ import annotations

from collections.abc import Sequence

import pluggy

from ..adapters.contract import DataAdapter
from ..adapters.org_source import OrgSource
from ..core.policy import ScoringPolicy
from .types import (
    KpiTemplate,
    LifecycleStageSpec,
    OkrTemplate,
    PackInfo,
    TrainingRecommendation,
)

PROJECT = "goalgraph"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def goalgraph_pack_info() -> PackInfo:  # type: ignore[empty-body]
    """Name, version, bilingual title, industries and supported goalgraph versions."""


@hookspec
def goalgraph_kpi_templates() -> Sequence[KpiTemplate]:  # type: ignore[empty-body]
    """KPI templates of the pack."""


@hookspec
def goalgraph_okr_templates() -> Sequence[OkrTemplate]:  # type: ignore[empty-body]
    """OKR templates: objectives with key results, optionally bound to KPI templates."""


@hookspec
def goalgraph_lifecycle_stages() -> Sequence[LifecycleStageSpec]:  # type: ignore[empty-body]
    """Lifecycle stages the pack defines, with their default OKR/KPI weighting."""


@hookspec
def goalgraph_adapters() -> Sequence[type[DataAdapter]]:  # type: ignore[empty-body]
    """Data adapter classes; KPI templates' ``metric`` must name one of their metrics."""


@hookspec
def goalgraph_org_sources() -> Sequence[type[OrgSource]]:  # type: ignore[empty-body]
    """Org source classes: HR systems whose departments and people org bindings keep in
    step (beside the built-in DingTalk, Feishu and WeCom directories)."""


@hookspec
def goalgraph_scoring_policies() -> Sequence[ScoringPolicy]:  # type: ignore[empty-body]
    """Scoring policies the pack adds."""


@hookspec
def goalgraph_training_recommendations(  # type: ignore[empty-body]
    kpi_code: str, misses: int
) -> Sequence[TrainingRecommendation]:
    """Courses for someone who missed the KPI of template ``kpi_code`` ``misses`` periods
    in a row. Called through a tenant's view; every enabled pack may answer."""


@hookspec(firstresult=True)
def goalgraph_scoring_policy(name: str) -> ScoringPolicy | None:
    """The policy called ``name``, from the first pack that has it (one answer wanted)."""


CONTENT_HOOKS = (
    "goalgraph_kpi_templates",
    "goalgraph_okr_templates",
    "goalgraph_lifecycle_stages",
    "goalgraph_adapters",
    "goalgraph_org_sources",
    "goalgraph_scoring_policies",
)
