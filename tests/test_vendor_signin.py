"""Sign-in with Feishu/Lark, DingTalk and WeCom, end to end: the real app (ASGI) and
each provider on 127.0.0.1 in its own API shapes (tests/fake_signin.py), the browser's
redirects followed by hand between the two, for every provider on every backend."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
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
from .fake_signin import SECRET, FakeSignIn

SLUG = "acme"
EMAIL = "clerk.a@acme.example"
EXTERNAL_ID = "ext-1001"
CODE = "E1001"
VIEWER = "{ viewer { role person { id name } } }"
FIELDS = (
    "id kind clientId claim matchField corpId agentId domain baseUrl redirectUri loginUrl active"
)


@dataclass(frozen=True)
class Vendor:
    """How each provider is configured, and the fields it gives for a person."""

    kind: str
    mutation: str
    input_type: str
    app_id: str
    corp: str
    other_corp: str

    def person(self, external_id: str = EXTERNAL_ID, **extra: Any) -> dict[str, Any]:
        if self.kind == "feishu":
            base = {
                "open_id": external_id,
                "union_id": f"on_{external_id}",
                "name": "Clerk A",
                "email": EMAIL,
                "employee_no": CODE,
            }
        elif self.kind == "dingtalk":
            base = {
                "userid": external_id,
                "unionId": f"union-{external_id}",
                "openId": f"open-{external_id}",
                "nick": "Clerk A",
                "email": EMAIL,
            }
        else:
            base = {"userid": external_id}
        return {**base, **extra}

    def values(self, fake: FakeSignIn, **extra: Any) -> dict[str, Any]:
        ids: dict[str, Any] = {
            "feishu": {"clientId": self.app_id, "tenantKey": self.corp},
            "dingtalk": {"clientId": self.app_id, "corpId": self.corp},
            "wecom": {"corpId": self.corp, "agentId": fake.agent_id},
        }[self.kind]
        return {**ids, "clientSecret": SECRET, "baseUrl": fake.url, **extra}


VENDORS = {
    "feishu": Vendor(
        "feishu", "configureFeishu", "ConfigureFeishuInput", "cli_a5acme", "tk-acme", "tk-other"
    ),
    "dingtalk": Vendor(
        "dingtalk",
        "configureDingtalk",
        "ConfigureDingtalkInput",
        "dingacmeapp",
        "ding-corp-acme",
        "ding-corp-other",
    ),
    "wecom": Vendor(
        "wecom", "configureWecom", "ConfigureWecomInput", "wwacme", "wwacme", "wwother"
    ),
}


@dataclass
class World:
    client: httpx.AsyncClient
    company: Company
    vendor: Vendor
    fake: FakeSignIn
    settings: Settings

    @property
    def kind(self) -> str:
        return self.vendor.kind


def configure_query(vendor: Vendor) -> str:
    return f"""mutation($input: {vendor.input_type}!) {{
  {vendor.mutation}(input: $input) {{
    identityProvider {{ {FIELDS} }}
    errors {{ field code message }}
  }}
}}"""


async def configure(world: World, **extra: Any) -> dict[str, Any]:
    body = await gql(
        world.client,
        configure_query(world.vendor),
        {"input": world.vendor.values(world.fake, **extra)},
        auth=world.company.token(),
    )
    payload: dict[str, Any] = body["data"][world.vendor.mutation]
    return payload


@pytest_asyncio.fixture(params=list(VENDORS))
async def world(
    request: pytest.FixtureRequest, client: httpx.AsyncClient, settings: Settings
) -> AsyncIterator[World]:
    vendor = VENDORS[request.param]
    company = await make_company(SLUG)
    await people.update_person(
        company.scope,
        company.employee.id,
        {"email": EMAIL, "code": CODE, "external_id": EXTERNAL_ID},
    )
    fake = FakeSignIn(vendor.kind, vendor.app_id, vendor.corp)
    await fake.start()
    fake.person = vendor.person()
    world = World(client, company, vendor, fake, settings)
    configured = await configure(world)
    assert configured["errors"] == []
    yield world
    await fake.stop()


# ------------------------------------------------------------------ the browser's path


async def to_provider(world: World) -> httpx.Response:
    """Start at goalgraph's login route, follow its redirect to the provider, which
    approves at once and redirects back: the provider's answer."""
    started = await world.client.get(f"/auth/{SLUG}/{world.kind}/login")
    assert started.status_code == 302, started.text
    assert started.headers["location"].startswith(f"{world.fake.url}/")
    async with httpx.AsyncClient() as browser:
        answer = await browser.get(started.headers["location"])
    assert answer.status_code == 302, answer.text
    return answer


