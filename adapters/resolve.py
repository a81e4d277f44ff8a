"""Which KPI a reading feeds: by the binding's KPI, or by subject code and metric."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from tortoise.expressions import Q

from ..core.enums import GoalStatus
from ..core.models import DataBinding, Kpi, OrgUnit, Person
from ..core.tenancy import TenantScope
from .contract import Reading


@dataclass
class KpiResolver:
    """Maps readings to KPI ids for one binding, loaded once per sync (three queries)."""

    metrics: dict[str, str]
    single: Kpi | None = None
    #: (subject code, KPI metric code) → active KPI ids of that owner and metric.
    by_subject: dict[tuple[str, str], list[int]] = field(default_factory=dict)

    @classmethod
    async def load(cls, scope: TenantScope, binding: DataBinding) -> KpiResolver:
        metrics = dict(binding.metrics or {})
        if binding.kpi_id is not None:
            kpi = await scope.query(Kpi).filter(id=binding.kpi_id).first()
            return cls(metrics, single=kpi)
        root = (
            await scope.query(OrgUnit).filter(id=binding.org_unit_id).first()
            if binding.org_unit_id is not None
            else await scope.query(OrgUnit).filter(parent_id=None).first()
        )
        if root is None:
            return cls(metrics)
        units = await scope.query(OrgUnit).filter(path__startswith=root.path)
        people = await scope.query(Person).filter(
            org_unit_id__in=[u.id for u in units], code__not_isnull=True
        )
        unit_codes = {u.id: u.code for u in units if u.code}
        person_codes = {p.id: p.code for p in people if p.code}
        owned = Q(owner_unit_id__in=list(unit_codes)) | Q(owner_person_id__in=list(person_codes))
        kpis = await scope.query(Kpi).filter(owned, status=GoalStatus.ACTIVE)
        found: dict[tuple[str, str], list[int]] = defaultdict(list)
        for kpi in sorted(kpis, key=lambda k: k.id):
            code = (
                unit_codes.get(kpi.owner_unit_id)
                if kpi.owner_unit_id is not None
                else person_codes.get(kpi.owner_person_id or 0)
            )
            if code:
                found[(code, kpi.metric_code)].append(kpi.id)
        return cls(metrics, by_subject=dict(found))

    def kpi_for(self, reading: Reading) -> int | str:
        """The KPI id the reading feeds, or why there is none."""
        metric = self.metrics.get(reading.metric, reading.metric)
        if self.single is not None:
            if self.single.status is not GoalStatus.ACTIVE:
                return "the bound KPI is archived"
            if self.metrics and metric != self.single.metric_code:
                return f"metric {reading.metric!r} does not feed KPI {self.single.metric_code!r}"
            return self.single.id
        ids = self.by_subject.get((reading.subject, metric), [])
        if not ids:
            return f"no active KPI {metric!r} for subject {reading.subject!r}"
        if len(ids) > 1:
            return f"subject {reading.subject!r} has {len(ids)} KPIs {metric!r}: ambiguous"
        return ids[0]
