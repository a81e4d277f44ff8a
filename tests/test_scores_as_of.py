"""``asOf``: a review reproduces last period's figures after data and settings moved on."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest

from goalgraph.core.enums import GoalStatus, Role
from goalgraph.core.models import KeyResult, Kpi, KpiLink, Person, Tenant
from goalgraph.core.services import key_results, kpis
from goalgraph.core.services.measurements import MeasurementInput, record_measurements
from goalgraph.plugins.manager import PackManager
from goalgraph.plugins.retail.demo import seed_demo
from goalgraph.plugins.view import bind_policies

from .factories import gid, gql, scope_for, token

TODAY = date(2026, 11, 28)
CARD = """query($person: ID, $at: DateTime) { scorecard(personId: $person, asOf: $at) {
  stage okrShare kpiShare okrGrade kpiScore combinedScore
  keyResults { grade keyResult { title } } kpis { score kpi { title } } } }"""
COMPANY = """query($at: DateTime) { scorecard(asOf: $at) {
  stage okrShare okrGrade kpiScore combinedScore } }"""
STAGE = """mutation($s: String!) { setLifecycleStage(stage: $s) { errors { code } } }"""
WEIGHTING = """mutation { setStageWeighting(stage: "mature", okrShare: 0.2, kpiShare: 0.8) {
  errors { code } } }"""


def _close(a: Any, b: Any) -> None:
    """Equal up to float summation order (the database sums now, Python then)."""
    if isinstance(a, dict):
        assert a.keys() == b.keys()
        for key in a:
            _close(a[key], b[key])
    elif isinstance(a, list):
        assert len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            _close(x, y)
    elif isinstance(a, float) or isinstance(b, float):
        assert a == pytest.approx(b, rel=1e-9, abs=1e-12)
    else:
        assert a == b


async def test_a_scorecard_as_of_a_past_moment_reproduces_it(client: httpx.AsyncClient) -> None:
    manager = PackManager.discover()
    summary = await seed_demo(TODAY, manager)
    tenant = await Tenant.get(id=summary.tenant_id)
    admin = await Person.get(id=summary.admin_person_id).prefetch_related("org_unit")
    auth = token(tenant, Role.ADMIN, admin)
    scope = bind_policies(scope_for(tenant, admin, admin.org_unit), manager)
    store_manager = await Person.get(
        tenant_id=tenant.id, email="sh-xuhui.manager@freshmart.example"
    )
    who = {"person": gid("Person", store_manager.id)}

    then_card = (await gql(client, CARD, who, auth=auth))["data"]["scorecard"]
    then_company = (await gql(client, COMPANY, auth=auth))["data"]["scorecard"]
    await asyncio.sleep(0.01)
    at = datetime.now(UTC)
    await asyncio.sleep(0.01)

    # the world moves on: values rewritten, a target, a link, a check-in, an archive,
    # the stage and its weighting
    store_kpis = await scope.query(Kpi).filter(owner_unit_id=store_manager.org_unit_id)
    await record_measurements(
        scope,
        [
            MeasurementInput(k.id, date(2026, 11, d), (k.current_value or 1) * 2)
            for k in store_kpis
            for d in (20, 27)
        ],
    )
    await kpis.update_kpi(scope, store_kpis[0].id, {"target": store_kpis[0].target * 3})
    link = await scope.query(KpiLink).filter(kpi_id__in=[k.id for k in store_kpis]).first()
    assert link is not None
    await kpis.link_kpi(scope, key_result_id=link.key_result_id, kpi_id=link.kpi_id, weight=9)
    checked = await scope.query(KeyResult).filter(status=GoalStatus.ACTIVE).order_by("id").first()
    assert checked is not None
    await key_results.check_in(scope, key_result_id=checked.id, value=checked.target_value)
    await kpis.archive_kpi(scope, store_kpis[-1].id)
    assert (await gql(client, STAGE, {"s": "mature"}, auth=auth))["data"]
    assert (await gql(client, WEIGHTING, auth=auth))["data"]

    now_card = (await gql(client, CARD, who, auth=auth))["data"]["scorecard"]
    assert now_card["stage"] == "mature"
    assert now_card["combinedScore"] != pytest.approx(then_card["combinedScore"])

    # asked as of that moment, every figure is what it was
    variables = {**who, "at": at.isoformat()}
    past_card = (await gql(client, CARD, variables, auth=auth))["data"]["scorecard"]
    _close(past_card, then_card)
    past_company = (await gql(client, COMPANY, {"at": at.isoformat()}, auth=auth))["data"]
    _close(past_company["scorecard"], then_company)

    # and as of now it is today's scorecard, rebuilt from the trail instead of the store
    latest = {**who, "at": datetime.now(UTC).isoformat()}
    _close((await gql(client, CARD, latest, auth=auth))["data"]["scorecard"], now_card)