def local(location: str) -> str:
    parts = urlsplit(location)
    return f"{parts.path}?{parts.query}"


async def sign_in(world: World) -> httpx.Response:
    answer = await to_provider(world)
    return await world.client.get(local(answer.headers["location"]))


def fragment(response: httpx.Response) -> dict[str, str]:
    path, _, frag = response.headers["location"].partition("#")
    assert path == "/"
    return {k: v[0] for k, v in parse_qs(frag).items()}


def refused(response: httpx.Response, status: int, *words: str) -> None:
    assert response.status_code == status, response.text
    assert "text/html" in response.headers["content-type"]
    assert 'lang="zh-CN"' in response.text
    assert "token=" not in response.headers.get("location", "")
    for word in words:
        assert word in response.text


async def viewer(world: World, done: httpx.Response) -> dict[str, Any]:
    assert done.status_code == 303, done.text
    body = await gql(world.client, VIEWER, auth=fragment(done)["token"])
    found: dict[str, Any] = body["data"]["viewer"]
    return found


# ------------------------------------------------------------------------- signing in


async def test_a_person_signs_in_by_external_id_and_the_token_works(world: World) -> None:
    done = await sign_in(world)
    shown = await viewer(world, done)
    assert shown["person"]["id"] == gid("Person", world.company.employee.id)
    assert shown["role"] == "EMPLOYEE"
    started = await AuditEvent.get(action="session.started", actor_id=world.company.employee.id)
    assert started.after["method"] == world.kind  # type: ignore[index]
    refreshed = await gql(
        world.client,
        "mutation($t: String!) { refreshSession(refreshToken: $t) { errors { code } } }",
        {"t": fragment(done)["refresh_token"]},
    )
    assert refreshed["data"]["refreshSession"]["errors"] == []
    assert await OidcLogin.all().count() == 0  # the state worked once and is gone
    asked = world.fake.authorize_requests[-1]
    callback = f"{world.settings.public_url}/auth/{SLUG}/{world.kind}/callback"
    assert asked["redirect_uri"] == callback
    assert asked["state"]
    if world.kind == "feishu":
        assert asked["client_id"] == world.vendor.app_id
        assert asked["response_type"] == "code"
        assert asked["code_challenge_method"] == "S256"
        assert world.fake.token_requests[-1]["code_verifier"]
        assert world.fake.token_requests[-1]["redirect_uri"] == callback
    elif world.kind == "dingtalk":
        assert asked["client_id"] == world.vendor.app_id
        assert asked["scope"] == "openid corpid"
        assert asked["corpId"] == world.vendor.corp
        assert asked["prompt"] == "consent"
    else:
        assert asked["login_type"] == "CorpApp"
        assert asked["appid"] == world.vendor.corp
        assert asked["agentid"] == world.fake.agent_id


async def test_the_state_cookie_is_scoped_to_the_kind(world: World) -> None:
    started = await world.client.get(f"/auth/{SLUG}/{world.kind}/login")
    cookie = started.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    assert f"path=/auth/{SLUG}/{world.kind}" in cookie
    row = await OidcLogin.get(tenant_id=world.company.tenant.id)
    assert row.kind == world.kind


async def test_a_wrong_state_is_refused(world: World) -> None:
    answer = await to_provider(world)
    back = urlsplit(answer.headers["location"])
    query = {k: v[0] for k, v in parse_qs(back.query).items()}
    forged = httpx.URL(back.path, params={**query, "state": "forged-state"})
    refused(await world.client.get(str(forged)), 400, "登录已失效", "no longer valid")
    world.client.cookies.clear()  # the real state, but not from this browser
    refused(await world.client.get(local(answer.headers["location"])), 400)


async def test_a_replayed_state_or_code_is_refused(world: World) -> None:
    answer = await to_provider(world)
    assert (await world.client.get(local(answer.headers["location"]))).status_code == 303
    refused(await world.client.get(local(answer.headers["location"])), 400)
    # the old code with a fresh state: the provider refuses the code
    old = {k: v[0] for k, v in parse_qs(urlsplit(answer.headers["location"]).query).items()}
    fresh = urlsplit((await to_provider(world)).headers["location"])
    state = parse_qs(fresh.query)["state"][0]
    replay = httpx.URL(fresh.path, params={**old, "state": state})
    refused(await world.client.get(str(replay)), 403, "身份提供方拒绝了登录", "refused the sign-in")


