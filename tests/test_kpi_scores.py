"""KPI scores through the API: each KPI's policy, its explanation, and pack policies."""

from __future__ import annotations

from datetime import date

import httpx

from goalgraph.core.services.measurements import MeasurementInput, record_measurements
from goalgraph.schema.ids import decode

from .factories import Company, gid, gql, make_company

CREATE = """mutation($i: CreateKpiInput!) { createKpi(input: $i) {
  kpi { id scoringPolicy } errors { field code message } } }"""
SCORE = """query($id: ID!) { kpi(id: $id) { score progress
  explain { policy value target threshold achievement formula score note } } }"""
ENABLE = """mutation($n: String!, $s: [String!]!) { enablePack(name: $n, stages: $s) {
  errors { code } } }"""


async def _kpi(client: httpx.AsyncClient, company: Company, **fields: object) -> str:
    body = await gql(
        client,
        CREATE,
        {
            "i": {
                "metricCode": "customer_wait_time",
                "title": "顾客等待时间",
                "unit": "min",
                "direction": "LOWER_IS_BETTER",
                "target": 3,
                "threshold": 4,
                "ownerUnitId": gid("OrgUnit", company.store.id),
                **fields,
            }
        },
        auth=company.token(),
    )
    assert body["data"]["createKpi"]["errors"] == [], body
    return str(body["data"]["createKpi"]["kpi"]["id"])


async def test_wait_time_under_target_scores_above_one(client: httpx.AsyncClient) -> None:
    company = await make_company("acme")
    kpi_id = await _kpi(client, company)
    await record_measurements(
        company.scope, [MeasurementInput(decode(kpi_id, "Kpi", "id"), date(2026, 11, 28), 2.5)]
    )
    body = await gql(client, SCORE, {"id": kpi_id}, auth=company.token())
    kpi = body["data"]["kpi"]
    assert kpi["score"] == 1.2
    assert kpi["progress"] == 1.0
    assert kpi["explain"] == {
        "policy": "linear",
        "value": 2.5,
        "target": 3.0,
        "threshold": 4.0,
        "achievement": 1.2,
        "formula": "min(3 / 2.5 = 1.2, cap 1.2) = 1.2",
        "score": 1.2,
        "note": None,
    }


async def test_pass_fail_and_unknown_policies(client: httpx.AsyncClient) -> None:
    company = await make_company("acme")
    kpi_id = await _kpi(client, company, scoringPolicy="pass_fail")
    await record_measurements(
        company.scope, [MeasurementInput(decode(kpi_id, "Kpi", "id"), date(2026, 11, 28), 4.5)]
    )
    body = await gql(client, SCORE, {"id": kpi_id}, auth=company.token())
    assert body["data"]["kpi"]["score"] == 0.0
    assert body["data"]["kpi"]["explain"]["formula"] == "4.5 ≤ threshold 4? fail → 0"
    bad = await gql(
        client,
        CREATE,
        {
            "i": {
                "metricCode": "x",
                "title": "x",
                "target": 1,
                "threshold": 1,
                "scoringPolicy": "retail.new_product_bonus",
                "ownerUnitId": gid("OrgUnit", company.store.id),
            }
        },
        auth=company.token(),
    )
    error = bad["data"]["createKpi"]["errors"][0]
    assert (error["field"], error["code"]) == ("scoringPolicy", "INVALID")


async def test_a_pack_policy_applies_while_its_pack_is_active(client: httpx.AsyncClient) -> None:
    company = await make_company("acme")
    await gql(client, ENABLE, {"n": "retail", "s": ["growth"]}, auth=company.token())
    policies = await gql(client, "{ scoringPolicies { name pack maxScore } }", auth=company.token())
    names = {(p["name"], p["pack"]) for p in policies["data"]["scoringPolicies"]}
    assert {
        ("linear", None),
        ("pass_fail", None),
        ("banded", None),
        ("retail.new_product_bonus", "retail"),
    } <= names
    kpi_id = await _kpi(
        client,
        company,
        direction="HIGHER_IS_BETTER",
        target=80,
        threshold=60,
        scoringPolicy="retail.new_product_bonus",
    )
    await record_measurements(
        company.scope, [MeasurementInput(decode(kpi_id, "Kpi", "id"), date(2026, 11, 28), 100)]
    )
    body = await gql(client, SCORE, {"id": kpi_id}, auth=company.token())
    assert body["data"]["kpi"]["explain"]["policy"] == "retail.new_product_bonus"
    assert body["data"]["kpi"]["score"] == 1.125  # 1 + (1.25 − 1) / 2
    # the pack goes: the KPI is scored with linear, and says why
    await gql(
        client, 'mutation { disablePack(name: "retail") { errors { code } } }', auth=company.token()
    )
    body = await gql(client, SCORE, {"id": kpi_id}, auth=company.token())
    assert body["data"]["kpi"]["explain"]["policy"] == "linear"
    assert body["data"]["kpi"]["score"] == 1.2
    assert "not available" in body["data"]["kpi"]["explain"]["note"]
