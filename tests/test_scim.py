"""SCIM at /scim/v2 through the real app, on each backend: credentials, Users as people,
Groups as org units, and what lands in the database."""

from __future__ import annotations

import hashlib
import logging
from typing import Any

import httpx
import pytest

from goalgraph.core.models import AccessKey, AuditEvent, OrgUnit, Person

from .factories import Company, gql, make_company

SCIM = "/scim/v2"
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"

CREATE = """mutation($name: String!) { createScimCredential(name: $name) {
  credential { id name prefix createdAt lastUsedAt revokedAt } secret errors { code message } } }"""
REVOKE = """mutation($id: ID!) { revokeScimCredential(id: $id) {
  credential { id revokedAt } errors { code message } } }"""
LIST = "{ scimCredentials { id name prefix lastUsedAt revokedAt } }"


async def credential(client: httpx.AsyncClient, company: Company, name: str = "okta") -> str:
    body = await gql(client, CREATE, {"name": name}, auth=company.token())
    made = body["data"]["createScimCredential"]
    assert made["errors"] == []
    secret: str = made["secret"]
    return secret


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


async def scim(
    client: httpx.AsyncClient, method: str, path: str, secret: str, body: Any = None
) -> httpx.Response:
    return await client.request(method, f"{SCIM}{path}", json=body, headers=bearer(secret))


def new_user(user_name: str, **extra: Any) -> dict[str, Any]:
    return {"schemas": [USER, ENTERPRISE], "userName": user_name, **extra}


@pytest.fixture
async def company(client: httpx.AsyncClient) -> Company:
    return await make_company("acme")


async def test_credential_secret_is_shown_once_and_stored_only_hashed(
    client: httpx.AsyncClient, company: Company
) -> None:
    # when an admin creates a credential
    body = await gql(client, CREATE, {"name": "Entra ID"}, auth=company.token())
    made = body["data"]["createScimCredential"]
    secret = made["secret"]
    # then the answer carries the secret, once
    assert secret.startswith("gg_scim_")
    assert len(secret) > 40
    assert made["credential"]["prefix"] == secret[:12]
    assert made["credential"]["revokedAt"] is None
    listed = (await gql(client, LIST, auth=company.token()))["data"]["scimCredentials"]
    assert [c["name"] for c in listed] == ["Entra ID"]
    assert secret not in str(listed)
    # and the table holds its hash and prefix, never the secret
    row = await AccessKey.get(tenant_id=company.tenant.id)
    assert row.kind == "scim"
    assert row.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    rows = await AccessKey.all().values()
    assert secret not in str(rows)
    event = await AuditEvent.get(entity_type="access_key", entity_id=row.id)
    assert event.action == "scim_credential.created"
    assert secret not in str(event.after)
    # and an employee may not make one
    refused = await gql(client, CREATE, {"name": "x"}, auth=company.token("employee"))
    assert refused["data"]["createScimCredential"]["errors"][0]["code"] == "FORBIDDEN"


async def test_requests_without_a_live_credential_get_a_scim_401(
    client: httpx.AsyncClient, company: Company
) -> None:
    secret = await credential(client, company)
    for headers in ({}, bearer("gg_scim_not-a-real-secret"), bearer(company.token())):
        response = await client.get(f"{SCIM}/Users", headers=headers)
        assert response.status_code == 401
        assert response.headers["content-type"].startswith("application/scim+json")
        assert response.json()["schemas"] == [ERROR]
        assert response.json()["status"] == "401"
    assert (await scim(client, "GET", "/Users", secret)).status_code == 200
    # when it is revoked, it is refused
    key_id = (await gql(client, LIST, auth=company.token()))["data"]["scimCredentials"][0]["id"]
    revoked = await gql(client, REVOKE, {"id": key_id}, auth=company.token())
    assert revoked["data"]["revokeScimCredential"]["credential"]["revokedAt"] is not None
    assert (await scim(client, "GET", "/Users", secret)).status_code == 401
    # and its use was recorded
    assert (await AccessKey.get(tenant_id=company.tenant.id)).last_used_at is not None


async def test_a_credential_sees_only_its_own_tenant(
    client: httpx.AsyncClient, company: Company
) -> None:
    other = await make_company("other")
    mine, theirs = await credential(client, company), await credential(client, other)
    listed = (await scim(client, "GET", "/Users", mine)).json()
    assert listed["totalResults"] == 4
    assert {r["displayName"] for r in listed["Resources"]} == {
        "管理员",
        "区经理",
        "店员甲",
        "店员乙",
    }
    assert (await scim(client, "GET", f"/Users/{other.employee.id}", mine)).status_code == 404
    assert (await scim(client, "GET", f"/Groups/{other.store.id}", mine)).status_code == 404
    assert (await scim(client, "GET", f"/Users/{other.employee.id}", theirs)).status_code == 200


