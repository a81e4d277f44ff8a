"""Read side of the packs: installed packs, templates and lifecycle stages."""

from __future__ import annotations

import strawberry

from .context import Info
from .types.packs import KpiTemplate, LifecycleStage, OkrTemplate, Pack
from .types.scoring import ScoringPolicy


@strawberry.type
class PackQueries:
    @strawberry.field(
        description="Installed packs (loaded or failed), their health and their enablement."
    )
    async def packs(self, info: Info) -> list[Pack]:
        view = await info.context.tenant_packs()
        return [
            Pack.of(pack, view.enablements.get(pack.name, []), view.stage)
            for pack in sorted(info.context.packs.packs.values(), key=lambda p: p.name)
        ]

    @strawberry.field(description="KPI templates of the packs enabled for the current stage.")
    async def kpi_templates(
        self,
        info: Info,
        pack: str | None = None,
        stage: str | None = None,
        level: str | None = None,
    ) -> list[KpiTemplate]:
        view = await info.context.tenant_packs()
        return [KpiTemplate.of(p.name, t) for p, t in view.kpi_templates(pack, stage, level)]

    @strawberry.field(description="OKR templates of the packs enabled for the current stage.")
    async def okr_templates(
        self,
        info: Info,
        pack: str | None = None,
        stage: str | None = None,
        level: str | None = None,
    ) -> list[OkrTemplate]:
        view = await info.context.tenant_packs()
        return [OkrTemplate.of(p.name, t) for p, t in view.okr_templates(pack, stage, level)]

    @strawberry.field(description="Scoring policies: built-in, then the active packs'.")
    async def scoring_policies(self, info: Info) -> list[ScoringPolicy]:
        view = await info.context.tenant_packs()
        return [ScoringPolicy.of(pack, policy) for pack, policy in view.scoring_policies()]

    @strawberry.field(description="Built-in lifecycle stages and those of installed packs.")
    async def lifecycle_stages(self, info: Info) -> list[LifecycleStage]:
        view = await info.context.tenant_packs()
        return [LifecycleStage.of(s, view.stage) for s in view.lifecycle_stages()]
