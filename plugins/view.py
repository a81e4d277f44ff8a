"""A tenant's view of the packs: only those enabled for its current lifecycle stage.

Templates are offered by the packs enabled for the current stage. Scoring policies
come from every pack the tenant enabled, for whichever stages: a KPI keeps its
meaning when the company moves stage, so a stage switch changes weightings only and
no score has to be computed again. Content is filtered from what the manager loaded;
behaviour hooks are called through the manager's guarded ``call_each``, so they never
reach a pack the tenant did not enable, and a pack that raises, hangs or answers
nonsense is marked unhealthy and left out while the others still answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import ValidationError

from ..adapters.contract import DataAdapter
from ..adapters.directory import BUILT_IN as BUILT_IN_ORG_SOURCES
from ..adapters.org_source import OrgSource
from ..adapters.registry import GENERIC
from ..core.enums import Role
from ..core.identity import Identity
from ..core.insights.training import Course
from ..core.models import PackEnablement, Tenant
from ..core.policy import PolicyLookup, ScoringPolicy
from ..core.scoring.policies import CORE_POLICIES
from ..core.stages import BUILT_IN_STAGES
from ..core.tenancy import Actor, TenantScope
from .guard import PackError
from .manager import LoadedPack, PackManager
from .types import KpiTemplate, Label, LifecycleStageSpec, OkrTemplate, TrainingRecommendation


@dataclass(frozen=True, slots=True)
class StageView:
    """A lifecycle stage as tenants see it, with the pack that defines it (None: built-in)."""

    spec: LifecycleStageSpec
    pack: str | None


def built_in_stage_specs() -> list[LifecycleStageSpec]:
    return [
        LifecycleStageSpec(
            name=p.name, label=Label(zh=p.label_zh, en=p.label_en), okr_share=p.okr_share
        )
        for p in BUILT_IN_STAGES.values()
    ]


@dataclass
class TenantPacks:
    """The packs one tenant may use right now."""

    manager: PackManager
    stage: str
    enablements: dict[str, list[str]]
    #: Policies found by name during this view's life (one request): the hook is
    #: called once per name, not once per KPI.
    _policies: dict[str, ScoringPolicy | None] = field(default_factory=dict, repr=False)

    @property
    def active(self) -> list[LoadedPack]:
        """Loaded packs enabled for the tenant's current stage."""
        return [
            pack
            for name, stages in sorted(self.enablements.items())
            if self.stage in stages and (pack := self.manager.get(name)) is not None
        ]

    def active_names(self) -> list[str]:
        return [p.name for p in self.active]

    @property
    def enabled(self) -> list[LoadedPack]:
        """Loaded packs enabled for any of the tenant's stages."""
        return [
            pack
            for name in sorted(self.enablements)
            if (pack := self.manager.get(name)) is not None
        ]

    def kpi_templates(
        self, pack: str | None = None, stage: str | None = None, level: str | None = None
    ) -> list[tuple[LoadedPack, KpiTemplate]]:
        return [
            (p, t)
            for p in self.active
            if pack in (None, p.name)
            for t in p.kpi_templates.values()
            if (stage is None or not t.stages or stage in t.stages) and level in (None, t.level)
        ]

    def okr_templates(
        self, pack: str | None = None, stage: str | None = None, level: str | None = None
    ) -> list[tuple[LoadedPack, OkrTemplate]]:
        return [
            (p, t)
            for p in self.active
            if pack in (None, p.name)
            for t in p.okr_templates.values()
            if (stage is None or not t.stages or stage in t.stages) and level in (None, t.level)
        ]

    def kpi_template(self, pack: str, code: str) -> KpiTemplate | None:
        return next((t for p, t in self.kpi_templates(pack) if t.code == code), None)

    def okr_template(self, pack: str, code: str) -> OkrTemplate | None:
        return next((t for p, t in self.okr_templates(pack) if t.code == code), None)

    def lifecycle_stages(self) -> list[StageView]:
        """Built-in stages, then those of every installed pack (a tenant may move to any)."""
        views = [StageView(s, None) for s in built_in_stage_specs()]
        for pack in self.manager.loaded():
            views += [StageView(s, pack.name) for s in pack.stages.values()]
        return views

    def stage_presets(self) -> dict[str, float]:
        """Stages this tenant may be in, with their preset OKR share: the built-in ones
        and those of every pack it enabled (for whichever stages)."""
        presets = {s.name: s.okr_share for s in built_in_stage_specs()}
        for name in sorted(self.enablements):
            pack = self.manager.get(name)
            if pack is not None:
                presets.update({s.name: s.okr_share for s in pack.stages.values()})
        return presets

    def adapters(self) -> dict[str, type[DataAdapter]]:
        """Adapters bindings may use: the generic ones, then those of every pack the
        tenant enabled (for any stage: data keeps flowing when the stage changes)."""
        found = dict(GENERIC)
        for pack in self.enabled:
            found.update(pack.adapters)
        return found

    def org_sources(self) -> dict[str, type[OrgSource]]:
        """Org sources org bindings may use: the built-in directories, then those of
        every pack the tenant enabled (for any stage)."""
        found = dict(BUILT_IN_ORG_SOURCES)
        for pack in self.enabled:
            found.update(pack.org_sources)
        return found

    def metric_map(self, adapter: str) -> dict[str, str]:
        """For a pack's adapter: its metric → the KPI metric code of the pack's template
        that names it (the KPIs made from templates carry the template's code)."""
        for pack in self.enabled:
            found = pack.adapters.get(adapter)
            if found is not None:
                return {
                    t.metric: t.code
                    for t in sorted(pack.kpi_templates.values(), key=lambda t: t.code, reverse=True)
                    if t.metric in found.metrics
                }
        return {}

    def courses(self, kpi_code: str, misses: int) -> list[Course]:
        """The enabled packs' courses for a KPI missed ``misses`` periods in a row, as
        core stores them."""
        return [
            Course(r.code, r.title.zh, r.title.en, r.hours, pack)
            for pack, r in self.recommendations_by_pack(kpi_code, misses)
        ]

    def training_recommendations(self, kpi_code: str, misses: int) -> list[TrainingRecommendation]:
        return [r for _, r in self.recommendations_by_pack(kpi_code, misses)]

    def recommendations_by_pack(
        self, kpi_code: str, misses: int
    ) -> list[tuple[str, TrainingRecommendation]]:
        """Every active pack's courses, validated: a pack whose answer is not a list of
        recommendations is marked unhealthy and its answer dropped, the others kept."""
        found: list[tuple[str, TrainingRecommendation]] = []
        for pack, batch in self.manager.call_each(
            "goalgraph_training_recommendations",
            self.active_names(),
            kpi_code=kpi_code,
            misses=misses,
        ):
            try:
                found += [(pack, _recommendation(r)) for r in batch or []]
            except (TypeError, ValidationError) as exc:
                self.manager.mark_unhealthy(
                    pack,
                    PackError(
                        f"pack {pack!r}: hook goalgraph_training_recommendations answered "
                        f"malformed courses: {exc}"
                    ),
                )
        return found

    def scoring_policies(self) -> list[tuple[str | None, ScoringPolicy]]:
        """Core policies, then those of the packs the tenant enabled (for any stage)."""
        found: list[tuple[str | None, ScoringPolicy]] = [(None, p) for p in CORE_POLICIES.values()]
        for pack in self.enabled:
            found += [(pack.name, p) for p in pack.policies.values()]
        return found

    def scoring_policy(self, name: str) -> ScoringPolicy | None:
        """The enabled packs' policy called ``name`` (guarded: see
        ``PackManager.scoring_policy``); None sends the KPI to the default policy."""
        if name not in self._policies:
            enabled = [p.name for p in self.enabled]
            self._policies[name] = self.manager.scoring_policy(name, enabled)
        return self._policies[name]


