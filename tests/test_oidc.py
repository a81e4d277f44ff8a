"""Single sign-on with OpenID Connect, end to end: the real app (ASGI) and a real
provider on 127.0.0.1 built on authlib's server side (tests/oidc_provider.py), the
browser's redirects followed by hand between the two, on every backend."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import pytest_asyncio

from goalgraph.core.enums import Role
from goalgraph.core.models import AuditEvent, IdentityProvider, OidcLogin, Person
from goalgraph.core.secrets import SecretBox
from goalgraph.core.services import people
from goalgraph.core.settings import Settings, secret_box_key

from .factories import Company, gid, gql, make_company
from .oidc_provider import OidcProvider

SLUG = "acme"
CLIENT_ID = "goalgraph-acme"
CLIENT_SECRET = "s3cr3t-oidc-client-secret-7f9a2c"
EMAIL = "clerk.a@acme.example"

CONFIGURE = """
mutation($input: ConfigureOidcInput!) {
  configureOidc(input: $input) {
    identityProvider { id issuer clientId claim matchField jit jitRole redirectUri loginUrl active }
    errors { field code message }
  }
}"""
VIEWER = "{ viewer { role person { id name } } }"


@dataclass
class World:
    client: httpx.AsyncClient
    company: Company
    provider: OidcProvider
    settings: Settings


@pytest_asyncio.fixture
async def world(client: httpx.AsyncClient, settings: Settings) -> AsyncIterator[World]:
    company = await make_company(SLUG)
    await people.update_person(
        company.scope, company.employee.id, {"email": EMAIL, "code": "E1001"}
    )
    callback = f"{settings.public_url}/auth/{SLUG}/oidc/callback"
    provider = OidcProvider(CLIENT_ID, CLIENT_SECRET, [callback])
    await provider.start()
    provider.user = {"sub": "idp-42", "email": EMAIL, "name": "Clerk A", "emp_no": "E1001"}
    world = World(client, company, provider, settings)
    body = await configure(world)
    assert body["data"]["configureOidc"]["errors"] == []
    yield world
    await provider.stop()


async def configure(world: World, **extra: object) -> dict:
    values = {
        "issuer": world.provider.issuer,
        "clientId": CLIENT_ID,
        "clientSecret": CLIENT_SECRET,
        **extra,
    }
    return await gql(world.client, CONFIGURE, {"input": values}, auth=world.company.token())


async def to_provider(world: World) -> httpx.Response:
    """Start at goalgraph's login route and follow its redirect to the provider, which
    approves at once and redirects back: the provider's answer."""
    started = await world.client.get(f"/auth/{SLUG}/oidc/login")
    assert started.status_code == 302, started.text
    assert started.headers["location"].startswith(f"{world.provider.issuer}/authorize?")
    async with httpx.AsyncClient() as browser:
        answer = await browser.get(started.headers["location"])
    assert answer.status_code == 302, answer.text
    return answer


def local(location: str) -> str:
    """The path and query of a redirect back to goalgraph (its public URL)."""
    parts = urlsplit(location)
    return f"{parts.path}?{parts.query}"


async def sign_in(world: World) -> httpx.Response:
    answer = await to_provider(world)
    return await world.client.get(local(answer.headers["location"]))


def fragment(response: httpx.Response) -> dict[str, str]:
    location = response.headers["location"]
    path, _, frag = location.partition("#")
    assert path == "/"
    return {k: v[0] for k, v in parse_qs(frag).items()}


def refused(response: httpx.Response, status: int, *words: str) -> None:
    assert response.status_code == status, response.text
    assert "text/html" in response.headers["content-type"]
    assert 'lang="zh-CN"' in response.text
    assert "token=" not in response.headers.get("location", "")
    for word in words:
        assert word in response.text


