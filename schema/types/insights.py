"""Alerts, training recommendations, training records and target adjustments."""

from __future__ import annotations

from datetime import date, datetime
from typing import Self

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

from ...core import models
from ...core.enums import AlertStatus, ProposalStatus
from ..context import Info
from .goals import KeyResult, Kpi
from .org import OrgUnit, Person

strawberry.enum(AlertStatus, description="Open until the KPI passes its threshold again.")
strawberry.enum(ProposalStatus, description="Waiting, accepted or dismissed.")


async def _kpi(info: Info, kpi_id: int) -> Kpi:
    row = await info.context.loaders.kpi.load(kpi_id)
    assert row is not None
    return Kpi.from_row(row)


@strawberry.type(description="A KPI that missed its threshold several periods in a row.")
class Alert:
    id: strawberry.ID
    kind: str
    misses: int
    status: AlertStatus
    evidence: JSON = strawberry.field(description="The missed periods: period, value, threshold.")
    created_at: datetime
    resolved_at: datetime | None
    row: strawberry.Private[models.Alert]

    @classmethod
    def from_row(cls, row: models.Alert) -> Self:
        return cls(
            id=strawberry.ID(str(relay.GlobalID("Alert", str(row.id)))),
            kind=row.kind,
            misses=row.misses,
            status=row.status,
            evidence=JSON(row.evidence),
            created_at=row.created_at,
            resolved_at=row.resolved_at,
            row=row,
        )

    @strawberry.field
    async def kpi(self, info: Info) -> Kpi:
        return await _kpi(info, self.row.kpi_id)


@strawberry.type(description="A course (技能提升课程) proposed to a person, with its evidence.")
class Recommendation:
    id: strawberry.ID
    course_code: str
    title: str
    title_en: str
    hours: float
    status: ProposalStatus
    evidence: JSON = strawberry.field(description="The missed periods behind it.")
    created_at: datetime
    row: strawberry.Private[models.Recommendation]

    @classmethod
    def from_row(cls, row: models.Recommendation) -> Self:
        return cls(
            id=strawberry.ID(str(relay.GlobalID("Recommendation", str(row.id)))),
            course_code=row.course_code,
            title=row.title,
            title_en=row.title_en,
            hours=row.hours,
            status=row.status,
            evidence=JSON(row.evidence),
            created_at=row.created_at,
            row=row,
        )

    @strawberry.field
    async def person(self, info: Info) -> Person:
        row = await info.context.loaders.person.load(self.row.person_id)
        assert row is not None
        return Person.from_row(row)

    @strawberry.field
    async def kpi(self, info: Info) -> Kpi:
        return await _kpi(info, self.row.kpi_id)


@strawberry.type(description="A course a person takes (培训记录).")
class TrainingRecord:
    course_code: str
    title: str
    title_en: str
    hours: float
    assigned_on: date


@strawberry.type(description="A proposed new target for a key result (动态调整).")
class Adjustment:
    id: strawberry.ID
    current_target: float
    suggested_target: float
    attainment: float = strawberry.field(description="Recent attainment of its KPIs (1 = target).")
    reason: str
    reason_en: str
    evidence: JSON
    status: ProposalStatus
    created_at: datetime
    row: strawberry.Private[models.Adjustment]

    @classmethod
    def from_row(cls, row: models.Adjustment) -> Self:
        return cls(
            id=strawberry.ID(str(relay.GlobalID("Adjustment", str(row.id)))),
            current_target=row.current_target,
            suggested_target=row.suggested_target,
            attainment=row.attainment,
            reason=row.reason,
            reason_en=row.reason_en,
            evidence=JSON(row.evidence),
            status=row.status,
            created_at=row.created_at,
            row=row,
        )

    @strawberry.field
    async def org_unit(self, info: Info) -> OrgUnit:
        row = await info.context.loaders.org_unit.load(self.row.org_unit_id)
        assert row is not None
        return OrgUnit.from_row(row)

    @strawberry.field
    async def key_result(self, info: Info) -> KeyResult:
        row = await info.context.loaders.key_result.load(self.row.key_result_id)
        assert row is not None
        return KeyResult.from_row(row)
