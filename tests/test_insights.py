"""The feedback loop: alerts on KPIs that keep missing, courses for the people behind
them, target adjustments for stores that mostly miss (the demo and hand-made cases)."""

from __future__ import annotations

from datetime import date, timedelta

import httpx
import pytest

from goalgraph.core.enums import Direction, Frequency, Role
from goalgraph.core.insights.adjustments import suggest
from goalgraph.core.insights.misses import missed_streak
from goalgraph.core.models import (
    AuditEvent,
    KeyResult,
    Kpi,
    OrgUnit,
    Person,
    Tenant,
    TrainingRecord,
)
from goalgraph.plugins.retail.demo import seed_demo

from .factories import build_chain, gid, gql, make_company, scope_for, token
from .test_stored_scores import _assert_stored_equals_scratch

TODAY = date(2026, 11, 28)
LOOP = """{
  alerts { kind misses status evidence kpi { metricCode } }
  recommendations { id courseCode title status evidence person { name } kpi { metricCode } }
  adjustments { id currentTarget suggestedTarget attainment reason reasonEn status
                orgUnit { code } keyResult { id targetValue } }
}"""


def _kpi(direction: Direction = Direction.HIGHER_IS_BETTER, threshold: float = 80) -> Kpi:
    return Kpi(
        id=1,
        tenant_id=1,
        metric_code="m",
        title="m",
        target=100,
        threshold=threshold,
        direction=direction,
        frequency=Frequency.DAILY,
    )


def test_a_streak_is_the_latest_consecutive_periods_all_missed() -> None:
    day = date(2026, 11, 1)
    days = [day + timedelta(days=i) for i in range(5)]
    kpi = _kpi()
    assert missed_streak(kpi, list(zip(days, [90, 70, 60, 79, 50], strict=True)), 3)
    assert missed_streak(kpi, list(zip(days, [70, 60, 50, 40, 85], strict=True)), 3) is None
    gap = [days[0], days[1], days[3]]  # no value on the 3rd: not consecutive
    assert missed_streak(kpi, list(zip(gap, [50, 50, 50], strict=True)), 3) is None
    assert missed_streak(kpi, list(zip(days[:2], [50, 50], strict=True)), 3) is None
    lower = _kpi(Direction.LOWER_IS_BETTER, threshold=4)
    streak = missed_streak(lower, list(zip(days[:3], [4.5, 5, 4.1], strict=True)), 3)
    assert streak is not None
    assert streak.evidence()[0] == {"period": "2026-11-01", "value": 4.5, "threshold": 4}


def test_a_suggested_target_follows_the_pace_plus_a_stretch() -> None:
    assert suggest(0, 5_000_000, 0.7629) == 4_010_000  # 0.7629 × 1.05 = 0.801 → 3 digits
    assert suggest(30, 50, 0.5) == 40.5
    assert suggest(0, 100, 0.99) == 100  # never above the target


