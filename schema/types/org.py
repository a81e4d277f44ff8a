"""Tenant, org units, people and cycles."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any, Self

import strawberry
from strawberry import relay

from ...core import models
from ...core.reporting import ManagerSource, unit_chain
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
    external_id: str | None = strawberry.field(
        description="The unit's id in the HR directory it is synced from."
    )
    archived_at: datetime | None = strawberry.field(description="When it was archived.")
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
            external_id=row.external_id,
            archived_at=row.archived_at,
            row=row,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Self | None]:
        return await load_nodes(info.context.loaders.org_unit, node_ids, cls.from_row)

    @strawberry.field(description="Archived: kept with its history, taking no new people.")
    def archived(self) -> bool:
        return self.row.archived_at is not None

    @strawberry.field(description="The unit above; null for the company.")
    async def parent(self, info: Info) -> OrgUnit | None:
        if self.row.parent_id is None:
            return None
        row = await info.context.loaders.org_unit.load(self.row.parent_id)
        return OrgUnit.from_row(row) if row else None

    @strawberry.field(description="The units directly below, in id order.")
    async def children(self, info: Info, include_archived: bool = False) -> list[OrgUnit]:
        rows = await info.context.loaders.child_units.load(self.row.id)
        return [OrgUnit.from_row(r) for r in rows if include_archived or r.archived_at is None]

    @strawberry.field(description="The units above, from the company down to the parent.")
    async def ancestors(self, info: Info) -> list[OrgUnit]:
        ids = list(reversed(unit_chain(self.row.path)[1:]))
        rows = await info.context.loaders.org_unit.load_many(ids)
        return [OrgUnit.from_row(r) for r in rows if r is not None]

    @strawberry.field(description="How many active people belong to the unit itself.")
    async def people_count(self, info: Info) -> int:
        return await info.context.loaders.people_count.load(self.row.id)


strawberry.enum(ManagerSource, description="Where a person's solid-line manager comes from.")


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
    job_title: str = strawberry.field(description="Job title (职位), as the HR system has it.")
    external_id: str | None = strawberry.field(
        description="The person's id in the HR directory or identity provider."
    )
    active: bool = strawberry.field(description="False for a leaver (deactivated).")
    deactivated_at: datetime | None
    locale: str | None = strawberry.field(
        description="The language the person reads messages in (zh-CN, en); null: their "
        "client's Accept-Language decides. Set by the person (setMyLocale)."
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
            job_title=row.job_title,
            external_id=row.external_id,
            active=row.active,
            deactivated_at=row.deactivated_at,
            locale=row.locale,
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

    @strawberry.field(
        description="The solid-line manager: the one named on the person, else the org "
        "tree's (the nearest active manager in their unit or above)."
    )
    async def manager(self, info: Info) -> Person | None:
        loaders = info.context.loaders
        if self.row.manager_id is not None:
            row = await loaders.person.load(self.row.manager_id)
        else:
            row = await loaders.tree_manager_of.load(self._key)
        return Person.from_row(row) if row else None

    @strawberry.field(description="Whether `manager` is named on the person or the org tree's.")
    def manager_source(self) -> ManagerSource:
        if self.row.manager_id is not None:
            return ManagerSource.EXPLICIT
        return ManagerSource.ORG_TREE

    @strawberry.field(description="Dotted-line managers (虚线汇报), beside the solid line.")
    async def dotted_line_managers(self, info: Info) -> list[Person]:
        rows = await info.context.loaders.dotted_managers_of.load(self.row.id)
        return [Person.from_row(r) for r in rows]

    @strawberry.field(
        description="Active people whose solid-line manager this person is (named on them, "
        "or the org tree's), in id order."
    )
    async def reports(self, info: Info) -> list[Person]:
        rows = await info.context.loaders.reports_of.load(self._key)
        return [Person.from_row(r) for r in rows]

    @property
    def _key(self) -> tuple[int, int, bool]:
        return (self.row.id, self.row.org_unit_id, self.row.role is Role.MANAGER)


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
