"""Lifecycle stages and OKR/KPI weightings: presets, tenant choices, switching (admins)."""

from __future__ import annotations

import httpx

from goalgraph.core.enums import Role
from goalgraph.core.models import AuditEvent, Tenant

from .factories import gql, make_company, token

TENANT = "{ tenant { stage weightings { stage okrShare kpiShare custom } } }"
SET_STAGE = """mutation($s: String!) { setLifecycleStage(stage: $s) {
  tenant { stage } errors { field code message } } }"""
SET_WEIGHTING = """mutation($s: String!, $o: Float!, $k: Float!) {
  setStageWeighting(stage: $s, okrShare: $o, kpiShare: $k) {
    tenant { weightings { stage okrShare kpiShare custom } } errors { field code } } }"""
ENABLE = """mutation($n: String!, $s: [String!]!) { enablePack(name: $n, stages: $s) {
  errors { code } } }"""


def _shares(body: dict) -> dict[str, tuple[float, float, bool]]:
    rows = body["weightings"]
    return {w["stage"]: (w["okrShare"], w["kpiShare"], w["custom"]) for w in rows}


async def test_presets_then_pack_stages_then_the_tenants_own(client: httpx.AsyncClient) -> None:
    company = await make_company("acme")
    tenant = (await gql(client, TENANT, auth=company.token()))["data"]["tenant"]
    assert tenant["stage"] == "growth"
    assert _shares(tenant) == {
        "startup": (0.7, 0.3, False),
        "growth": (0.5, 0.5, False),
        "mature": (0.3, 0.7, False),
    }
    await gql(client, ENABLE, {"n": "retail", "s": ["growth"]}, auth=company.token())
    tenant = (await gql(client, TENANT, auth=company.token()))["data"]["tenant"]
    assert _shares(tenant)["new_product_launch"] == (0.6, 0.4, False)

    body = await gql(
        client, SET_WEIGHTING, {"s": "growth", "o": 0.6, "k": 0.4}, auth=company.token()
    )
    assert body["data"]["setStageWeighting"]["errors"] == []
    assert _shares(body["data"]["setStageWeighting"]["tenant"])["growth"] == (0.6, 0.4, True)
    event = await AuditEvent.get(action="stage.weighting_changed")
    assert event.before == {"stage": "growth", "okr_share": 0.5, "kpi_share": 0.5}
    assert event.after == {"stage": "growth", "okr_share": 0.6, "kpi_share": 0.4}


async def test_bad_weightings_are_typed_errors(client: httpx.AsyncClient) -> None:
    company = await make_company("acme")
    cases = [
        (
            {"s": "growth", "o": 1.2, "k": -0.2},
            [
                {"field": "okrShare", "code": "OUT_OF_RANGE"},
                {"field": "kpiShare", "code": "OUT_OF_RANGE"},
            ],
        ),
        ({"s": "growth", "o": 0.5, "k": 0.6}, [{"field": "kpiShare", "code": "INVALID"}]),
        ({"s": "golden_age", "o": 0.5, "k": 0.5}, [{"field": "stage", "code": "INVALID"}]),
    ]
    for variables, errors in cases:
        body = await gql(client, SET_WEIGHTING, variables, auth=company.token())
        assert body["data"]["setStageWeighting"]["errors"] == errors
    consultant = token(company.tenant, Role.CONSULTANT)
    body = await gql(client, SET_WEIGHTING, {"s": "growth", "o": 0.4, "k": 0.6}, auth=consultant)
    assert body["data"]["setStageWeighting"]["errors"] == [{"field": None, "code": "FORBIDDEN"}]
    assert await AuditEvent.filter(action="stage.weighting_changed").count() == 0


async def test_switching_the_stage_moves_what_the_tenant_sees(client: httpx.AsyncClient) -> None:
    company = await make_company("acme")
    await gql(client, ENABLE, {"n": "retail", "s": ["growth"]}, auth=company.token())
    templates = "{ kpiTemplates { code } }"
    assert (await gql(client, templates, auth=company.token()))["data"]["kpiTemplates"]
    body = await gql(client, SET_STAGE, {"s": "mature"}, auth=company.token())
    assert body["data"]["setLifecycleStage"] == {"tenant": {"stage": "mature"}, "errors": []}
    assert (await Tenant.get(id=company.tenant.id)).lifecycle_stage == "mature"
    assert (await gql(client, templates, auth=company.token()))["data"]["kpiTemplates"] == []
    event = await AuditEvent.get(action="tenant.stage_changed")
    assert (event.before, event.after) == ({"stage": "growth"}, {"stage": "mature"})
    # a pack's own stage is valid once the pack is enabled
    body = await gql(client, SET_STAGE, {"s": "capacity_ramp_up"}, auth=company.token())
    assert body["data"]["setLifecycleStage"]["errors"][0]["code"] == "INVALID"
    await gql(client, ENABLE, {"n": "manufacturing", "s": ["mature"]}, auth=company.token())
    body = await gql(client, SET_STAGE, {"s": "capacity_ramp_up"}, auth=company.token())
    assert body["data"]["setLifecycleStage"]["errors"] == []
    manager = await gql(client, SET_STAGE, {"s": "growth"}, auth=company.token("manager"))
    assert manager["data"]["setLifecycleStage"]["errors"][0]["code"] == "FORBIDDEN"
