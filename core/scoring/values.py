"""KPI values over a span, aggregated in the database (set-based, two queries per
``bulk.IN_LIMIT`` KPIs).

A cycle may hold months of daily values for thousands of KPIs; the database sums,
counts and finds each KPI's last period, so only one row per KPI crosses the wire.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from tortoise.functions import Count, Max, Sum

from ..bulk import chunked
from ..enums import Aggregation
from ..models import Kpi, Measurement
from ..tenancy import TenantScope


async def span_values(
    scope: TenantScope, kpis: Iterable[Kpi], starts_on: date, ends_on: date
) -> dict[int, float]:
    """Each KPI's value from ``starts_on`` to ``ends_on`` by its aggregation rule;
    KPIs without measurements in the span are absent."""
    by_id = {k.id: k for k in kpis}
    if not by_id:
        return {}
    rows = []
    for ids in chunked(list(by_id)):
        rows += (
            await scope.query(Measurement)
            .filter(kpi_id__in=ids, period_start__gte=starts_on, period_start__lte=ends_on)
            .group_by("kpi_id")
            .annotate(total=Sum("value"), n=Count("id"), last=Max("period_start"))
            .values("kpi_id", "total", "n", "last")
        )
    values: dict[int, float] = {}
    lasts: dict[int, date] = {}
    for row in rows:
        kpi = by_id[row["kpi_id"]]
        if kpi.aggregation is Aggregation.SUM:
            values[kpi.id] = float(row["total"])
        elif kpi.aggregation is Aggregation.AVERAGE:
            values[kpi.id] = float(row["total"]) / int(row["n"])
        else:
            lasts[kpi.id] = as_date(row["last"])
    final = []
    for ids in chunked(list(lasts)):
        final += (
            await scope.query(Measurement)
            .filter(kpi_id__in=ids, period_start__in={lasts[i] for i in ids})
            .values("kpi_id", "period_start", "value")
        )
    for row in final:
        if lasts.get(row["kpi_id"]) == as_date(row["period_start"]):
            values[row["kpi_id"]] = float(row["value"])
    return values


def as_date(value: object) -> date:
    """SQLite hands aggregated dates back as text; PostgreSQL as dates."""
    return value if isinstance(value, date) else date.fromisoformat(str(value))
