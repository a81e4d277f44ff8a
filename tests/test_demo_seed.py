"""The freshmart demo: a realistic, 4+ level goal graph with 90 days of data, seeded once."""

from __future__ import annotations

from datetime import date, timedelta
from statistics import mean

import httpx

from goalgraph.core.models import (
    AuditEvent,
    DataBinding,
    KeyResult,
    Kpi,
    KpiLink,
    Measurement,
    Objective,
    OrgUnit,
    PackEnablement,
)
from goalgraph.plugins.retail.demo import pos_url, seed_demo

TODAY = date(2026, 11, 28)


async def test_demo_cascades_from_hq_to_store_kpis(client: httpx.AsyncClient) -> None:
    summary = await seed_demo(TODAY)
    assert summary.created
    tenant_id = summary.tenant_id
    hq = await Objective.get(tenant_id=tenant_id, title="年度营收增长20%", parent_id=None)
    regions = await Objective.filter(parent_id=hq.id)
    assert len(regions) == 3
    key_result = await KeyResult.filter(objective_id=regions[0].id).first()
    assert key_result is not None
    store = await OrgUnit.get(id=key_result.owner_unit_id)
    assert store.kind == "store"
    links = await KpiLink.filter(key_result_id=key_result.id).prefetch_related("kpi")
    codes = {link.kpi.metric_code for link in links}
    assert {"store_daily_sales", "store_daily_foot_traffic", "sales_per_sqm"} <= codes
    # one KPI feeds two key results: the graph is a DAG, not only a tree
    shared = await KpiLink.filter(kpi__metric_code="customer_wait_time").values_list(
        "kpi_id", flat=True
    )
    assert len(shared) > len(set(shared))


async def test_demo_has_ninety_days_and_two_lagging_stores(client: httpx.AsyncClient) -> None:
    summary = await seed_demo(TODAY)
    traffic = await Kpi.filter(
        tenant_id=summary.tenant_id, metric_code="store_daily_foot_traffic"
    ).prefetch_related("measurements")
    assert len(traffic) == 8
    below_threshold = []
    for kpi in traffic:
        days = sorted(m.period_start for m in kpi.measurements)
        assert len(days) == 90
        assert days[0] == TODAY - timedelta(days=89)
        assert days[-1] == TODAY
        assert kpi.current_period == TODAY
        if mean(m.value for m in kpi.measurements) < kpi.threshold:
            below_threshold.append(kpi.owner_unit_id)
    names = {u.name for u in await OrgUnit.filter(id__in=below_threshold)}
    assert names == {"南京新街口店", "石家庄长安店"}


async def test_demo_is_seeded_once(client: httpx.AsyncClient) -> None:
    first = await seed_demo(TODAY)
    measurements = await Measurement.all().count()
    again = await seed_demo(TODAY)
    assert again.created is False
    assert again.counts == first.counts
    assert again.admin_person_id == first.admin_person_id
    assert await Measurement.all().count() == measurements
    assert first.counts["measurements"] == measurements > 4000


async def test_demo_points_its_pos_binding_where_the_demo_pos_runs(
    client: httpx.AsyncClient,
) -> None:
    """``make demo POS_PORT=8123`` serves the demo POS on 8123: the binding must follow."""
    summary = await seed_demo(TODAY, pos=pos_url("127.0.0.1", 8123))
    binding = await DataBinding.get(tenant_id=summary.tenant_id, adapter="retail.pos")
    assert binding.config["url"] == "http://127.0.0.1:8123/api/sales"
    await seed_demo(TODAY, pos=pos_url("127.0.0.1", 8200))
    await seed_demo(TODAY, pos=pos_url("127.0.0.1", 8200))  # already there: no change
    await binding.refresh_from_db()
    assert binding.config["url"] == "http://127.0.0.1:8200/api/sales"
    assert binding.config["start"] == TODAY.isoformat()
    moves = await AuditEvent.filter(tenant_id=summary.tenant_id, action="binding.updated")
    assert [m.after["config"]["url"] for m in moves] == ["http://127.0.0.1:8200/api/sales"]


async def test_demo_runs_on_the_retail_pack(client: httpx.AsyncClient) -> None:
    summary = await seed_demo(TODAY)
    enablement = await PackEnablement.get(tenant_id=summary.tenant_id)
    assert enablement.pack == "retail"
    assert "growth" in enablement.stages
    origins = await Kpi.filter(tenant_id=summary.tenant_id).values_list("origin", flat=True)
    assert len(origins) == 56
    assert all(o.startswith("retail:") for o in origins)
    assert "retail:associate_daily_sales" in origins
