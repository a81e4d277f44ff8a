"""Mutations on KPIs: create, update, archive, link to and unlink from key results."""

from __future__ import annotations

import strawberry
from strawberry import relay

from ...core import enums
from ...core.errors import DomainError, ErrorCode
from ...core.i18n import msg
from ...core.services import kpis as service
from ..context import Info
from ..errors import UserError
from ..ids import decode, decode_optional
from ..types.enums import Aggregation, Direction, Frequency
from ..types.goals import KeyResult, Kpi, KpiLink
from .common import guarded, updates


@strawberry.input
class CreateKpiInput:
    metric_code: str
    title: str
    target: float
    threshold: float = strawberry.field(description="Pass threshold (达标门槛).")
    title_en: str = ""
    unit: str = ""
    direction: Direction = enums.Direction.HIGHER_IS_BETTER
    weight: float = 1.0
    frequency: Frequency = enums.Frequency.DAILY
    aggregation: Aggregation = enums.Aggregation.AVERAGE
    scoring_policy: str = strawberry.field(
        default="linear", description="See scoringPolicies for what the tenant may use."
    )
    owner_unit_id: relay.GlobalID | None = None
    owner_person_id: relay.GlobalID | None = None


@strawberry.input
class UpdateKpiInput:
    id: relay.GlobalID
    title: str | None = strawberry.UNSET
    title_en: str | None = strawberry.UNSET
    unit: str | None = strawberry.UNSET
    direction: Direction | None = strawberry.UNSET
    target: float | None = strawberry.UNSET
    threshold: float | None = strawberry.UNSET
    weight: float | None = strawberry.UNSET
    frequency: Frequency | None = strawberry.UNSET
    aggregation: Aggregation | None = strawberry.UNSET
    scoring_policy: str | None = strawberry.UNSET
    owner_unit_id: relay.GlobalID | None = strawberry.UNSET
    owner_person_id: relay.GlobalID | None = strawberry.UNSET


@strawberry.type
class KpiPayload:
    kpi: Kpi | None
    errors: list[UserError]


@strawberry.type
class KpiLinkPayload:
    link: KpiLink | None
    errors: list[UserError]


@strawberry.type
class UnlinkKpiPayload:
    key_result: KeyResult | None
    errors: list[UserError]


_FIELDS = (
    "title",
    "title_en",
    "unit",
    "direction",
    "target",
    "threshold",
    "weight",
    "frequency",
    "aggregation",
    "scoring_policy",
)


async def _check_policy(info: Info, name: str | None) -> None:
    """Only policies the tenant may use now: core ones and its active packs'."""
    if name is None:
        return
    available = {p.name for _, p in (await info.context.tenant_packs()).scoring_policies()}
    if name not in available:
        raise DomainError.single(
            ErrorCode.INVALID,
            msg("kpi.unknown_policy", name=name, available=sorted(available)),
            "scoringPolicy",
        )


@strawberry.type
class KpiMutations:
    @strawberry.mutation(description="Create a KPI for an org unit or a person.")
    async def create_kpi(self, info: Info, input: CreateKpiInput) -> KpiPayload:
        scope = info.context.scope

        async def run() -> Kpi:
            await _check_policy(info, input.scoring_policy)
            row = await service.create_kpi(
                scope,
                scoring_policy=input.scoring_policy,
                metric_code=input.metric_code,
                title=input.title,
                title_en=input.title_en,
                unit=input.unit,
                direction=input.direction,
                target=input.target,
                threshold=input.threshold,
                weight=input.weight,
                frequency=input.frequency,
                aggregation=input.aggregation,
                owner_unit_id=decode_optional(input.owner_unit_id, "OrgUnit", "ownerUnitId"),
                owner_person_id=decode_optional(input.owner_person_id, "Person", "ownerPersonId"),
            )
            return Kpi.from_row(row)

        kpi, errors = await guarded(run)
        return KpiPayload(kpi=kpi, errors=errors)

    @strawberry.mutation(description="Change a KPI; target, threshold and weight are audited.")
    async def update_kpi(self, info: Info, input: UpdateKpiInput) -> KpiPayload:
        scope = info.context.scope

        async def run() -> Kpi:
            changes = updates(input, _FIELDS)
            await _check_policy(info, changes.get("scoring_policy"))  # type: ignore[arg-type]
            row = await service.update_kpi(scope, decode(input.id, "Kpi", "id"), changes)
            return Kpi.from_row(row)

        kpi, errors = await guarded(run)
        return KpiPayload(kpi=kpi, errors=errors)

    @strawberry.mutation(description="Archive a KPI: it stops feeding key results.")
    async def archive_kpi(self, info: Info, id: relay.GlobalID) -> KpiPayload:
        scope = info.context.scope

        async def run() -> Kpi:
            return Kpi.from_row(await service.archive_kpi(scope, decode(id, "Kpi", "id")))

        kpi, errors = await guarded(run)
        return KpiPayload(kpi=kpi, errors=errors)

    @strawberry.mutation(description="Let a KPI feed a key result; linking again sets the weight.")
    async def link_kpi(
        self, info: Info, key_result_id: relay.GlobalID, kpi_id: relay.GlobalID, weight: float = 1.0
    ) -> KpiLinkPayload:
        scope = info.context.scope

        async def run() -> KpiLink:
            row = await service.link_kpi(
                scope,
                key_result_id=decode(key_result_id, "KeyResult", "keyResultId"),
                kpi_id=decode(kpi_id, "Kpi", "kpiId"),
                weight=weight,
            )
            return KpiLink(weight=row.weight, row=row)

        link, errors = await guarded(run)
        return KpiLinkPayload(link=link, errors=errors)

    @strawberry.mutation(description="Stop a KPI feeding a key result.")
    async def unlink_kpi(
        self, info: Info, key_result_id: relay.GlobalID, kpi_id: relay.GlobalID
    ) -> UnlinkKpiPayload:
        scope = info.context.scope

        async def run() -> KeyResult:
            row = await service.unlink_kpi(
                scope,
                key_result_id=decode(key_result_id, "KeyResult", "keyResultId"),
                kpi_id=decode(kpi_id, "Kpi", "kpiId"),
            )
            return KeyResult.from_row(row)

        key_result, errors = await guarded(run)
        return UnlinkKpiPayload(key_result=key_result, errors=errors)
