"""Consecutive misses: a KPI that missed its threshold (达标门槛) period after period.

A KPI raises an alert when its latest ``N`` periods (the tenant's
``alert_after_misses``, 3 by default) are consecutive on its frequency grid and every
one of them missed the threshold; the alert carries those periods and values as its
evidence and stays open until the KPI passes again. Only the newest values count: a
streak further back that has since ended raises nothing.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from tortoise.transactions import in_transaction

from .. import audit
from ..enums import AlertStatus, GoalStatus, Role
from ..errors import DomainError, ErrorCode, forbidden
from ..i18n import msg
from ..models import Alert, Kpi, Measurement, OrgUnit, Person, Tenant
from ..periods import LONGEST_DAYS, previous_period
from ..policy import ScoringPolicy
from ..tenancy import TenantScope


@dataclass(frozen=True, slots=True)
class Streak:
    """The KPI's latest periods, newest last, when all of them missed."""

    kpi: Kpi
    periods: list[tuple[date, float]]

    def evidence(self) -> list[dict[str, Any]]:
        return [
            {"period": p.isoformat(), "value": v, "threshold": self.kpi.threshold}
            for p, v in self.periods
        ]


def attainment(kpi: Kpi, value: float) -> float:
    """Value against target (inverted when lower is better), within 0..2, the range any
    scoring cap allows: one figure for adjustments and cross-analysis alike."""
    return max(0.0, min(2.0, ScoringPolicy.achievement(value, kpi.target, kpi.direction)))


def missed_streak(kpi: Kpi, values: list[tuple[date, float]], length: int) -> Streak | None:
    """The streak if the latest ``length`` periods of ``values`` (oldest first) are
    consecutive and all missed; None otherwise."""
    if len(values) < length:
        return None
    latest = values[-length:]
    for (before, _), (after, _) in itertools.pairwise(latest):
        if previous_period(after, kpi.frequency) != before:
            return None  # a gap: no value for a period in between
    if any(ScoringPolicy.meets(v, kpi.threshold, kpi.direction) for _, v in latest):
        return None
    return Streak(kpi, latest)


async def latest_values(
    scope: TenantScope, kpis: Iterable[Kpi], length: int
) -> dict[int, list[tuple[date, float]]]:
    """Each KPI's newest ``length`` period values, oldest first (one query)."""
    by_id = {k.id: k for k in kpis if k.current_period is not None}
    if not by_id:
        return {}
    earliest = min(
        k.current_period - timedelta(days=LONGEST_DAYS[k.frequency] * length)  # type: ignore[operator]
        for k in by_id.values()
    )
    rows = (
        await scope.query(Measurement)
        .filter(kpi_id__in=list(by_id), period_start__gte=earliest)
        .order_by("kpi_id", "period_start")
        .values_list("kpi_id", "period_start", "value")
    )
    found: dict[int, list[tuple[date, float]]] = defaultdict(list)
    for kpi_id, period, value in rows:
        found[kpi_id].append((period, float(value)))
    return {k: v[-length:] for k, v in found.items()}


MIN_STREAK, MAX_STREAK = 2, 24


async def set_alert_after_misses(scope: TenantScope, periods: int) -> Tenant:
    """How many consecutive missed periods raise an alert (admins; audited). Alerts
    follow from the next values recorded."""
    if scope.role is not Role.ADMIN:
        raise forbidden(msg("insight.alerts_admin_only"))
    if not MIN_STREAK <= periods <= MAX_STREAK:
        raise DomainError.single(
            ErrorCode.OUT_OF_RANGE,
            msg("insight.periods_range", min=MIN_STREAK, max=MAX_STREAK),
            "periods",
        )
    tenant = scope.tenant
    if tenant.alert_after_misses != periods:
        async with in_transaction():
            before = tenant.alert_after_misses
            await Tenant.filter(id=tenant.id).update(alert_after_misses=periods)
            tenant.alert_after_misses = periods
            await audit.record(
                scope,
                "tenant.alert_after_misses_changed",
                "tenant",
                tenant.id,
                {"alert_after_misses": before},
                {"alert_after_misses": periods},
            )
    return tenant


async def refresh_alerts(scope: TenantScope, kpi_ids: Iterable[int] | None = None) -> list[Alert]:
    """Open alerts for KPIs on a streak, resolve those that passed again; returns the
    alerts opened now. ``kpi_ids`` limits the look to KPIs just written."""
    length = max(MIN_STREAK, scope.tenant.alert_after_misses)
    query = scope.query(Kpi).filter(status=GoalStatus.ACTIVE)
    if kpi_ids is not None:
        query = query.filter(id__in=list(kpi_ids))
    kpis = await query
    values = await latest_values(scope, kpis, length)
    open_alerts = {
        a.kpi_id: a
        for a in await scope.query(Alert).filter(
            status=AlertStatus.OPEN, kpi_id__in=[k.id for k in kpis]
        )
    }
    streaks = [s for k in kpis if (s := missed_streak(k, values.get(k.id, []), length))]
    on_streak = {s.kpi.id for s in streaks}
    passed = [a.id for kpi_id, a in open_alerts.items() if kpi_id not in on_streak]
    if passed:
        await (
            scope.query(Alert)
            .filter(id__in=passed)
            .update(status=AlertStatus.RESOLVED, resolved_at=datetime.now(UTC))
        )
    new = [s for s in streaks if s.kpi.id not in open_alerts]
    paths = await _owner_paths(scope, [s.kpi for s in new])
    opened = []
    for streak in new:
        kpi = streak.kpi
        opened.append(
            await scope.create(
                Alert,
                kpi_id=kpi.id,
                owner_unit_id=kpi.owner_unit_id,
                owner_person_id=kpi.owner_person_id,
                owner_path=paths[kpi.id],
                misses=len(streak.periods),
                evidence=streak.evidence(),
            )
        )
    by_kpi = {s.kpi.id: s for s in streaks}
    for kpi_id, alert in open_alerts.items():
        current = by_kpi.get(kpi_id)
        if current is not None and current.evidence() != alert.evidence:
            alert.evidence, alert.misses = current.evidence(), len(current.periods)
            await alert.save(update_fields=["evidence", "misses", "updated_at"])
    return opened


async def _owner_paths(scope: TenantScope, kpis: list[Kpi]) -> dict[int, str]:
    """The org path each KPI's owner sits at (a person: their unit's)."""
    people = await scope.many(Person, (k.owner_person_id for k in kpis if k.owner_person_id))
    unit_ids = {k.owner_unit_id for k in kpis if k.owner_unit_id} | {
        p.org_unit_id for p in people.values()
    }
    units = await scope.many(OrgUnit, unit_ids)
    paths = {}
    for kpi in kpis:
        if kpi.owner_unit_id is not None:
            paths[kpi.id] = units[kpi.owner_unit_id].path
        else:
            paths[kpi.id] = units[people[kpi.owner_person_id or 0].org_unit_id].path
    return paths
