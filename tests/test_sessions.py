"""Sessions through the real app: refresh rotation, reuse detection, sign-out, and the
checks of every request (a deactivated person, a revoked session, a changed role), at
the statement cost of a request without a session."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from goalgraph.core import sessions
from goalgraph.core.enums import Role
from goalgraph.core.identity import Identity, mint_token, read_token
from goalgraph.core.models import AuditEvent, Person, RefreshToken, SessionFamily
from goalgraph.core.services import people
from goalgraph.core.settings import Settings

from .factories import TEST_SECRET, gid, gql, make_company, token
from .sqlcount import count_statements
from .test_accounts import VIEWER, signed_up

REFRESH = """
mutation Refresh($token: String!) {
  refreshSession(refreshToken: $token) {
    session { accessToken refreshToken accessExpiresAt refreshExpiresAt }
    errors { field code message }
  }
}
"""
SIGN_OUT = "mutation { signOut { signedOut errors { code message } } }"


async def refresh(client: httpx.AsyncClient, refresh_token: str) -> dict[str, Any]:
    body = await gql(client, REFRESH, {"token": refresh_token})
    payload: dict[str, Any] = body["data"]["refreshSession"]
    return payload


async def works(client: httpx.AsyncClient, access_token: str) -> bool:
    body = await gql(client, VIEWER, auth=access_token)
    if body["_status"] == 401:
        assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        return False
    return True


async def test_a_session_has_a_short_access_token_and_a_family_lifetime(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    company, session = await signed_up(client)
    identity = read_token(session["accessToken"], TEST_SECRET)
    assert identity.person_id == company.employee.id
    assert identity.session_id is not None
    family = await SessionFamily.get(sid=identity.session_id)
    assert (family.person_id, family.method, family.revoked_at) == (
        company.employee.id,
        "password",
        None,
    )
    access = datetime.fromisoformat(session["accessExpiresAt"])
    lifetime = timedelta(minutes=settings.access_token_minutes)
    assert lifetime - timedelta(seconds=5) < access - datetime.now(UTC) <= lifetime
    assert datetime.fromisoformat(session["refreshExpiresAt"]) == family.expires_at
    days = family.expires_at - family.created_at
    assert abs(days - timedelta(days=settings.refresh_token_days)) < timedelta(seconds=5)


async def test_a_refresh_rotates_the_refresh_token(client: httpx.AsyncClient) -> None:
    company, first = await signed_up(client)
    # when the client refreshes
    answer = await refresh(client, first["refreshToken"])
    assert answer["errors"] == []
    second = answer["session"]
    # then it gets a new pair of the same session, and the family's end stays
    assert second["refreshToken"] != first["refreshToken"]
    old, new = (read_token(s["accessToken"], TEST_SECRET) for s in (first, second))
    assert old.session_id == new.session_id
    assert second["refreshExpiresAt"] == first["refreshExpiresAt"]
    assert await works(client, second["accessToken"])
    # and the new refresh token refreshes again
    third = await refresh(client, second["refreshToken"])
    assert third["errors"] == []
    rows = await RefreshToken.filter(tenant_id=company.tenant.id).order_by("id")
    assert [r.rotated_at is not None for r in rows] == [True, True, False]


async def test_a_reused_refresh_token_revokes_its_whole_family(client: httpx.AsyncClient) -> None:
    company, first = await signed_up(client)
    second = (await refresh(client, first["refreshToken"]))["session"]
    # when the first refresh token is presented again (it was copied)
    reused = await refresh(client, first["refreshToken"])
    assert reused["session"] is None
    assert [e["code"] for e in reused["errors"]] == ["UNAUTHENTICATED"]
    assert "already used" in reused["errors"][0]["message"]
    # then every token of the session is dead: both access tokens, the newest refresh token
    assert not await works(client, first["accessToken"])
    assert not await works(client, second["accessToken"])
    later = await refresh(client, second["refreshToken"])
    assert [e["code"] for e in later["errors"]] == ["UNAUTHENTICATED"]
    family = await SessionFamily.get(tenant_id=company.tenant.id)
    assert family.revoked_reason == sessions.REUSE
    assert await AuditEvent.exists(action="session.revoked", entity_id=family.id)
    # and another sign-in starts afresh
    _, again = await signed_up_again(client)
    assert await works(client, again["accessToken"])


async def signed_up_again(client: httpx.AsyncClient) -> tuple[None, dict[str, Any]]:
    from .test_accounts import sign_in

    payload = await sign_in(client, "lakeside")
    assert payload["errors"] == []
    return None, payload["session"]


async def test_sign_out_cuts_the_access_token_on_the_next_request(
    client: httpx.AsyncClient,
) -> None:
    _, session = await signed_up(client)
    _, other = await signed_up_again(client)  # the same person on another device
    assert await works(client, session["accessToken"])
    body = await gql(client, SIGN_OUT, auth=session["accessToken"])
    assert body["data"]["signOut"] == {"signedOut": True, "errors": []}
    # the very next request with that access token is refused, long before it expires
    assert not await works(client, session["accessToken"])
    assert [e["code"] for e in (await refresh(client, session["refreshToken"]))["errors"]] == [
        "UNAUTHENTICATED"
    ]
    # while the other session of the person goes on
    assert await works(client, other["accessToken"])
    # and a token that belongs to no session has nothing to sign out of
    company = await make_company("tokens")
    minted = await gql(client, SIGN_OUT, auth=company.token("employee"))
    assert [e["code"] for e in minted["data"]["signOut"]["errors"]] == ["INVALID"]


async def test_deactivating_the_person_cuts_access_on_the_next_request(
    client: httpx.AsyncClient,
) -> None:
    company, session = await signed_up(client)
    assert await works(client, session["accessToken"])
    await people.deactivate_person(company.scope, company.employee.id)
    assert not await works(client, session["accessToken"])
    answer = await refresh(client, session["refreshToken"])
    assert [e["code"] for e in answer["errors"]] == ["UNAUTHENTICATED"]
    # the session is over for good: reactivating the person does not revive it
    await people.reactivate_person(company.scope, company.employee.id)
    assert not await works(client, session["accessToken"])


async def test_a_role_change_applies_on_the_next_request(client: httpx.AsyncClient) -> None:
    company, session = await signed_up(client)
    viewer = await gql(client, VIEWER, auth=session["accessToken"])
    assert viewer["data"]["viewer"]["role"] == "EMPLOYEE"
    invite = """mutation I($p: ID!) { invitePerson(personId: $p) { errors { code } } }"""
    manager = {"p": gid("Person", company.manager.id)}
    refused = await gql(client, invite, manager, auth=session["accessToken"])
    assert refused["data"]["invitePerson"]["errors"][0]["code"] == "FORBIDDEN"
    # when an admin makes them an admin, their same access token acts as an admin
    await people.update_person(company.scope, company.employee.id, {"role": Role.ADMIN})
    viewer = await gql(client, VIEWER, auth=session["accessToken"])
    assert viewer["data"]["viewer"]["role"] == "ADMIN"
    allowed = await gql(client, invite, manager, auth=session["accessToken"])
    assert allowed["data"]["invitePerson"]["errors"] == [{"code": "INVALID"}]  # no email yet
    # and back: the next request is an employee's again
    await people.update_person(company.scope, company.employee.id, {"role": Role.EMPLOYEE})
    viewer = await gql(client, VIEWER, auth=session["accessToken"])
    assert viewer["data"]["viewer"]["role"] == "EMPLOYEE"
    # the refreshed access token carries the current role too
    await Person.filter(id=company.employee.id).update(role=Role.MANAGER)
    refreshed = (await refresh(client, session["refreshToken"]))["session"]
    assert read_token(refreshed["accessToken"], TEST_SECRET).role is Role.MANAGER


async def test_a_session_token_costs_the_statements_of_a_minted_token(
    client: httpx.AsyncClient,
) -> None:
    company, session = await signed_up(client)
    minted = token(company.tenant, Role.EMPLOYEE, company.employee)
    counts = []
    for auth in (minted, session["accessToken"]):
        with count_statements() as statements:
            body = await gql(client, VIEWER, auth=auth)
        assert body["data"]["viewer"]["role"] == "EMPLOYEE"
        counts.append(len(statements))
    assert counts[0] == counts[1]
    # tenant, person with unit (and session), their reports outside the tree
    assert counts[1] == 3


async def test_a_forged_or_foreign_session_is_refused(client: httpx.AsyncClient) -> None:
    company, session = await signed_up(client)
    identity = read_token(session["accessToken"], TEST_SECRET)
    # a valid signature naming a session that does not exist
    made_up = Identity(
        company.tenant.id, company.tenant.slug, Role.ADMIN, company.employee.id, session_id="x"
    )
    assert not await works(client, mint_token(made_up, TEST_SECRET, timedelta(minutes=5)))
    # a session of one person presented for another
    stolen = Identity(
        company.tenant.id,
        company.tenant.slug,
        Role.ADMIN,
        company.admin.id,
        session_id=identity.session_id,
    )
    assert not await works(client, mint_token(stolen, TEST_SECRET, timedelta(minutes=5)))
    # garbage refresh tokens say nothing more than unauthenticated
    for bad in ("", "ggr_nothing", "gg_scim_x"):
        assert [e["code"] for e in (await refresh(client, bad))["errors"]] == ["UNAUTHENTICATED"]


async def test_start_session_serves_any_way_in(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    # single sign-on calls start_session once it has matched the person
    company = await make_company("sso")
    tokens = await sessions.start_session(company.tenant, company.manager, settings, method="oidc")
    assert tokens.refresh_token.startswith(sessions.REFRESH_PREFIX)
    assert await works(client, tokens.access_token)
    family = await SessionFamily.get(tenant_id=company.tenant.id)
    assert family.method == "oidc"
    event = await AuditEvent.get(action="session.started", entity_id=family.id)
    assert (event.actor_id, event.after["method"]) == (company.manager.id, "oidc")
    # and the tokens refresh like any others
    again = await sessions.refresh_session(tokens.refresh_token, settings)
    assert await works(client, again.access_token)
