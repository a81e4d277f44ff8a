"""Switching the lifecycle stage and a stage's OKR/KPI weighting (admins, audited)."""

from __future__ import annotations

import strawberry

from ...core.services import stages
from ..context import Info
from ..errors import UserError
from ..types.org import Tenant
from .common import guarded


@strawberry.type
class TenantPayload:
    tenant: Tenant | None
    errors: list[UserError]


@strawberry.type
class StageMutations:
    @strawberry.mutation(description="Move the company to another lifecycle stage.")
    async def set_lifecycle_stage(self, info: Info, stage: str) -> TenantPayload:
        scope = info.context.scope

        async def run() -> Tenant:
            presets = (await info.context.tenant_packs()).stage_presets()
            return Tenant.from_row(await stages.set_lifecycle_stage(scope, stage, presets))

        tenant, errors = await guarded(run)
        return TenantPayload(tenant=tenant, errors=errors)

    @strawberry.mutation(description="Set a stage's OKR and KPI shares (each 0..1, sum 1).")
    async def set_stage_weighting(
        self, info: Info, stage: str, okr_share: float, kpi_share: float
    ) -> TenantPayload:
        scope = info.context.scope

        async def run() -> Tenant:
            presets = (await info.context.tenant_packs()).stage_presets()
            await stages.set_stage_weighting(scope, stage, okr_share, kpi_share, presets)
            return Tenant.from_row(scope.tenant)

        tenant, errors = await guarded(run)
        return TenantPayload(tenant=tenant, errors=errors)
