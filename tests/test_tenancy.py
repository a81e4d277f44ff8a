"""Tenancy and identity: no token, no data; another tenant's ids are simply not there."""

from __future__ import annotations

from datetime import timedelta

import httpx

from goalgraph.core.enums import Role
from goalgraph.core.identity import Identity, mint_token
from goalgraph.core.models import Objective

from .factories import TEST_SECRET, build_chain, gid, gql, make_company

TREE = "{ goalTree { id title } }"


async def test_request_without_token_gets_401_error_and_no_data(client: httpx.AsyncClient) -> None:
    company = await make_company("acme")
    await build_chain(company)
    body = await gql(client, TREE)
    assert body["_status"] == 401
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_forged_and_expired_tokens_are_refused(client: httpx.AsyncClient) -> None:
    company = await make_company("acme")
    identity = Identity(company.tenant.id, company.tenant.slug, Role.ADMIN, company.admin.id)
    forged = mint_token(identity, "another-secret-entirely-0123456789", timedelta(hours=1))
    expired = mint_token(identity, TEST_SECRET, timedelta(seconds=-10))
    for bad in (forged, expired, "not-a-jwt"):
        body = await gql(client, TREE, auth=bad)
        assert body["data"] is None
        assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_token_cannot_read_another_tenants_objects(client: httpx.AsyncClient) -> None:
    # given two tenants, each with goals
    a = await make_company("tenant-a")
    b = await make_company("tenant-b")
    made_b = await build_chain(b)
    theirs = gid("Objective", made_b["objectives"][0].id)
    missing = gid("Objective", 999_999)
    query = "query($id: ID!) { node(id: $id) { id } objective(id: $id) { title } }"
    # when tenant A asks for B's objective and for an id that exists nowhere
    foreign = await gql(client, query, {"id": theirs}, auth=a.token())
    absent = await gql(client, query, {"id": missing}, auth=a.token())
    # then both answers are identical: nothing there
    assert foreign["data"] == absent["data"] == {"node": None, "objective": None}
    tree = await gql(client, TREE, auth=a.token())
    assert tree["data"]["goalTree"] == []


async def test_token_cannot_change_another_tenants_objects(client: httpx.AsyncClient) -> None:
    a = await make_company("tenant-a")
    b = await make_company("tenant-b")
    made_b = await build_chain(b)
    target = made_b["objectives"][0]
    mutation = """mutation($input: UpdateObjectiveInput!) {
      updateObjective(input: $input) { objective { id } errors { field code message } } }"""
    foreign = await gql(
        client,
        mutation,
        {"input": {"id": gid("Objective", target.id), "title": "hijacked"}},
        auth=a.token(),
    )
    absent = await gql(
        client,
        mutation,
        {"input": {"id": gid("Objective", 999_999), "title": "hijacked"}},
        auth=a.token(),
    )
    assert foreign["data"] == absent["data"]
    assert foreign["data"]["updateObjective"]["errors"][0]["code"] == "NOT_FOUND"
    assert (await Objective.get(id=target.id)).title == target.title

    # and B's KPI cannot receive A's measurements
    record = """mutation($e: [MeasurementEntry!]!) {
      recordMeasurements(entries: $e) { measurements { value } errors { code field } } }"""
    kpi_id = gid("Kpi", made_b["kpis"][0].id)
    body = await gql(
        client,
        record,
        {"e": [{"kpiId": kpi_id, "period": "2026-11-28", "value": 1}]},
        auth=a.token(),
    )
    assert body["data"]["recordMeasurements"]["errors"] == [
        {"code": "NOT_FOUND", "field": "entries.0.kpiId"}
    ]


async def test_viewer_describes_the_caller(client: httpx.AsyncClient) -> None:
    company = await make_company("acme")
    body = await gql(
        client,
        "{ viewer { role tenant { slug } person { name nameEn } } }",
        auth=company.token("manager"),
    )
    assert body["data"]["viewer"] == {
        "role": "MANAGER",
        "tenant": {"slug": "acme"},
        "person": {"name": "区经理", "nameEn": "Region Manager"},
    }
