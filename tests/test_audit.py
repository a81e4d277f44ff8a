"""The audit trail: every change of targets, weights and thresholds, with before and after."""

from __future__ import annotations

import httpx

from goalgraph.core.models import AuditEvent

from .factories import build_chain, gid, gql, make_company

UPDATE_KPI = """mutation($i: UpdateKpiInput!) {
  updateKpi(input: $i) { kpi { target threshold weight } errors { field code } } }"""


async def test_target_and_threshold_changes_are_audited(client: httpx.AsyncClient) -> None:
    company = await make_company("acme")
    kpi = (await build_chain(company))["kpis"][0]
    body = await gql(
        client,
        UPDATE_KPI,
        {"i": {"id": gid("Kpi", kpi.id), "target": 2.5, "threshold": 3.5, "title": "等待时长"}},
        auth=company.token("manager"),
    )
    assert body["data"]["updateKpi"] == {
        "kpi": {"target": 2.5, "threshold": 3.5, "weight": 1.0},
        "errors": [],
    }
    event = await AuditEvent.filter(action="kpi.updated").get()
    assert event.before == {"target": 3.0, "threshold": 4.0}
    assert event.after == {"target": 2.5, "threshold": 3.5}
    assert event.actor_id == company.manager.id
    assert event.actor_role == "manager"
    assert event.tenant_id == company.tenant.id


async def test_a_refused_change_leaves_no_trace(client: httpx.AsyncClient) -> None:
    company = await make_company("acme")
    kpi = (await build_chain(company))["kpis"][0]
    before = await AuditEvent.all().count()
    # lower is better: a threshold below the target is refused
    body = await gql(
        client, UPDATE_KPI, {"i": {"id": gid("Kpi", kpi.id), "threshold": 2}}, auth=company.token()
    )
    assert body["data"]["updateKpi"]["errors"] == [{"field": "threshold", "code": "INVALID"}]
    # an employee may not change the store's KPI at all
    body = await gql(
        client,
        UPDATE_KPI,
        {"i": {"id": gid("Kpi", kpi.id), "weight": 5}},
        auth=company.token("employee"),
    )
    assert body["data"]["updateKpi"]["errors"][0]["code"] == "FORBIDDEN"
    assert await AuditEvent.all().count() == before


async def test_archiving_a_subtree_audits_every_goal_it_archives(
    client: httpx.AsyncClient,
) -> None:
    company = await make_company("acme")
    made = await build_chain(company, depth=3)
    top, middle, leaf = made["objectives"]
    kr = made["key_results"][0]
    archive = """mutation($id: ID!) { archiveObjective(id: $id) { errors { code } } }"""
    # the leaf first, then the whole chain from the top
    await gql(client, archive, {"id": gid("Objective", leaf.id)}, auth=company.token())
    await gql(client, archive, {"id": gid("Objective", top.id)}, auth=company.token())
    events = await AuditEvent.filter(action__endswith=".archived").order_by("id")
    assert [(e.entity_type, e.entity_id, e.after["with"]) for e in events] == [
        ("objective", leaf.id, leaf.id),
        ("key_result", kr.id, leaf.id),
        ("objective", top.id, top.id),
        ("objective", middle.id, top.id),
    ]
