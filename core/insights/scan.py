"""One pass of the feedback loop for a tenant: alerts, recommendations, adjustments.

Run after values come in (a sync, a batch of measurements) and by ``goalgraph demo``;
each step only adds what is new, so running it again changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from tortoise.transactions import in_transaction

from .. import events
from ..models import Adjustment, Alert, Kpi, Recommendation
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
    written = None if kpi_ids is None else set(kpi_ids)
    async with in_transaction():
        alerts = await refresh_alerts(scope, written)
        recommendations = await recommend(scope, alerts, courses)
        units: set[int] | None = None
        if written is not None:  # only the units just written to can have changed
            owners = await scope.query(Kpi).filter(id__in=written).values("owner_unit_id")
            units = {row["owner_unit_id"] for row in owners if row["owner_unit_id"]}
        adjustments = await propose_adjustments(scope, units)
        # subscribers hear of them once the scan commits (one NOTIFY statement for all)
        await events.publish_on_commit(
            *(
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
                for alert in alerts
            )
        )
    return ScanResult(alerts, recommendations, adjustments)
