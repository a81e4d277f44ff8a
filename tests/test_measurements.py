"""Measurements: one row per KPI and period, batches all-or-nothing."""

from __future__ import annotations

import httpx

from goalgraph.core.models import Kpi, Measurement, MeasurementRevision

from .factories import build_chain, gid, gql, make_company

RECORD = """mutation($e: [MeasurementEntry!]!) {
  recordMeasurements(entries: $e) {
    measurements { periodStart value source }
    errors { field code message }
  }
}"""


async def test_writing_a_period_twice_keeps_one_row(client: httpx.AsyncClient) -> None:
    company = await make_company("acme")
    kpi = (await build_chain(company))["kpis"][0]
    kpi_id = gid("Kpi", kpi.id)
    first = await gql(
        client,
        RECORD,
        {"e": [{"kpiId": kpi_id, "period": "2026-11-27", "value": 4.0}]},
        auth=company.token(),
    )
    assert first["data"]["recordMeasurements"]["errors"] == []
    second = await gql(
        client,
        RECORD,
        {"e": [{"kpiId": kpi_id, "period": "2026-11-27", "value": 2.5, "source": "pos"}]},
        auth=company.token(),
    )
    assert second["data"]["recordMeasurements"]["measurements"] == [
        {"periodStart": "2026-11-27", "value": 2.5, "source": "pos"}
    ]
    rows = await Measurement.filter(kpi_id=kpi.id)
    assert [(r.period_start.isoformat(), r.value) for r in rows] == [("2026-11-27", 2.5)]
    assert (await Kpi.get(id=kpi.id)).current_value == 2.5


async def test_a_monthly_kpi_stores_any_day_under_its_month(client: httpx.AsyncClient) -> None:
    company = await make_company("acme")
    create = await gql(
        client,
        """mutation($i: CreateKpiInput!) { createKpi(input: $i) { kpi { id } errors { code } } }""",
        {
            "i": {
                "metricCode": "inventory_turnover",
                "title": "库存周转率",
                "target": 1.0,
                "threshold": 0.8,
                "frequency": "MONTHLY",
                "ownerUnitId": gid("OrgUnit", company.store.id),
            }
        },
        auth=company.token(),
    )
    kpi_id = create["data"]["createKpi"]["kpi"]["id"]
    body = await gql(
        client,
        RECORD,
        {
            "e": [
                {"kpiId": kpi_id, "period": "2026-11-03", "value": 0.7},
                {"kpiId": kpi_id, "period": "2026-11-20", "value": 0.9},
            ]
        },
        auth=company.token(),
    )
    values = body["data"]["recordMeasurements"]["measurements"]
    assert values == [{"periodStart": "2026-11-01", "value": 0.9, "source": "manual"}] * 2
    assert await Measurement.all().count() == 1


async def test_a_bad_batch_writes_nothing(client: httpx.AsyncClient) -> None:
    company = await make_company("acme")
    kpi = (await build_chain(company))["kpis"][0]
    body = await gql(
        client,
        RECORD,
        {
            "e": [
                {"kpiId": gid("Kpi", kpi.id), "period": "2026-11-27", "value": 4.0},
                {"kpiId": gid("Kpi", 424242), "period": "2026-11-27", "value": 1.0},
                {"kpiId": gid("Objective", 1), "period": "2026-11-27", "value": 1.0},
            ]
        },
        auth=company.token(),
    )
    errors = body["data"]["recordMeasurements"]["errors"]
    assert {(e["field"], e["code"]) for e in errors} == {("entries.2.kpiId", "INVALID")}
    body = await gql(
        client,
        RECORD,
        {
            "e": [
                {"kpiId": gid("Kpi", kpi.id), "period": "2026-11-27", "value": 4.0},
                {"kpiId": gid("Kpi", 424242), "period": "2026-11-27", "value": 1.0},
            ]
        },
        auth=company.token(),
    )
    errors = body["data"]["recordMeasurements"]["errors"]
    assert [(e["field"], e["code"]) for e in errors] == [("entries.1.kpiId", "NOT_FOUND")]
    assert await Measurement.all().count() == 0
    assert (await Kpi.get(id=kpi.id)).current_value is None


async def test_employee_cannot_record_values_of_the_store_kpi(client: httpx.AsyncClient) -> None:
    company = await make_company("acme")
    kpi = (await build_chain(company))["kpis"][0]
    body = await gql(
        client,
        RECORD,
        {"e": [{"kpiId": gid("Kpi", kpi.id), "period": "2026-11-27", "value": 1}]},
        auth=company.token("employee"),
    )
    assert body["data"]["recordMeasurements"]["errors"][0]["code"] == "FORBIDDEN"
    assert await Measurement.all().count() == 0


async def test_a_replaced_value_is_kept_as_a_revision(client: httpx.AsyncClient) -> None:
    company = await make_company("acme")
    kpi = (await build_chain(company))["kpis"][0]
    entry = {"kpiId": gid("Kpi", kpi.id), "period": "2026-11-27", "value": 4.0}
    for value in (4.0, 4.0, 3.2):  # the same value twice, then a correction
        body = await gql(client, RECORD, {"e": [{**entry, "value": value}]}, auth=company.token())
        assert body["data"]["recordMeasurements"]["errors"] == []
    assert [m.value for m in await Measurement.filter(kpi_id=kpi.id)] == [3.2]
    revisions = await MeasurementRevision.filter(kpi_id=kpi.id)
    assert [(r.value, r.period_start.isoformat()) for r in revisions] == [(4.0, "2026-11-27")]
    assert revisions[0].replaced_at >= revisions[0].recorded_at