async def test_create_get_and_filter_users(client: httpx.AsyncClient, company: Company) -> None:
    secret = await credential(client, company)
    # when Okta provisions a person into an existing department, with a manager
    payload = new_user(
        "li.lei@acme.example",
        externalId="00u1abc",
        name={"givenName": "Lei", "familyName": "Li", "formatted": "Li Lei"},
        displayName="李雷",
        title="店长",
        emails=[{"value": "li.lei@acme.example", "type": "work", "primary": True}],
        phoneNumbers=[{"value": "+86 10 1234", "type": "work"}],
        active=True,
        **{
            ENTERPRISE: {
                "employeeNumber": "E1001",
                "department": "一号店",
                "manager": {"value": str(company.manager.id)},
            }
        },
    )
    created = await scim(client, "POST", "/Users", secret, payload)
    assert created.status_code == 201, created.text
    user = created.json()
    assert created.headers["location"].endswith(f"/scim/v2/Users/{user['id']}")
    # then a person is in the database where the request said
    person = await Person.get(id=int(user["id"]))
    assert (person.name, person.name_en, person.email, person.code) == (
        "李雷",
        "Lei Li",
        "li.lei@acme.example",
        "E1001",
    )
    assert (person.job_title, person.external_id, person.org_unit_id, person.manager_id) == (
        "店长",
        "00u1abc",
        company.store.id,
        company.manager.id,
    )
    event = await AuditEvent.get(entity_type="person", entity_id=person.id, action="person.created")
    assert event.actor_role == "scim"
    assert event.actor_id is None
    # and reads back as it was sent (phone numbers are not kept)
    got = (await scim(client, "GET", f"/Users/{user['id']}", secret)).json()
    assert got["userName"] == "li.lei@acme.example"
    assert "phoneNumbers" not in got
    assert got["name"] == {"givenName": "Lei", "familyName": "Li"}
    assert got[ENTERPRISE]["department"] == "一号店"
    assert got[ENTERPRISE]["manager"]["value"] == str(company.manager.id)
    # and the filters identity providers send find them
    for expression in (
        'userName eq "LI.LEI@acme.example"',
        'userName eq "E1001"',
        'externalId eq "00u1abc"',
        'emails.value eq "li.lei@acme.example"',
    ):
        found = await client.get(
            f"{SCIM}/Users", params={"filter": expression}, headers=bearer(secret)
        )
        assert [r["id"] for r in found.json()["Resources"]] == [user["id"]], expression
    none = await client.get(
        f"{SCIM}/Users", params={"filter": 'userName eq "nobody"'}, headers=bearer(secret)
    )
    assert none.json()["totalResults"] == 0
    assert none.json().get("Resources", []) == []
    bad = await client.get(
        f"{SCIM}/Users", params={"filter": 'title co "x"'}, headers=bearer(secret)
    )
    assert bad.status_code == 400
    assert bad.json()["scimType"] == "invalidFilter"
    # and a second person with the same userName is a uniqueness conflict
    again = await scim(client, "POST", "/Users", secret, new_user("li.lei@acme.example"))
    assert again.status_code == 409
    assert again.json()["scimType"] == "uniqueness"


async def test_pagination_and_attributes(client: httpx.AsyncClient, company: Company) -> None:
    secret = await credential(client, company)
    page = await client.get(
        f"{SCIM}/Users",
        params={"startIndex": "2", "count": "2", "attributes": "userName"},
        headers=bearer(secret),
    )
    body = page.json()
    assert (body["totalResults"], body["startIndex"], body["itemsPerPage"]) == (4, 2, 2)
    assert all(set(r) <= {"id", "schemas", "userName"} for r in body["Resources"])
    excluded = await client.get(
        f"{SCIM}/Users/{company.employee.id}",
        params={"excludedAttributes": "displayName"},
        headers=bearer(secret),
    )
    assert "displayName" not in excluded.json()
    assert excluded.json()["id"]


