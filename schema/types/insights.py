"""Alerts, training recommendations, training records and target adjustments."""

from __future__ import annotations

from datetime import date, datetime
from typing import Self

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

from ...core import models
from ...core.enums import AlertStatus, ProposalStatus
from ...core.insights.cross import Disconnect as CoreDisconnect
from ..context import Info
from .goals import KeyResult, Kpi, Objective
from .org import OrgUnit, Person
from .packs import LocalizedText

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


@strawberry.type(description="A KPI and an OKR metric drifting apart (断层点), with the numbers.")
class Disconnect:
    kind: str = strawberry.field(description="kpi_met_okr_flat or okr_improves_kpi_missed.")
    periods: int
    strength: float = strawberry.field(description="0..1: how well the weaker half holds.")
    reason: LocalizedText
    evidence: JSON = strawberry.field(
        description="sign_p, kpi_periods, mk_z, mk_p_increasing, theil_sen_slope, "
        "spearman_rho, mean_attainment."
    )
    row: strawberry.Private[CoreDisconnect]

    @classmethod
    def of(cls, found: CoreDisconnect) -> Self:
        f = found.finding
        return cls(
            kind=f.kind.value,
            periods=f.periods,
            strength=f.strength,
            reason=LocalizedText(zh=f.reason["zh"], en=f.reason["en"]),
            evidence=JSON(
                {
                    "sign_p": f.sign_p,
                    "kpi_periods": f.kpi_periods,
                    "mk_z": f.mk_z,
                    "mk_p_increasing": f.mk_p_increasing,
                    "theil_sen_slope": f.theil_sen_slope,
                    "spearman_rho": f.spearman_rho,
                    "mean_attainment": f.mean_attainment,
                }
            ),
            row=found,
        )

    @strawberry.field(description="The objective both belong under.")
    def objective(self) -> Objective:
        return Objective.from_row(self.row.objective)

    @strawberry.field(description="The KPI whose attainment is judged (execution).")
    def kpi(self) -> Kpi:
        return Kpi.from_row(self.row.execution)

    @strawberry.field(description="The metric it should move (the OKR side).")
    def outcome(self) -> Kpi:
        return Kpi.from_row(self.row.outcome)


@strawberry.type(description="One org unit in the cross report.")
class CrossReportRow:
    org_unit: OrgUnit
    okr_grade: float | None
    kpi_score: float | None
    combined_score: float | None
    lagging_kpis: list[Kpi] = strawberry.field(description="KPIs with an open alert.")
    alerts: int = strawberry.field(description="Open alerts on goals the unit owns.")
    disconnects: list[Disconnect]


@strawberry.type(description="OKR grade beside KPI attainment, per unit (交叉分析报告).")
class CrossReport:
    cycle_name: str
    stage: str
    okr_share: float
    kpi_share: float
    rows: list[CrossReportRow]
    disconnects: list[Disconnect]