async def test_the_demo_loop_proposes_and_people_decide(client: httpx.AsyncClient) -> None:
    summary = await seed_demo(TODAY)
    tenant = await Tenant.get(id=summary.tenant_id)
    admin = await Person.get(id=summary.admin_person_id)
    auth = token(tenant, Role.ADMIN, admin)
    loop = (await gql(client, LOOP, auth=auth))["data"]

    # a lagging store gets a proposal with its numbers
    stores = {a["orgUnit"]["code"]: a for a in loop["adjustments"]}
    assert {"nj-xinjiekou", "sjz-changan"} <= stores.keys()
    nanjing = stores["nj-xinjiekou"]
    assert nanjing["currentTarget"] == 5_000_000
    assert nanjing["suggestedTarget"] == suggest(0, 5_000_000, nanjing["attainment"])
    assert nanjing["attainment"] < 0.85
    assert f"{nanjing['suggestedTarget']:,.0f}" in nanjing["reason"]
    # an employee who keeps missing gets courses, with the missed days as evidence
    recommendation = loop["recommendations"][0]
    assert recommendation["kpi"]["metricCode"] == "associate_daily_sales"
    assert len(recommendation["evidence"]) == 3
    assert all(e["value"] < e["threshold"] for e in recommendation["evidence"])
    assert {a["kpi"]["metricCode"] for a in loop["alerts"]} >= {
        "associate_daily_sales",
        "customer_wait_time",
    }

    # the associate's store manager accepts a course: a training record on the person
    associate = await Person.get(tenant_id=tenant.id, name=recommendation["person"]["name"])
    unit = await OrgUnit.get(id=associate.org_unit_id)
    manager = await Person.get(tenant_id=tenant.id, org_unit_id=unit.id, role=Role.MANAGER)
    accept = """mutation($id: ID!) { acceptRecommendation(id: $id) {
      recommendation { status } trainingRecord { courseCode } errors { code } } }"""
    done = await gql(
        client, accept, {"id": recommendation["id"]}, auth=token(tenant, Role.MANAGER, manager)
    )
    assert done["data"]["acceptRecommendation"]["recommendation"]["status"] == "ACCEPTED"
    assert await TrainingRecord.filter(person_id=associate.id).count() == 1
    again = await gql(client, accept, {"id": recommendation["id"]}, auth=auth)
    assert again["data"]["acceptRecommendation"]["errors"] == [{"code": "CONFLICT"}]

    # an employee may not take a store's target down; its manager may
    decide = """mutation($id: ID!) { acceptAdjustment(id: $id) {
      adjustment { status keyResult { targetValue } } errors { code } } }"""
    refused = await gql(
        client, decide, {"id": nanjing["id"]}, auth=token(tenant, Role.EMPLOYEE, associate)
    )
    assert refused["data"]["acceptAdjustment"]["errors"] == [{"code": "FORBIDDEN"}]
    nanjing_unit = await OrgUnit.get(tenant_id=tenant.id, code="nj-xinjiekou")
    store_manager = await Person.get(
        tenant_id=tenant.id, org_unit_id=nanjing_unit.id, role=Role.MANAGER
    )
    accepted = await gql(
        client, decide, {"id": nanjing["id"]}, auth=token(tenant, Role.MANAGER, store_manager)
    )
    result = accepted["data"]["acceptAdjustment"]
    assert result["adjustment"]["status"] == "ACCEPTED"
    assert result["adjustment"]["keyResult"]["targetValue"] == nanjing["suggestedTarget"]
    assert await AuditEvent.filter(action="adjustment.accepted").count() == 1
    assert await AuditEvent.filter(action="key_result.updated").count() >= 1
    root = await OrgUnit.get(id=admin.org_unit_id)
    await _assert_stored_equals_scratch(scope_for(tenant, admin, root))


async def test_each_sees_only_their_own_part_of_the_loop(client: httpx.AsyncClient) -> None:
    summary = await seed_demo(TODAY)
    tenant = await Tenant.get(id=summary.tenant_id)
    nanjing = await OrgUnit.get(tenant_id=tenant.id, code="nj-xinjiekou")
    hangzhou = await OrgUnit.get(tenant_id=tenant.id, code="hz-xihu")
    nj_manager = await Person.get(tenant_id=tenant.id, org_unit_id=nanjing.id, role=Role.MANAGER)
    hz_manager = await Person.get(tenant_id=tenant.id, org_unit_id=hangzhou.id, role=Role.MANAGER)
    mine = (await gql(client, LOOP, auth=token(tenant, Role.MANAGER, nj_manager)))["data"]
    theirs = (await gql(client, LOOP, auth=token(tenant, Role.MANAGER, hz_manager)))["data"]
    assert [a["orgUnit"]["code"] for a in mine["adjustments"]] == ["nj-xinjiekou"]
    assert theirs["adjustments"] == []
    assert theirs["recommendations"] == []
    assert mine["recommendations"] != []
    assert all(a["kpi"]["metricCode"] for a in mine["alerts"])
    assert len(theirs["alerts"]) < len(mine["alerts"])