async def test_the_provider_error_envelope_is_refused(world: World) -> None:
    world.fake.fail_identity = True
    refused(await sign_in(world), 403, "refused the sign-in")


async def test_a_denied_authorization_is_refused(world: World) -> None:
    started = await world.client.get(f"/auth/{SLUG}/{world.kind}/login")
    state = parse_qs(urlsplit(started.headers["location"]).query)["state"][0]
    back = httpx.URL(
        f"/auth/{SLUG}/{world.kind}/callback", params={"error": "access_denied", "state": state}
    )
    refused(await world.client.get(str(back)), 403, "refused the sign-in")


async def test_a_person_of_another_company_is_refused(world: World) -> None:
    before = await Person.all().count()
    await configure(world, jit=True, jitOrgUnitId=gid("OrgUnit", world.company.store.id))
    world.fake.company = world.vendor.other_corp
    refused(await sign_in(world), 403, "不是本公司的账号", "another company")
    assert await Person.all().count() == before  # not even created just in time


@pytest.mark.parametrize("world", ["wecom"], indirect=True)
async def test_a_wecom_visitor_is_not_of_the_company(world: World) -> None:
    world.fake.visitor = True
    refused(await sign_in(world), 403, "不是本公司的账号")


async def test_an_unknown_person_is_refused_and_nothing_is_created(world: World) -> None:
    before = await Person.all().count()
    world.fake.person = world.vendor.person("ext-9999", email="stranger@acme.example")
    refused(await sign_in(world), 403, "未找到您的账号", "No account for you here")
    assert await Person.all().count() == before


async def test_a_deactivated_person_is_refused(world: World) -> None:
    await people.deactivate_person(world.company.scope, world.company.employee.id)
    refused(await sign_in(world), 403, "账号已停用", "deactivated")


async def test_matching_on_the_employee_number_or_email(world: World) -> None:
    claim, field = {"feishu": ("employee_no", "code"), "dingtalk": ("email", "email")}.get(
        world.kind, ("userid", "code")
    )
    assert (await configure(world, claim=claim, matchField=field))["errors"] == []
    if world.kind == "wecom":  # the company's userids are its employee numbers
        world.fake.person = world.vendor.person(CODE)
    else:
        world.fake.person = world.vendor.person("ext-not-synced")
    shown = await viewer(world, await sign_in(world))
    assert shown["person"]["id"] == gid("Person", world.company.employee.id)


async def test_jit_creates_the_person_with_their_directory_id(world: World) -> None:
    store = gid("OrgUnit", world.company.store.id)
    assert (await configure(world, jit=True, jitOrgUnitId=store))["errors"] == []
    world.fake.person = world.vendor.person("ext-new-7", name="新同事", nick="新同事", email="")
    shown = await viewer(world, await sign_in(world))
    person = await Person.get(tenant_id=world.company.tenant.id, external_id="ext-new-7")
    assert shown["person"]["id"] == gid("Person", person.id)
    assert person.org_unit_id == world.company.store.id
    assert person.role == Role.EMPLOYEE
    assert person.name == ("ext-new-7" if world.kind == "wecom" else "新同事")
    event = await AuditEvent.get(action="person.created", entity_id=person.id)
    assert event.actor_role == world.kind


@pytest.mark.parametrize("world", ["dingtalk", "wecom"], indirect=True)
async def test_app_tokens_are_reused_and_renewed_when_expired(world: World) -> None:
    """Feishu's sign-in needs the person's token only; the other two the app's."""
    assert (await sign_in(world)).status_code == 303
    assert (await sign_in(world)).status_code == 303
    assert world.fake.app_token_requests == 1
    world.fake.expire_app_tokens()
    assert (await sign_in(world)).status_code == 303
    assert world.fake.app_token_requests == 2


async def test_a_state_of_one_kind_is_refused_at_another(world: World) -> None:
    other_kind = "dingtalk" if world.kind != "dingtalk" else "feishu"
    other = VENDORS[other_kind]
    fake = FakeSignIn(other.kind, other.app_id, other.corp)
    await fake.start()
    try:
        body = await gql(
            world.client,
            configure_query(other),
            {"input": other.values(fake)},
            auth=world.company.token(),
        )
        assert body["data"][other.mutation]["errors"] == []
        started = await world.client.get(f"/auth/{SLUG}/{other.kind}/login")
        state = parse_qs(urlsplit(started.headers["location"]).query)["state"][0]
        world.client.cookies.set("gg_oidc_state", state, path=f"/auth/{SLUG}/{world.kind}")
        back = httpx.URL(
            f"/auth/{SLUG}/{world.kind}/callback",
            params={"code": "x", "authCode": "x", "state": state},
        )
        refused(await world.client.get(str(back)), 400)
        assert await OidcLogin.filter(kind=other.kind).count() == 1  # still usable there
    finally:
        await fake.stop()


