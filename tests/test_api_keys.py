"""API keys through the real app, on each backend: made by admins and shown once, sent
as ``Authorization: Bearer gg_…`` on /graphql, acting with their role in their tenant
only, recorded when used, refused once revoked or expired, never stored or logged."""

from __future__ import annotations

import hashlib
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from goalgraph.core.access_keys import TOUCH_EVERY
from goalgraph.core.models import AccessKey, AuditEvent, Cycle

from . import test_subscriptions
from .factories import Company, gid, gql, make_company
from .test_subscriptions import Live, sign_in

CREATE = """mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) {
  apiKey { id name prefix role createdAt expiresAt lastUsedAt revokedAt }
  secret errors { field code message } } }"""
REVOKE = """mutation($id: ID!) { revokeApiKey(id: $id) {
  apiKey { id revokedAt } errors { code message } } }"""
LIST = "{ apiKeys { id name prefix role expiresAt lastUsedAt revokedAt } }"
VIEWER = "{ viewer { role person { id } tenant { slug } } }"
CREATE_CYCLE = """mutation($input: CreateCycleInput!) { createCycle(input: $input) {
  cycle { id name } errors { field code message } } }"""
CREATE_OBJECTIVE = """mutation($c: ID!, $u: ID!) { createObjective(input: {title: "目标",
  cycleId: $c, ownerUnitId: $u}) { objective { id } errors { field code } } }"""


async def make_key(
    client: httpx.AsyncClient, company: Company, role: str = "VIEWER", **extra: Any
) -> tuple[dict[str, Any], str]:
    body = await gql(
        client, CREATE, {"i": {"name": "POS push", "role": role, **extra}}, auth=company.token()
    )
    made = body["data"]["createApiKey"]
    assert made["errors"] == [], made
    return made["apiKey"], made["secret"]


#: The real app served on a port of 127.0.0.1, for websockets.
live = test_subscriptions.live


@pytest.fixture
async def company(client: httpx.AsyncClient) -> Company:
    return await make_company("acme")


