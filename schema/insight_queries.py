"""What goalgraph noticed: alerts, recommendations and adjustments, within the
caller's scope (every argument optional: the caller's whole view of the tenant)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import strawberry
from strawberry import relay

from ..core import models
from ..core.enums import AlertStatus, ProposalStatus
from ..core.insights.cross import find_disconnects
from ..core.insights.report import company_of, cross_report, report_root
from ..core.insights.visibility import adjustments_for, alerts_for, recommendations_for
from ..core.scoring import service
from ..core.scoring.service import ScoredCycle
from .context import Info
from .ids import decode_optional
from .types.goals import Kpi
from .types.insights import (
    Adjustment,
    Alert,
    CrossReport,
    CrossReportRow,
    Disconnect,
    Recommendation,
    TrainingRecord,
)
from .types.org import OrgUnit

LIMIT = 500


async def _report_scope(
    info: Info, org_unit_id: relay.GlobalID | None, cycle_id: relay.GlobalID | None
) -> tuple[ScoredCycle, str]:
    """The scored cycle and the org path a caller's analysis covers."""
    scope = info.context.scope
    unit_id = decode_optional(org_unit_id, "OrgUnit", "orgUnitId")
    requested = await scope.get(models.OrgUnit, unit_id, "orgUnitId") if unit_id else None
    root = report_root(scope, requested, await company_of(scope))
    packs = await info.context.tenant_packs()
    scored = await service.score(
        scope,
        decode_optional(cycle_id, "Cycle", "cycleId"),
        packs.stage_presets(),
        packs.scoring_policy,
        date.today(),
    )
    return scored, root


@strawberry.type
class InsightQueries:
    @strawberry.field(description="Alerts on KPIs that keep missing, newest first.")
    async def alerts(
        self,
        info: Info,
        org_unit_id: Annotated[
            relay.GlobalID | None,
            strawberry.argument(description="Only owners in this unit and below."),
        ] = None,
        status: AlertStatus | None = AlertStatus.OPEN,
    ) -> list[Alert]:
        query = alerts_for(info.context.scope)
        if status is not None:
            query = query.filter(status=status)
        unit_id = decode_optional(org_unit_id, "OrgUnit", "orgUnitId")
        if unit_id is not None:
            unit = await info.context.scope.get(models.OrgUnit, unit_id, "orgUnitId")
            query = query.filter(owner_path__startswith=unit.path)
        return [Alert.from_row(r) for r in await query.order_by("-id").limit(LIMIT)]

    @strawberry.field(description="Training recommendations, waiting ones first.")
    async def recommendations(
        self,
        info: Info,
        person_id: relay.GlobalID | None = None,
        status: ProposalStatus | None = None,
    ) -> list[Recommendation]:
        query = recommendations_for(info.context.scope)
        person = decode_optional(person_id, "Person", "personId")
        if person is not None:
            query = query.filter(person_id=person)
        if status is not None:
            query = query.filter(status=status)
        rows = await query.order_by("-id").limit(LIMIT)
        rows.sort(key=lambda r: r.status is not ProposalStatus.PROPOSED)
        return [Recommendation.from_row(r) for r in rows]

    @strawberry.field(description="Proposed target adjustments, waiting ones first.")
    async def adjustments(
        self,
        info: Info,
        org_unit_id: relay.GlobalID | None = None,
        status: ProposalStatus | None = None,
    ) -> list[Adjustment]:
        query = adjustments_for(info.context.scope)
        unit_id = decode_optional(org_unit_id, "OrgUnit", "orgUnitId")
        if unit_id is not None:
            unit = await info.context.scope.get(models.OrgUnit, unit_id, "orgUnitId")
            query = query.filter(org_unit__path__startswith=unit.path)
        if status is not None:
            query = query.filter(status=status)
        rows = await query.order_by("-id").limit(LIMIT)
        rows.sort(key=lambda r: r.status is not ProposalStatus.PROPOSED)
        return [Adjustment.from_row(r) for r in rows]

    @strawberry.field(
        description="KPIs and OKR metrics drifting apart (断层点) under the cycle's "
        "objectives, strongest first; defaults: the caller's unit (or company), the "
        "current cycle."
    )
    async def disconnects(
        self,
        info: Info,
        org_unit_id: relay.GlobalID | None = None,
        cycle_id: relay.GlobalID | None = None,
    ) -> list[Disconnect]:
        scored, root = await _report_scope(info, org_unit_id, cycle_id)
        found = await find_disconnects(info.context.scope, scored.cycle, root)
        return [Disconnect.of(d) for d in found]

    @strawberry.field(
        description="Per org unit: OKR grade beside KPI attainment, lagging KPIs, alerts "
        "and disconnects (交叉分析报告)."
    )
    async def cross_report(
        self,
        info: Info,
        org_unit_id: relay.GlobalID | None = None,
        cycle_id: relay.GlobalID | None = None,
    ) -> CrossReport:
        scored, root = await _report_scope(info, org_unit_id, cycle_id)
        rows, found = await cross_report(info.context.scope, scored, root)
        shares = scored.shares
        return CrossReport(
            cycle_name=scored.cycle.name,
            stage=shares.stage,
            okr_share=shares.okr_share,
            kpi_share=shares.kpi_share,
            rows=[
                CrossReportRow(
                    org_unit=OrgUnit.from_row(r.unit),
                    okr_grade=r.okr_grade,
                    kpi_score=r.kpi_score,
                    combined_score=r.combined,
                    lagging_kpis=[Kpi.from_row(k) for k in r.lagging],
                    alerts=r.alerts,
                    disconnects=[Disconnect.of(d) for d in r.disconnects],
                )
                for r in rows
            ],
            disconnects=[Disconnect.of(d) for d in found],
        )

    @strawberry.field(description="Courses a person takes (培训记录), for them and their managers.")
    async def training_records(self, info: Info, person_id: relay.GlobalID) -> list[TrainingRecord]:
        person = decode_optional(person_id, "Person", "personId")
        visible = recommendations_for(info.context.scope).filter(person_id=person).exists()
        scope = info.context.scope
        if person != scope.actor.person_id and not await visible:
            return []
        rows = await scope.query(models.TrainingRecord).filter(person_id=person).order_by("id")
        return [
            TrainingRecord(
                course_code=r.course_code,
                title=r.title,
                title_en=r.title_en,
                hours=r.hours,
                assigned_on=r.assigned_on,
            )
            for r in rows
        ]