async def test_an_unreachable_provider_is_refused_at_the_callback(world: World) -> None:
    answer = await to_provider(world)
    await world.fake.stop()
    refused(await world.client.get(local(answer.headers["location"])), 403, "refused the sign-in")


# ---------------------------------------------------------------------- configuration


async def test_the_secret_is_sealed_and_never_shown_or_logged(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    assert (await sign_in(world)).status_code == 303
    world.fake.person = world.vendor.person("ext-nobody")
    assert (await sign_in(world)).status_code == 403
    shown = await gql(
        world.client, f"{{ identityProviders {{ {FIELDS} }} }}", auth=world.company.token()
    )
    (provider,) = shown["data"]["identityProviders"]
    assert provider["kind"] == world.kind.upper()
    assert provider["loginUrl"] == f"{world.settings.public_url}/auth/{SLUG}/{world.kind}/login"
    assert provider["redirectUri"].endswith(f"/auth/{SLUG}/{world.kind}/callback")
    assert provider["corpId"] == world.vendor.corp
    assert SECRET not in str(shown)
    row = await IdentityProvider.get(tenant_id=world.company.tenant.id, kind=world.kind)
    assert SECRET not in row.client_secret
    box = SecretBox(secret_box_key(world.settings))
    assert box.open(row.client_secret) == {"client_secret": SECRET}
    events = await AuditEvent.filter(entity_type="identity_provider")
    assert events
    assert all(SECRET not in str((e.before, e.after)) for e in events)
    assert SECRET not in caplog.text
    assert not [token for token in world.fake.app_tokens if token in caplog.text]
    assert "single sign-on refused" in caplog.text  # the logs were captured
    # a later change without the secret keeps it
    assert (await configure(world, clientSecret=None, returnUrl=""))["errors"] == []
    row = await IdentityProvider.get(tenant_id=world.company.tenant.id, kind=world.kind)
    assert box.open(row.client_secret) == {"client_secret": SECRET}


async def test_only_admins_configure_and_bad_settings_are_refused(world: World) -> None:
    body = await gql(
        world.client,
        configure_query(world.vendor),
        {"input": world.vendor.values(world.fake)},
        auth=world.company.token("manager"),
    )
    assert body["data"][world.vendor.mutation]["errors"][0]["code"] == "FORBIDDEN"
    bad: dict[str, Any] = {
        "claim": "nickname",
        "matchField": "name",
        "baseUrl": "http://gateway.example",
        "jitRole": "ADMIN",
    }
    expected = {"claim", "matchField", "baseUrl", "jitRole"}
    if world.kind == "feishu":
        bad |= {"tenantKey": " ", "domain": "feishu.com"}
        expected |= {"tenantKey", "domain"}
    elif world.kind == "dingtalk":
        bad |= {"corpId": ""}
        expected |= {"corpId"}
    else:
        bad |= {"corpId": "", "agentId": ""}
        expected |= {"corpId", "agentId"}
    errors = (await configure(world, **bad))["errors"]
    assert {e["field"] for e in errors} == expected


async def test_a_disabled_provider_refuses_and_the_others_stay_on(world: World) -> None:
    off = await gql(
        world.client,
        "mutation($k: IdentityProviderKind!) { disableIdentityProvider(kind: $k) { "
        "identityProvider { kind active } errors { code } } }",
        {"k": world.kind.upper()},
        auth=world.company.token(),
    )
    assert off["data"]["disableIdentityProvider"]["identityProvider"]["active"] is False
    refused(await world.client.get(f"/auth/{SLUG}/{world.kind}/login"), 404, "未启用单点登录")
    again = await gql(
        world.client,
        "mutation { disableIdentityProvider(kind: OIDC) { errors { code } } }",
        auth=world.company.token(),
    )
    assert again["data"]["disableIdentityProvider"]["errors"][0]["code"] == "NOT_FOUND"
    assert (await configure(world))["identityProvider"]["active"] is True
    assert (await sign_in(world)).status_code == 303
