"""The cross report (交叉分析报告) admins read: per org unit, OKR grade beside KPI
attainment, with its lagging KPIs, open alerts and disconnects."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..enums import AlertStatus, GoalStatus, Role
from ..errors import forbidden
from ..i18n import msg
from ..models import Alert, KeyResult, Kpi, Objective, OrgUnit
from ..scoring.service import ScoredCycle
from ..tenancy import TenantScope
from .cross import Disconnect, find_disconnects


@dataclass
class UnitRow:
    unit: OrgUnit
    okr_grade: float | None
    kpi_score: float | None
    combined: float | None
    lagging: list[Kpi] = field(default_factory=list)
    alerts: int = 0
    disconnects: list[Disconnect] = field(default_factory=list)


def report_root(scope: TenantScope, requested: OrgUnit | None, company: OrgUnit) -> str:
    """The unit a caller's report covers: the one asked for, within what they may see
    (admins and consultants: all; managers: their unit and below; others: their unit)."""
    if scope.role in (Role.ADMIN, Role.CONSULTANT):
        return (requested or company).path
    own = scope.actor.unit_path or "/-/"
    if requested is None:
        return own
    if not requested.path.startswith(own) or (
        scope.role is not Role.MANAGER and requested.path != own
    ):
        raise forbidden(msg("insight.cross_report_scope"))
    return requested.path


async def cross_report(
    scope: TenantScope, scored: ScoredCycle, root_path: str
) -> tuple[list[UnitRow], list[Disconnect]]:
    """A row per unit under ``root_path`` that owns goals in the cycle (or KPIs)."""
    units = await scope.query(OrgUnit).filter(path__startswith=root_path).order_by("path")
    ids = {u.id for u in units}
    owning = set(
        await scope.query(Objective)
        .filter(cycle_id=scored.cycle.id, status=GoalStatus.ACTIVE, owner_unit_id__in=ids)
        .values_list("owner_unit_id", flat=True)
    )
    owning |= set(
        await scope.query(KeyResult)
        .filter(
            objective__cycle_id=scored.cycle.id, status=GoalStatus.ACTIVE, owner_unit_id__in=ids
        )
        .values_list("owner_unit_id", flat=True)
    )
    owning |= set(
        await scope.query(Kpi)
        .filter(status=GoalStatus.ACTIVE, owner_unit_id__in=ids)
        .values_list("owner_unit_id", flat=True)
    )
    alerts = await scope.query(Alert).filter(
        status=AlertStatus.OPEN, owner_path__startswith=root_path
    )
    kpis = await scope.many(Kpi, (a.kpi_id for a in alerts))
    disconnects = await find_disconnects(scope, scored.cycle, root_path)
    rows = []
    for unit in units:
        if unit.id not in owning:
            continue
        card = scored.board.owner(unit_ids={unit.id})
        mine = [a for a in alerts if a.owner_unit_id == unit.id]
        rows.append(
            UnitRow(
                unit,
                card.okr_grade,
                card.kpi_score,
                card.combined,
                lagging=[kpis[a.kpi_id] for a in mine],
                alerts=sum(a.owner_path == unit.path for a in alerts),
                disconnects=[
                    d
                    for d in disconnects
                    if unit.id
                    in (
                        d.execution.owner_unit_id,
                        d.outcome.owner_unit_id,
                        d.objective.owner_unit_id,
                    )
                ],
            )
        )
    return rows, disconnects


async def company_of(scope: TenantScope) -> OrgUnit:
    found = await scope.query(OrgUnit).filter(parent_id=None).first()
    assert found is not None, "every tenant has a company unit"
    return found