@pytest.mark.parametrize("days_missed", [2, 3])
async def test_recording_values_raises_and_resolves_alerts(
    client: httpx.AsyncClient, days_missed: int
) -> None:
    company = await make_company("acme")
    kpi = (await build_chain(company))["kpis"][0]  # wait time, lower is better, threshold 4
    record = """mutation($e: [MeasurementEntry!]!) { recordMeasurements(entries: $e) {
      errors { code } } }"""
    entries = [
        {
            "kpiId": gid("Kpi", kpi.id),
            "period": (TODAY - timedelta(days=i)).isoformat(),
            "value": 5.5,
        }
        for i in range(days_missed)
    ]
    await gql(client, record, {"e": entries}, auth=company.token())
    alerts = (await gql(client, "{ alerts { misses } }", auth=company.token()))["data"]["alerts"]
    assert alerts == ([{"misses": 3}] if days_missed == 3 else [])
    passing = [
        {
            "kpiId": gid("Kpi", kpi.id),
            "period": (TODAY + timedelta(days=1)).isoformat(),
            "value": 2.5,
        }
    ]
    await gql(client, record, {"e": passing}, auth=company.token())
    after = await gql(client, "{ alerts(status: RESOLVED) { misses } }", auth=company.token())
    assert after["data"]["alerts"] == ([{"misses": 3}] if days_missed == 3 else [])
    assert await KeyResult.all().count() == 1


async def test_a_new_alert_is_announced_once_its_scan_commits(client: httpx.AsyncClient) -> None:
    import asyncio

    from goalgraph.core import events
    from goalgraph.core.models import Alert

    company = await make_company("acme")
    kpi = (await build_chain(company))["kpis"][0]
    record = """mutation($e: [MeasurementEntry!]!) { recordMeasurements(entries: $e) {
      errors { code } } }"""
    entries = [
        {"kpiId": gid("Kpi", kpi.id), "period": (TODAY - timedelta(days=i)).isoformat(), "value": 6}
        for i in range(3)
    ]
    async with events.bus().subscribe(company.tenant.id, [events.ALERT]) as stream:
        await gql(client, record, {"e": entries}, auth=company.token())
        event = await asyncio.wait_for(anext(stream), timeout=5)
    alert = await Alert.get(kpi_id=kpi.id)
    assert event.payload == {
        "alert_id": alert.id,
        "kind": "consecutive_misses",
        "owner_unit_path": company.store.path,
        "owner_person_id": None,
    }


async def test_admins_choose_how_many_misses_raise_an_alert(client: httpx.AsyncClient) -> None:
    company = await make_company("acme")
    kpi = (await build_chain(company))["kpis"][0]
    setting = """mutation($n: Int!) { setAlertAfterMisses(periods: $n) {
      tenant { alertAfterMisses } errors { field code } } }"""
    refused = await gql(client, setting, {"n": 2}, auth=company.token("manager"))
    assert refused["data"]["setAlertAfterMisses"]["errors"] == [
        {"field": None, "code": "FORBIDDEN"}
    ]
    wrong = await gql(client, setting, {"n": 1}, auth=company.token())
    assert wrong["data"]["setAlertAfterMisses"]["errors"] == [
        {"field": "periods", "code": "OUT_OF_RANGE"}
    ]
    done = await gql(client, setting, {"n": 2}, auth=company.token())
    assert done["data"]["setAlertAfterMisses"]["tenant"] == {"alertAfterMisses": 2}
    assert await AuditEvent.filter(action="tenant.alert_after_misses_changed").count() == 1
    record = """mutation($e: [MeasurementEntry!]!) { recordMeasurements(entries: $e) {
      errors { code } } }"""
    entries = [
        {"kpiId": gid("Kpi", kpi.id), "period": (TODAY - timedelta(days=i)).isoformat(), "value": 6}
        for i in range(2)
    ]
    await gql(client, record, {"e": entries}, auth=company.token())
    alerts = (await gql(client, "{ alerts { misses } }", auth=company.token()))["data"]["alerts"]
    assert alerts == [{"misses": 2}]