def _recommendation(value: object) -> TrainingRecommendation:
    """A pack's answer as a ``TrainingRecommendation`` (dicts are accepted, as for
    templates); ``ValidationError`` when it is not one."""
    if isinstance(value, TrainingRecommendation):
        return value
    if not isinstance(value, dict):
        raise TypeError(f"{value!r} is not a TrainingRecommendation")
    return TrainingRecommendation.model_validate(value)


def bind_policies(scope: TenantScope, manager: PackManager) -> TenantScope:
    """Let every score written or read through ``scope`` use the tenant's pack
    policies (the CLI's and seeds' scopes; the API binds its own per request)."""

    async def source() -> PolicyLookup:
        return (await tenant_packs(scope, manager)).scoring_policy

    scope.policy_source = source
    return scope


def system_scope(tenant: Tenant, manager: PackManager) -> TenantScope:
    """The tenant as goalgraph itself acts in it (syncs, webhooks): an admin without a
    person, with the tenant's pack policies bound."""
    identity = Identity(tenant.id, tenant.slug, Role.ADMIN)
    return bind_policies(TenantScope(tenant, identity, Actor(None, None)), manager)


async def org_sources_of(scope: TenantScope, manager: PackManager) -> dict[str, type[OrgSource]]:
    """The org sources of the scope's tenant (the sync service's ``org_sources_for``)."""
    return (await tenant_packs(scope, manager)).org_sources()


async def tenant_packs(scope: TenantScope, manager: PackManager) -> TenantPacks:
    """The caller's tenant's view (one query)."""
    rows = await scope.query(PackEnablement).all()
    return TenantPacks(
        manager, scope.tenant.lifecycle_stage, {row.pack: list(row.stages) for row in rows}
    )