async def test_patch_deactivates_and_reactivates_keeping_history(
    client: httpx.AsyncClient, company: Company
) -> None:
    secret = await credential(client, company)
    uid = str(company.employee.id)

    def ops(*operations: dict[str, Any]) -> dict[str, Any]:
        return {"schemas": [PATCH], "Operations": list(operations)}

    # Entra ID's way of writing a PATCH: capitalised ops, filtered paths, a bare manager id
    response = await scim(
        client,
        "PATCH",
        f"/Users/{uid}",
        secret,
        ops(
            {"op": "Add", "path": 'emails[type eq "work"].value', "value": "clerk@acme.example"},
            {"op": "Replace", "path": "title", "value": "收银员"},
            {"op": "Replace", "path": f"{ENTERPRISE}:manager", "value": str(company.manager.id)},
            {"op": "Replace", "path": f"{ENTERPRISE}:employeeNumber", "value": "E7"},
        ),
    )
    assert response.status_code == 200, response.text
    person = await Person.get(id=company.employee.id)
    assert (person.email, person.job_title, person.manager_id, person.code) == (
        "clerk@acme.example",
        "收银员",
        company.manager.id,
        "E7",
    )
    # when the identity provider deactivates them
    response = await scim(
        client, "PATCH", f"/Users/{uid}", secret, ops({"op": "replace", "value": {"active": False}})
    )
    assert response.json()["active"] is False
    person = await Person.get(id=company.employee.id)
    assert not person.active
    assert person.deactivated_at is not None
    assert (await scim(client, "GET", f"/Users/{uid}", secret)).json()["active"] is False
    # then reactivating brings them back
    response = await scim(
        client,
        "PATCH",
        f"/Users/{uid}",
        secret,
        ops({"op": "replace", "path": "active", "value": True}),
    )
    assert response.json()["active"] is True
    assert (await Person.get(id=company.employee.id)).deactivated_at is None
    actions = await AuditEvent.filter(
        entity_type="person", entity_id=company.employee.id
    ).values_list("action", flat=True)
    assert "person.deactivated" in actions
    assert "person.reactivated" in actions
    # and removing a required attribute is refused
    refused = await scim(
        client, "PATCH", f"/Users/{uid}", secret, ops({"op": "remove", "path": "displayName"})
    )
    assert refused.status_code == 400
    assert refused.json()["schemas"] == [ERROR]


async def test_put_replaces_what_it_sends_and_keeps_what_it_leaves_out(
    client: httpx.AsyncClient, company: Company
) -> None:
    secret = await credential(client, company)
    await Person.filter(id=company.other_employee.id).update(code="E42", job_title="理货员")
    body = {
        "schemas": [USER],
        "userName": "E42",
        "displayName": "店员乙（新）",
        "title": None,
        "active": True,
    }
    response = await scim(client, "PUT", f"/Users/{company.other_employee.id}", secret, body)
    assert response.status_code == 200, response.text
    person = await Person.get(id=company.other_employee.id)
    assert (person.name, person.job_title, person.code, person.org_unit_id) == (
        "店员乙（新）",
        "",
        "E42",
        company.store.id,
    )


async def test_an_unknown_department_becomes_a_unit_under_the_company(
    client: httpx.AsyncClient, company: Company
) -> None:
    secret = await credential(client, company)
    created = await scim(
        client,
        "POST",
        "/Users",
        secret,
        new_user(
            "han@acme.example", displayName="韩梅梅", **{ENTERPRISE: {"department": "财务部"}}
        ),
    )
    assert created.status_code == 201
    unit = await OrgUnit.get(tenant_id=company.tenant.id, name="财务部")
    assert unit.parent_id == company.root.id
    assert unit.kind.value == "department"
    assert (await Person.get(id=int(created.json()["id"]))).org_unit_id == unit.id
    # a new user without a department sits in the company unit
    plain = await scim(client, "POST", "/Users", secret, new_user("E900", displayName="王五"))
    person = await Person.get(id=int(plain.json()["id"]))
    assert person.org_unit_id == company.root.id
    assert person.code == "E900"
    assert person.email == ""
    assert ENTERPRISE not in plain.json() or "department" not in plain.json()[ENTERPRISE]


async def test_delete_deactivates_and_the_resource_is_gone(
    client: httpx.AsyncClient, company: Company
) -> None:
    secret = await credential(client, company)
    uid = company.employee.id
    assert (await scim(client, "DELETE", f"/Users/{uid}", secret)).status_code == 204
    # the person stays, deactivated, with their history
    person = await Person.get(id=uid)
    assert not person.active
    assert person.deactivated_at is not None
    assert await AuditEvent.filter(entity_type="person", entity_id=uid).count() >= 2
    # and SCIM no longer shows them
    assert (await scim(client, "GET", f"/Users/{uid}", secret)).status_code == 404
    listed = (await scim(client, "GET", "/Users", secret)).json()
    assert str(uid) not in {r["id"] for r in listed["Resources"]}
    store = (await scim(client, "GET", f"/Groups/{company.store.id}", secret)).json()
    assert [m["value"] for m in store["members"]] == [str(company.other_employee.id)]


