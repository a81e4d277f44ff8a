"""Tenant, org units, people and cycles."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any, Self

import strawberry
from strawberry import relay

from ...core import models
from ..context import Info
from .enums import CycleKind, OrgUnitKind, Role


def _int_ids(node_ids: Iterable[str]) -> list[int | None]:
    out: list[int | None] = []
    for node_id in node_ids:
        try:
            out.append(int(node_id))
        except ValueError:
            out.append(None)
    return out


async def load_nodes(loader: Any, node_ids: Iterable[str], wrap: Any) -> list[Any]:
    """Rows for relay ids via a by-id loader; unknown or foreign ids become None."""
    ids = _int_ids(node_ids)
    rows = await loader.load_many([i for i in ids if i is not None])
    found = dict(zip([i for i in ids if i is not None], rows, strict=True))
    return [wrap(found[i]) if i is not None and found.get(i) else None for i in ids]


@strawberry.type(description="The OKR and KPI shares (summing to 1) for one lifecycle stage.")
class StageWeighting:
    stage: str
    okr_share: float
    kpi_share: float
    custom: bool = strawberry.field(description="Chosen by the tenant (false: the preset).")


@strawberry.type(description="The company the caller belongs to.")
class Tenant:
    slug: str
    name: str
    name_en: str
    industry: str
    lifecycle_stage: str = strawberry.field(description="Same as stage.")
    alert_after_misses: int = strawberry.field(
        description="Consecutive missed periods that raise an alert on a KPI."
    )

    @strawberry.field(description="The current lifecycle stage (发展阶段), e.g. growth.")
    def stage(self) -> str:
        return self.lifecycle_stage

    @strawberry.field(description="The weighting of every stage the tenant may be in.")
    async def weightings(self, info: Info) -> list[StageWeighting]:
        from ...core.services.stages import weightings

        presets = (await info.context.tenant_packs()).stage_presets()
        return [
            StageWeighting(
                stage=w.stage, okr_share=w.okr_share, kpi_share=w.kpi_share, custom=w.custom
            )
            for w in await weightings(info.context.scope, presets)
        ]

    @classmethod
    def from_row(cls, row: models.Tenant) -> Self:
        return cls(
            slug=row.slug,
            name=row.name,
            name_en=row.name_en,
            industry=row.industry,
            lifecycle_stage=row.lifecycle_stage,
            alert_after_misses=row.alert_after_misses,
        )


@strawberry.type(description="A unit of the org tree: company, region, department, store, team.")
class OrgUnit(relay.Node):
    id: relay.NodeID[int]
    name: str
    name_en: str
    kind: OrgUnitKind
    depth: int
    code: str | None = strawberry.field(
        description="What business systems call the unit (a store number); data syncs "
        "match readings to it."
    )
    row: strawberry.Private[models.OrgUnit]

    @classmethod
    def from_row(cls, row: models.OrgUnit) -> Self:
        return cls(
            id=row.id,
            name=row.name,
            name_en=row.name_en,
            kind=row.kind,
            depth=row.depth,
            code=row.code,
            row=row,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Self | None]:
        return await load_nodes(info.context.loaders.org_unit, node_ids, cls.from_row)

    @strawberry.field(description="The unit above; null for the company.")
    async def parent(self, info: Info) -> OrgUnit | None:
        if self.row.parent_id is None:
            return None
        row = await info.context.loaders.org_unit.load(self.row.parent_id)
        return OrgUnit.from_row(row) if row else None


@strawberry.type(description="Someone who owns goals, checks in, or administers the tenant.")
class Person(relay.Node):
    id: relay.NodeID[int]
    name: str
    name_en: str
    email: str
    role: Role
    code: str | None = strawberry.field(
        description="The person's number in business systems (payroll, attendance)."
    )
    row: strawberry.Private[models.Person]

    @classmethod
    def from_row(cls, row: models.Person) -> Self:
        return cls(
            id=row.id,
            name=row.name,
            name_en=row.name_en,
            email=row.email,
            role=row.role,
            code=row.code,
            row=row,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Self | None]:
        return await load_nodes(info.context.loaders.person, node_ids, cls.from_row)

    @strawberry.field(description="The org unit the person belongs to.")
    async def org_unit(self, info: Info) -> OrgUnit:
        row = await info.context.loaders.org_unit.load(self.row.org_unit_id)
        assert row is not None
        return OrgUnit.from_row(row)


@strawberry.type(description="A cycle (考核周期): a year, quarter, month or week.")
class Cycle(relay.Node):
    id: relay.NodeID[int]
    name: str
    name_en: str
    kind: CycleKind
    starts_on: date
    ends_on: date
    closed: bool = strawberry.field(
        description="Closed: its scores are frozen and its goals take no more writes."
    )
    closed_at: datetime | None

    @classmethod
    def from_row(cls, row: models.Cycle) -> Self:
        return cls(
            id=row.id,
            name=row.name,
            name_en=row.name_en,
            kind=row.kind,
            starts_on=row.starts_on,
            ends_on=row.ends_on,
            closed=row.closed,
            closed_at=row.closed_at,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Self | None]:
        return await load_nodes(info.context.loaders.cycle, node_ids, cls.from_row)


@strawberry.type(description="The caller: their tenant, person (if any) and role.")
class Viewer:
    tenant: Tenant
    role: Role
    person: Person | None
    token_expires_at: datetime | None = None