async def test_a_person_signs_in_and_the_token_works_as_them(world: World) -> None:
    done = await sign_in(world)
    assert done.status_code == 303, done.text
    tokens = fragment(done)
    assert tokens["refresh_token"]
    body = await gql(world.client, VIEWER, auth=tokens["token"])
    assert body["data"]["viewer"]["person"]["id"] == gid("Person", world.company.employee.id)
    assert body["data"]["viewer"]["role"] == "EMPLOYEE"
    started = await AuditEvent.get(action="session.started", actor_id=world.company.employee.id)
    assert started.after["method"] == "oidc"  # type: ignore[index]
    refreshed = await gql(
        world.client,
        "mutation($t: String!) { refreshSession(refreshToken: $t) { errors { code } "
        "session { accessToken } } }",
        {"t": tokens["refresh_token"]},
    )
    assert refreshed["data"]["refreshSession"]["errors"] == []
    # what the provider saw: PKCE S256, a nonce, a state, and the verifier at the token step
    asked = world.provider.authorize_requests[-1]
    assert asked["code_challenge_method"] == "S256"
    assert asked["nonce"]
    assert asked["state"]
    assert asked["response_type"] == "code"
    assert "openid" in asked["scope"].split()
    assert asked["redirect_uri"] == f"{world.settings.public_url}/auth/{SLUG}/oidc/callback"
    assert world.provider.token_requests[-1]["code_verifier"]
    # the sign-in under way is gone: its state works once
    assert await OidcLogin.all().count() == 0


async def test_the_state_cookie_is_http_only_lax_and_scoped(world: World) -> None:
    started = await world.client.get(f"/auth/{SLUG}/oidc/login")
    cookie = started.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    assert f"path=/auth/{SLUG}/oidc" in cookie
    state = parse_qs(urlsplit(started.headers["location"]).query)["state"][0]
    assert state not in (await OidcLogin.first()).state_hash  # type: ignore[union-attr]


async def test_a_wrong_state_is_refused(world: World) -> None:
    answer = await to_provider(world)
    back = urlsplit(answer.headers["location"])
    query = {k: v[0] for k, v in parse_qs(back.query).items()}
    forged = httpx.URL(back.path, params={**query, "state": "forged-state"})
    refused(await world.client.get(str(forged)), 400, "登录已失效", "no longer valid")
    # a callback without the browser's cookie is refused too, even with the real state
    world.client.cookies.clear()
    refused(await world.client.get(local(answer.headers["location"])), 400)


async def test_a_replayed_code_is_refused(world: World) -> None:
    answer = await to_provider(world)
    first = await world.client.get(local(answer.headers["location"]))
    assert first.status_code == 303
    # the same callback again: its state was used
    refused(await world.client.get(local(answer.headers["location"])), 400)
    # the old code with a fresh state: the provider refuses the code
    old_code = parse_qs(urlsplit(answer.headers["location"]).query)["code"][0]
    fresh = await to_provider(world)
    back = urlsplit(fresh.headers["location"])
    state = parse_qs(back.query)["state"][0]
    replay = httpx.URL(back.path, params={"code": old_code, "state": state})
    refused(await world.client.get(str(replay)), 403, "refused the sign-in")


async def test_an_id_token_for_another_audience_is_refused(world: World) -> None:
    world.provider.audience = "some-other-client"
    refused(await sign_in(world), 403, "身份令牌无效", "not valid")


async def test_an_expired_id_token_is_refused(world: World) -> None:
    world.provider.id_token_age = 3600
    refused(await sign_in(world), 403, "not valid")


async def test_an_unknown_person_is_refused_and_nothing_is_created(world: World) -> None:
    before = await Person.all().count()
    world.provider.user = {"sub": "idp-99", "email": "stranger@elsewhere.example"}
    refused(await sign_in(world), 403, "未找到您的账号", "No account for you here")
    assert await Person.all().count() == before


async def test_a_deactivated_person_is_refused(world: World) -> None:
    await people.deactivate_person(world.company.scope, world.company.employee.id)
    refused(await sign_in(world), 403, "账号已停用", "deactivated")


async def test_jit_creates_the_person_in_the_configured_unit(world: World) -> None:
    store = gid("OrgUnit", world.company.store.id)
    body = await configure(world, jit=True, jitOrgUnitId=store, jitRole="EMPLOYEE")
    assert body["data"]["configureOidc"]["identityProvider"]["jit"] is True
    world.provider.user = {"sub": "idp-7", "email": "New.Hire@acme.example", "name": "新同事"}
    done = await sign_in(world)
    assert done.status_code == 303, done.text
    person = await Person.get(tenant_id=world.company.tenant.id, email="new.hire@acme.example")
    assert person.name == "新同事"
    assert person.org_unit_id == world.company.store.id
    assert person.role == Role.EMPLOYEE
    event = await AuditEvent.get(action="person.created", entity_id=person.id)
    assert event.actor_role == "oidc"
    body = await gql(world.client, VIEWER, auth=fragment(done)["token"])
    assert body["data"]["viewer"]["person"]["name"] == "新同事"