async def test_groups_are_units_and_members_the_people_in_them(
    client: httpx.AsyncClient, company: Company
) -> None:
    secret = await credential(client, company)
    # when a group is created with a member
    created = await scim(
        client,
        "POST",
        "/Groups",
        secret,
        {
            "schemas": [GROUP],
            "displayName": "二号店",
            "externalId": "grp-2",
            "members": [{"value": str(company.employee.id), "type": "User"}],
        },
    )
    assert created.status_code == 201, created.text
    gid = int(created.json()["id"])
    unit = await OrgUnit.get(id=gid)
    assert (unit.name, unit.external_id, unit.parent_id) == ("二号店", "grp-2", company.root.id)
    # then the member moved into it (a person is in one unit)
    assert (await Person.get(id=company.employee.id)).org_unit_id == gid
    old = (await scim(client, "GET", f"/Groups/{company.store.id}", secret)).json()
    assert [m["value"] for m in old["members"]] == [str(company.other_employee.id)]
    found = await client.get(
        f"{SCIM}/Groups", params={"filter": 'displayName eq "二号店"'}, headers=bearer(secret)
    )
    assert [g["id"] for g in found.json()["Resources"]] == [str(gid)]
    # an archived-to-be unit with active people is refused with the count
    refused = await scim(client, "DELETE", f"/Groups/{gid}", secret)
    assert refused.status_code == 409
    assert "person" in refused.json()["detail"]
    # removing the member moves them to the company unit
    patch = {
        "schemas": [PATCH],
        "Operations": [
            {"op": "remove", "path": f'members[value eq "{company.employee.id}"]'},
            {"op": "replace", "path": "displayName", "value": "二号店（新）"},
        ],
    }
    response = await scim(client, "PATCH", f"/Groups/{gid}", secret, patch)
    assert response.status_code == 200, response.text
    assert (await Person.get(id=company.employee.id)).org_unit_id == company.root.id
    assert (await OrgUnit.get(id=gid)).name == "二号店（新）"
    # and an empty group is archived by DELETE, and gone for SCIM
    assert (await scim(client, "DELETE", f"/Groups/{gid}", secret)).status_code == 204
    assert (await OrgUnit.get(id=gid)).archived_at is not None
    assert (await scim(client, "GET", f"/Groups/{gid}", secret)).status_code == 404


async def test_discovery_and_unknown_endpoints(client: httpx.AsyncClient) -> None:
    config = (await client.get(f"{SCIM}/ServiceProviderConfig")).json()
    assert config["patch"]["supported"]
    assert not config["bulk"]["supported"]
    types = (await client.get(f"{SCIM}/ResourceTypes")).json()
    assert {t["name"] for t in types["Resources"]} == {"User", "Group"}
    schemas = (await client.get(f"{SCIM}/Schemas")).json()
    ids = {s["id"] for s in schemas["Resources"]}
    assert ids == {USER, ENTERPRISE, GROUP}
    missing = await client.get(f"{SCIM}/Nothing/here")
    assert missing.status_code == 404
    assert missing.json()["schemas"] == [ERROR]
    assert (await client.post(f"{SCIM}/ServiceProviderConfig")).status_code == 405


async def test_the_secret_never_appears_in_logs(
    client: httpx.AsyncClient, company: Company, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    secret = await credential(client, company)
    await scim(client, "GET", "/Users", secret)
    await scim(client, "POST", "/Users", secret, {"schemas": [USER]})
    await client.get(f"{SCIM}/Users", headers=bearer(secret + "x"))
    key_id = (await gql(client, LIST, auth=company.token()))["data"]["scimCredentials"][0]["id"]
    await gql(client, REVOKE, {"id": key_id}, auth=company.token())
    refused = await scim(client, "GET", "/Users", secret)
    assert refused.status_code == 401
    assert secret not in refused.text
    assert caplog.records
    assert secret not in caplog.text


async def test_provisioning_a_deleted_user_again_brings_the_same_person_back(
    client: httpx.AsyncClient, company: Company
) -> None:
    secret = await credential(client, company)
    created = await scim(
        client, "POST", "/Users", secret, new_user("zhao@acme.example", displayName="赵六")
    )
    uid = created.json()["id"]
    assert (await scim(client, "DELETE", f"/Users/{uid}", secret)).status_code == 204
    # when the identity provider assigns them again
    again = await scim(
        client, "POST", "/Users", secret, new_user("zhao@acme.example", displayName="赵六")
    )
    # then it is the same person, active, not a clash with the address they kept
    assert again.status_code == 201, again.text
    assert again.json()["id"] == uid
    assert again.json()["active"] is True
    assert (await Person.get(id=int(uid))).deactivated_at is None
