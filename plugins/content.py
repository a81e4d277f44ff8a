"""A pack made of data: give it content, and it answers every hook from that content.

Most packs are templates, stages, adapters, policies and a course table; rather than
each writing the same eight hook functions, they build a ``ContentPack`` and point
their entry point at it (``retail = "goalgraph.plugins.retail:pack"``). A pack that
needs behaviour of its own writes hook functions instead (see docs/packs.md).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ..adapters.contract import DataAdapter
from ..adapters.org_source import OrgSource
from ..core.policy import ScoringPolicy
from .courses import Course, recommend
from .hookspecs import hookimpl
from .types import KpiTemplate, LifecycleStageSpec, OkrTemplate, PackInfo, TrainingRecommendation


class ContentPack:
    """Answers the content hooks from its fields and the behaviour hooks from them too."""

    def __init__(
        self,
        info: PackInfo,
        *,
        kpi_templates: Sequence[KpiTemplate] = (),
        okr_templates: Sequence[OkrTemplate] = (),
        stages: Sequence[LifecycleStageSpec] = (),
        adapters: Sequence[type[DataAdapter]] = (),
        org_sources: Sequence[type[OrgSource]] = (),
        policies: Sequence[ScoringPolicy] = (),
        courses: Mapping[str, Sequence[Course]] | None = None,
    ) -> None:
        self.info = info
        self.kpi_templates = list(kpi_templates)
        self.okr_templates = list(okr_templates)
        self.stages = list(stages)
        self.adapters = list(adapters)
        self.org_sources = list(org_sources)
        self.policies = {p.name: p for p in policies}
        self.courses = courses or {}

    def __repr__(self) -> str:
        return f"ContentPack({self.info.name!r})"

    @hookimpl
    def goalgraph_pack_info(self) -> PackInfo:
        return self.info

    @hookimpl
    def goalgraph_kpi_templates(self) -> Sequence[KpiTemplate]:
        return self.kpi_templates

    @hookimpl
    def goalgraph_okr_templates(self) -> Sequence[OkrTemplate]:
        return self.okr_templates

    @hookimpl
    def goalgraph_lifecycle_stages(self) -> Sequence[LifecycleStageSpec]:
        return self.stages

    @hookimpl
    def goalgraph_adapters(self) -> Sequence[type[DataAdapter]]:
        return self.adapters

    @hookimpl
    def goalgraph_org_sources(self) -> Sequence[type[OrgSource]]:
        return self.org_sources

    @hookimpl
    def goalgraph_scoring_policies(self) -> Sequence[ScoringPolicy]:
        return list(self.policies.values())

    @hookimpl
    def goalgraph_scoring_policy(self, name: str) -> ScoringPolicy | None:
        return self.policies.get(name)

    @hookimpl
    def goalgraph_training_recommendations(
        self, kpi_code: str, misses: int
    ) -> Sequence[TrainingRecommendation]:
        return recommend(self.courses, kpi_code, misses)
