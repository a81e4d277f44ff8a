"""Mutations on packs: enablement per lifecycle stage, and goals from templates."""

from __future__ import annotations

import strawberry
from strawberry import relay

from ...plugins import apply, enablement
from ..context import Info
from ..errors import UserError
from ..ids import decode, decode_optional
from ..types.goals import Kpi, Objective
from ..types.packs import Pack
from .common import guarded
from .kpis import KpiPayload
from .objectives import ObjectivePayload


@strawberry.type
class PackPayload:
    pack: Pack | None
    errors: list[UserError]


@strawberry.input
class CreateKpiFromTemplateInput:
    pack: str
    code: str
    owner_unit_id: relay.GlobalID | None = None
    owner_person_id: relay.GlobalID | None = None
    target: float | None = strawberry.field(default=None, description="Default: the template's.")
    threshold: float | None = None
    weight: float | None = None


@strawberry.input
class ApplyOkrTemplateInput:
    pack: str
    code: str
    cycle_id: relay.GlobalID
    owner_unit_id: relay.GlobalID = strawberry.field(description="Who owns the objective.")
    unit_ids: list[relay.GlobalID] = strawberry.field(
        default_factory=list, description="Units that get a KPI for each KPI-bound key result."
    )
    parent_id: relay.GlobalID | None = None


async def _pack_state(info: Info, name: str) -> Pack:
    info.context.forget_tenant_packs()
    view = await info.context.tenant_packs()
    return Pack.of(info.context.packs.packs[name], view.enablements.get(name, []), view.stage)


@strawberry.type
class PackMutations:
    @strawberry.mutation(description="Enable a pack for lifecycle stages (admins, consultants).")
    async def enable_pack(self, info: Info, name: str, stages: list[str]) -> PackPayload:
        scope, manager = info.context.scope, info.context.packs

        async def run() -> Pack:
            await enablement.enable_pack(scope, manager, name, stages)
            return await _pack_state(info, name)

        pack, errors = await guarded(run)
        return PackPayload(pack=pack, errors=errors)

    @strawberry.mutation(description="Disable a pack; goals made from its templates stay.")
    async def disable_pack(self, info: Info, name: str) -> PackPayload:
        scope = info.context.scope

        async def run() -> Pack:
            await enablement.disable_pack(scope, info.context.packs, name)
            return await _pack_state(info, name)

        pack, errors = await guarded(run)
        return PackPayload(pack=pack, errors=errors)

    @strawberry.mutation(description="Create a KPI from a template enabled for this stage.")
    async def create_kpi_from_template(
        self, info: Info, input: CreateKpiFromTemplateInput
    ) -> KpiPayload:
        scope = info.context.scope

        async def run() -> Kpi:
            row = await apply.create_kpi_from_template(
                scope,
                await info.context.tenant_packs(),
                pack=input.pack,
                code=input.code,
                owner_unit_id=decode_optional(input.owner_unit_id, "OrgUnit", "ownerUnitId"),
                owner_person_id=decode_optional(input.owner_person_id, "Person", "ownerPersonId"),
                target=input.target,
                threshold=input.threshold,
                weight=input.weight,
            )
            return Kpi.from_row(row)

        kpi, errors = await guarded(run)
        return KpiPayload(kpi=kpi, errors=errors)

    @strawberry.mutation(
        description="Cascade an OKR template: the objective, its key results, and a KPI per "
        "unit for each KPI-bound key result, in one transaction."
    )
    async def apply_okr_template(
        self, info: Info, input: ApplyOkrTemplateInput
    ) -> ObjectivePayload:
        scope = info.context.scope

        async def run() -> Objective:
            row = await apply.apply_okr_template(
                scope,
                await info.context.tenant_packs(),
                pack=input.pack,
                code=input.code,
                cycle_id=decode(input.cycle_id, "Cycle", "cycleId"),
                owner_unit_id=decode(input.owner_unit_id, "OrgUnit", "ownerUnitId"),
                unit_ids=[decode(u, "OrgUnit", "unitIds") for u in input.unit_ids],
                parent_id=decode_optional(input.parent_id, "Objective", "parentId"),
            )
            return Objective.from_row(row)

        objective, errors = await guarded(run)
        return ObjectivePayload(objective=objective, errors=errors)
