"""One pass of the feedback loop for a tenant: alerts, recommendations, adjustments.

Run after values come in (a sync, a batch of measurements) and by ``goalgraph demo``;
each step only adds what is new, so running it again changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from tortoise.transactions import in_transaction

from .. import events
from ..models import Adjustment, Alert, Recommendation
from ..tenancy import TenantScope
from .adjustments import propose_adjustments
from .misses import refresh_alerts
from .training import Courses, recommend


@dataclass
class ScanResult:
    alerts: list[Alert] = field(default_factory=list)
    recommendations: list[Recommendation] = field(default_factory=list)
    adjustments: list[Adjustment] = field(default_factory=list)


async def scan(
    scope: TenantScope, courses: Courses, kpi_ids: Iterable[int] | None = None
) -> ScanResult:
    """Alerts for the KPIs (all, or those just written), courses for the people behind
    new alerts, target proposals for units that mostly keep missing (one transaction)."""
    async with in_transaction():
        alerts = await refresh_alerts(scope, kpi_ids)
        recommendations = await recommend(scope, alerts, courses)
        adjustments = await propose_adjustments(scope)
        for alert in alerts:  # subscribers hear of them once the scan commits
            await events.publish_on_commit(
                events.Event(
                    scope.tenant_id,
                    events.ALERT,
                    {
                        "alert_id": alert.id,
                        "kind": alert.kind,
                        "owner_unit_path": alert.owner_path,
                        "owner_person_id": alert.owner_person_id,
                    },
                )
            )
    return ScanResult(alerts, recommendations, adjustments)
