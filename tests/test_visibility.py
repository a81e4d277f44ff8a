"""OKR transparency, KPI privacy: an individual's KPI values stay with them, their
managers above them, and admins."""

from __future__ import annotations

from datetime import date

import httpx

from goalgraph.core.services import kpis
from goalgraph.core.services.measurements import MeasurementInput, record_measurements

from .factories import gid, gql, make_company

QUERY = """query($id: ID!) { kpi(id: $id) { title valuesVisible currentValue progress
  recentMeasurements { value } } }"""


async def test_personal_kpi_values_follow_the_org_tree(client: httpx.AsyncClient) -> None:
    company = await make_company("acme")
    personal = await kpis.create_kpi(
        company.scope,
        metric_code="personal_sales",
        title="个人日销售额",
        target=5000,
        threshold=4000,
        owner_person_id=company.employee.id,
    )
    await record_measurements(
        company.scope, [MeasurementInput(personal.id, date(2026, 11, 28), 4500)]
    )
    variables = {"id": gid("Kpi", personal.id)}
    seen = {}
    for who in ("admin", "manager", "employee", "other_employee"):
        body = await gql(client, QUERY, variables, auth=company.token(who))
        seen[who] = body["data"]["kpi"]
    for who in ("admin", "manager", "employee"):
        assert seen[who]["valuesVisible"] is True
        assert seen[who]["currentValue"] == 4500
        assert seen[who]["recentMeasurements"] == [{"value": 4500.0}]
    # a colleague sees the KPI exists (title) but none of its values
    assert seen["other_employee"] == {
        "title": "个人日销售额",
        "valuesVisible": False,
        "currentValue": None,
        "progress": None,
        "recentMeasurements": [],
    }


async def test_store_kpis_and_objectives_are_visible_company_wide(
    client: httpx.AsyncClient,
) -> None:
    company = await make_company("acme")
    store_kpi = await kpis.create_kpi(
        company.scope,
        metric_code="foot_traffic",
        title="客流量",
        target=1200,
        threshold=1000,
        owner_unit_id=company.store.id,
    )
    await record_measurements(
        company.scope, [MeasurementInput(store_kpi.id, date(2026, 11, 28), 900)]
    )
    body = await gql(
        client, QUERY, {"id": gid("Kpi", store_kpi.id)}, auth=company.token("other_employee")
    )
    assert body["data"]["kpi"]["currentValue"] == 900
    assert body["data"]["kpi"]["progress"] == 0.75