async def test_matching_on_an_employee_number_claim(world: World) -> None:
    body = await configure(world, claim="emp_no", matchField="code")
    assert body["data"]["configureOidc"]["errors"] == []
    world.provider.user = {"sub": "idp-42", "emp_no": "E1001"}
    done = await sign_in(world)
    assert done.status_code == 303, done.text
    body = await gql(world.client, VIEWER, auth=fragment(done)["token"])
    assert body["data"]["viewer"]["person"]["id"] == gid("Person", world.company.employee.id)


async def test_the_client_secret_is_sealed_and_never_shown_or_logged(
    client: httpx.AsyncClient, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    company = await make_company(SLUG)
    await people.update_person(company.scope, company.employee.id, {"email": EMAIL})
    provider = OidcProvider(
        CLIENT_ID, CLIENT_SECRET, [f"{settings.public_url}/auth/{SLUG}/oidc/callback"]
    )
    await provider.start()
    try:
        provider.user = {"sub": "idp-42", "email": EMAIL}
        world = World(client, company, provider, settings)
        configured = await configure(world)
        assert configured["data"]["configureOidc"]["errors"] == []
        assert (await sign_in(world)).status_code == 303
        world.provider.user = {"sub": "x", "email": "nobody@acme.example"}
        assert (await sign_in(world)).status_code == 403
        shown = await gql(
            client,
            "{ identityProvider { issuer clientId redirectUri active } }",
            auth=company.token(),
        )
    finally:
        await provider.stop()
    assert shown["data"]["identityProvider"]["clientId"] == CLIENT_ID
    assert CLIENT_SECRET not in str(shown)
    assert CLIENT_SECRET not in str(configured)
    row = await IdentityProvider.get(tenant_id=company.tenant.id)
    assert CLIENT_SECRET not in row.client_secret
    assert SecretBox(secret_box_key(settings)).open(row.client_secret) == {
        "client_secret": CLIENT_SECRET
    }
    events = await AuditEvent.filter(entity_type="identity_provider")
    assert events
    assert all(CLIENT_SECRET not in str((e.before, e.after)) for e in events)
    assert CLIENT_SECRET not in caplog.text
    assert "single sign-on refused" in caplog.text  # the logs were captured


async def test_only_admins_configure_and_a_disabled_provider_refuses(world: World) -> None:
    values = {"issuer": world.provider.issuer, "clientId": "x", "clientSecret": "y"}
    body = await gql(
        world.client, CONFIGURE, {"input": values}, auth=world.company.token("manager")
    )
    assert body["data"]["configureOidc"]["errors"][0]["code"] == "FORBIDDEN"
    bad = await gql(
        world.client,
        CONFIGURE,
        {
            "input": {
                "issuer": "http://idp.example",
                "clientId": "",
                "matchField": "name",
                "jitRole": "ADMIN",
            }
        },
        auth=world.company.token(),
    )
    fields = {e["field"] for e in bad["data"]["configureOidc"]["errors"]}
    assert fields == {"issuer", "clientId", "matchField", "jitRole"}
    off = await gql(
        world.client,
        "mutation { disableOidc { identityProvider { active } errors { code } } }",
        auth=world.company.token(),
    )
    assert off["data"]["disableOidc"]["identityProvider"]["active"] is False
    refused(await world.client.get(f"/auth/{SLUG}/oidc/login"), 404, "未启用单点登录")


async def test_an_unreachable_provider_is_refused_at_login(world: World) -> None:
    await world.provider.stop()  # the issuer's port is closed from now on
    refused(await world.client.get(f"/auth/{SLUG}/oidc/login"), 502, "refused the sign-in")
    assert await OidcLogin.all().count() == 0


async def test_the_callback_query_is_cut_out_of_access_logs(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="uvicorn.access")
    line = f"/auth/{SLUG}/oidc/callback?code=the-code-123&state=the-state-456"
    logging.getLogger("uvicorn.access").info(
        '%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "GET", line, "1.1", 303
    )
    assert "/oidc/callback?…" in caplog.text
    assert "the-code-123" not in caplog.text
    assert "the-state-456" not in caplog.text