async def test_a_key_is_shown_once_stored_hashed_and_listed_without_its_secret(
    client: httpx.AsyncClient, company: Company, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    # when an admin creates a key for an integration
    key, secret = await make_key(client, company, "CONSULTANT")
    # then the answer carries the secret, prefixed for secret scanners
    assert secret.startswith("gg_")
    assert not secret.startswith("gg_scim_")
    assert len(secret) >= 3 + 43
    assert key["prefix"] == secret[:12]
    assert key["role"] == "CONSULTANT"
    assert key["lastUsedAt"] is None
    assert key["revokedAt"] is None
    assert key["expiresAt"] is None
    # and the list shows the key, never its secret
    listed = (await gql(client, LIST, auth=company.token()))["data"]["apiKeys"]
    assert [k["name"] for k in listed] == ["POS push"]
    assert secret not in str(listed)
    # and the table holds its hash, the audit trail its name and prefix, neither the secret
    row = await AccessKey.get(tenant_id=company.tenant.id, kind="api")
    assert row.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert row.role == "consultant"
    assert secret not in str(await AccessKey.all().values())
    event = await AuditEvent.get(entity_type="access_key", entity_id=row.id)
    assert event.action == "api_key.created"
    assert secret not in str(await AuditEvent.all().values())
    # and using it, failing with it, revoking it logs nothing of it
    await gql(client, VIEWER, auth=secret)
    await gql(client, VIEWER, auth=secret + "x")
    await gql(client, REVOKE, {"id": key["id"]}, auth=company.token())
    await gql(client, VIEWER, auth=secret)
    assert secret not in caplog.text
    assert secret[12:] not in caplog.text


async def test_a_key_acts_with_its_role_and_no_person_and_records_its_use(
    client: httpx.AsyncClient, company: Company
) -> None:
    _, secret = await make_key(client, company, "CONSULTANT")
    # when an integration calls with the key
    body = await gql(client, VIEWER, auth=secret)
    # then it is the tenant, as a consultant with no person behind it
    assert body["data"]["viewer"] == {
        "role": "CONSULTANT",
        "person": None,
        "tenant": {"slug": "acme"},
    }
    row = await AccessKey.get(tenant_id=company.tenant.id, kind="api")
    assert row.last_used_at is not None
    first_use = row.last_used_at
    # and a second call within the minute does not write again
    await gql(client, VIEWER, auth=secret)
    await row.refresh_from_db()
    assert row.last_used_at == first_use
    # but one after the minute does
    await AccessKey.filter(id=row.id).update(last_used_at=first_use - TOUCH_EVERY * 2)
    await gql(client, VIEWER, auth=secret)
    await row.refresh_from_db()
    assert row.last_used_at > first_use - TOUCH_EVERY
    listed = (await gql(client, LIST, auth=company.token()))["data"]["apiKeys"]
    assert listed[0]["lastUsedAt"] is not None
    # and what it changes is audited as the key
    made = await gql(
        client, CREATE_CYCLE, {"input": {"kind": "QUARTER", "year": 2027, "index": 1}}, auth=secret
    )
    assert made["data"]["createCycle"]["errors"] == []
    cycle = await Cycle.get(
        tenant_id=company.tenant.id, name=made["data"]["createCycle"]["cycle"]["name"]
    )
    event = await AuditEvent.get(entity_type="cycle", entity_id=cycle.id, action="cycle.created")
    assert event.actor_role == f"api_key:{row.id}"
    assert event.actor_id is None


async def test_the_keys_role_decides_what_it_may_do(
    client: httpx.AsyncClient, company: Company
) -> None:
    _, viewer = await make_key(client, company, "VIEWER")
    variables = {"c": gid("Cycle", company.cycle.id), "u": gid("OrgUnit", company.root.id)}
    # a viewer key reads the OKRs but may not write one
    body = await gql(client, CREATE_OBJECTIVE, variables, auth=viewer)
    assert body["data"]["createObjective"]["errors"][0]["code"] == "FORBIDDEN"
    assert body["data"]["createObjective"]["objective"] is None
    assert "errors" not in await gql(
        client, "{ objectives { edges { node { id } } } }", auth=viewer
    )
    # a key may not manage keys nor roles, whatever its role
    _, consultant = await make_key(client, company, "CONSULTANT")
    made = await gql(client, CREATE, {"i": {"name": "more", "role": "VIEWER"}}, auth=consultant)
    assert made["data"]["createApiKey"]["errors"][0]["code"] == "FORBIDDEN"
    listed = await gql(client, LIST, auth=consultant)
    assert listed["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    # a consultant key writes what consultants write
    body = await gql(client, CREATE_OBJECTIVE, variables, auth=consultant)
    assert body["data"]["createObjective"]["errors"] == []


async def test_only_admins_make_keys_and_no_key_is_an_admin(
    client: httpx.AsyncClient, company: Company
) -> None:
    body = await gql(
        client, CREATE, {"i": {"name": "x", "role": "VIEWER"}}, auth=company.token("manager")
    )
    assert body["data"]["createApiKey"]["errors"][0]["code"] == "FORBIDDEN"
    body = await gql(client, CREATE, {"i": {"name": "root", "role": "ADMIN"}}, auth=company.token())
    assert body["data"]["createApiKey"]["errors"] == [
        {
            "field": "role",
            "code": "INVALID",
            "message": body["data"]["createApiKey"]["errors"][0]["message"],
        }
    ]
    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    body = await gql(
        client,
        CREATE,
        {"i": {"name": "old", "role": "VIEWER", "expiresAt": past}},
        auth=company.token(),
    )
    assert [e["field"] for e in body["data"]["createApiKey"]["errors"]] == ["expiresAt"]
    body = await gql(client, CREATE, {"i": {"name": " ", "role": "VIEWER"}}, auth=company.token())
    assert [e["code"] for e in body["data"]["createApiKey"]["errors"]] == ["REQUIRED"]
    assert await AccessKey.filter(kind="api").count() == 0


async def test_revoked_and_expired_keys_are_refused(
    client: httpx.AsyncClient, company: Company
) -> None:
    soon = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    key, secret = await make_key(client, company, "VIEWER", expiresAt=soon)
    assert key["expiresAt"] is not None
    assert (await gql(client, VIEWER, auth=secret))["_status"] == 200
    # when it expires
    await AccessKey.filter(kind="api").update(expires_at=datetime.now(UTC) - timedelta(seconds=1))
    body = await gql(client, VIEWER, auth=secret)
    assert body["_status"] == 401
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert "expired" in body["errors"][0]["message"]
    # and a revoked one
    other, working = await make_key(client, company, "VIEWER")
    assert (await gql(client, VIEWER, auth=working))["_status"] == 200
    revoked = await gql(client, REVOKE, {"id": other["id"]}, auth=company.token())
    assert revoked["data"]["revokeApiKey"]["apiKey"]["revokedAt"] is not None
    body = await gql(client, VIEWER, auth=working)
    assert body["_status"] == 401
    assert "revoked" in body["errors"][0]["message"]
    again = await gql(client, REVOKE, {"id": other["id"]}, auth=company.token())
    assert again["data"]["revokeApiKey"]["errors"][0]["code"] == "INVALID"
    # and keys nobody made, and SCIM credentials, are no API keys
    assert (await gql(client, VIEWER, auth="gg_" + "A" * 43))["_status"] == 401
    scim = await gql(
        client, 'mutation { createScimCredential(name: "idp") { secret } }', auth=company.token()
    )
    scim_secret = scim["data"]["createScimCredential"]["secret"]
    assert (await gql(client, VIEWER, auth=scim_secret))["_status"] == 401


async def test_a_key_sees_only_its_own_tenant(client: httpx.AsyncClient, company: Company) -> None:
    other = await make_company("globex")
    _, secret = await make_key(client, other, "VIEWER")
    mine = await gql(client, VIEWER, auth=secret)
    assert mine["data"]["viewer"]["tenant"]["slug"] == "globex"
    # another tenant's cycle by id is nothing at all
    node = await gql(
        client,
        "query($id: ID!) { node(id: $id) { id } }",
        {"id": gid("Cycle", company.cycle.id)},
        auth=secret,
    )
    assert node["data"]["node"] is None
    cycles = await gql(client, "{ cycles { edges { node { id } } } }", auth=secret)
    ids = [e["node"]["id"] for e in cycles["data"]["cycles"]["edges"]]
    assert ids == [gid("Cycle", other.cycle.id)]
    # and acme's admin does not see globex's key
    assert (await gql(client, LIST, auth=company.token()))["data"]["apiKeys"] == []
    # nor can revoke it
    key = await AccessKey.get(tenant_id=other.tenant.id, kind="api")
    body = await gql(client, REVOKE, {"id": gid("ApiKey", key.id)}, auth=company.token())
    assert body["data"]["revokeApiKey"]["errors"][0]["code"] == "NOT_FOUND"


async def test_a_key_signs_a_websocket_in_and_a_revoked_one_does_not(live: Live) -> None:
    company = await make_company("acme")
    made = await gql(
        live.http, CREATE, {"i": {"name": "wall board", "role": "VIEWER"}}, auth=company.token()
    )
    key, secret = made["data"]["createApiKey"]["apiKey"], made["data"]["createApiKey"]["secret"]
    ws = await live.connect()
    assert await sign_in(ws, {"Authorization": f"Bearer {secret}"}) == {"type": "connection_ack"}
    await ws.close()
    await gql(live.http, REVOKE, {"id": key["id"]}, auth=company.token())
    ws = await live.connect()
    assert await sign_in(ws, {"Authorization": f"Bearer {secret}"}) == {"closed": 4403}
