"""Single sign-on settings (admins): configure the OpenID Connect, Feishu/Lark, DingTalk
and WeCom providers, turn one off, and read them back, never with a secret."""

from __future__ import annotations

import dataclasses

import strawberry

from ...core import identity_providers as idp
from ...core import models
from ...core.enums import Role
from ...core.secrets import SecretBox
from ...core.settings import secret_box_key
from ..context import Info
from ..errors import UserError
from ..ids import decode_optional
from ..types.identity_providers import IdentityProvider, IdentityProviderKind
from .common import guarded


@strawberry.input
class ConfigureOidcInput:
    issuer: str = strawberry.field(description="The issuer URL (https).")
    client_id: str
    client_secret: str | None = strawberry.field(
        default=None,
        description="Sealed when stored and never returned; leave out to keep the stored one.",
    )
    claim: str = strawberry.field(
        default="email",
        description="The ID token claim naming the person (email, or an employee-number claim).",
    )
    match_field: str = strawberry.field(
        default="email", description="The person field the claim matches: email or code."
    )
    jit: bool = strawberry.field(
        default=False, description="Create people no one matches at their first sign-in."
    )
    jit_org_unit_id: strawberry.ID | None = None
    jit_role: Role = Role.EMPLOYEE
    return_url: str = strawberry.field(
        default="", description="Where signed-in browsers go, tokens in the fragment."
    )


@strawberry.input(description="What every Feishu, DingTalk and WeCom sign-in is configured with.")
class SignInSettingsInput:
    client_secret: str | None = strawberry.field(
        default=None,
        description="The app secret: sealed when stored and never returned; leave out to "
        "keep the stored one.",
    )
    match_field: str = strawberry.field(
        default="external_id",
        description="The person field the claim matches: external_id (the id a directory "
        "sync stores), code or email.",
    )
    jit: bool = strawberry.field(
        default=False, description="Create people no one matches at their first sign-in."
    )
    jit_org_unit_id: strawberry.ID | None = None
    jit_role: Role = Role.EMPLOYEE
    return_url: str = strawberry.field(
        default="", description="Where signed-in browsers go, tokens in the fragment."
    )
    base_url: str = strawberry.field(
        default="",
        description="One URL serving all the provider's hosts (a gateway); blank for its "
        "public hosts.",
    )


@strawberry.input(description="Sign-in with Feishu, or Lark.")
class ConfigureFeishuInput(SignInSettingsInput):
    client_id: str = strawberry.field(description="The app's App ID (cli_…).")
    tenant_key: str = strawberry.field(
        description="The company's tenant_key: only its people may sign in."
    )
    domain: str = strawberry.field(
        default="feishu.cn", description="feishu.cn, or larksuite.com for Lark."
    )
    claim: str = strawberry.field(
        default="open_id",
        description="The user_info field naming the person: open_id, union_id, user_id, "
        "employee_no, enterprise_email or email.",
    )


@strawberry.input(description="Sign-in with DingTalk.")
class ConfigureDingtalkInput(SignInSettingsInput):
    client_id: str = strawberry.field(description="The app's Client ID (formerly AppKey).")
    corp_id: str = strawberry.field(
        description="The company's corpId: only its people may sign in."
    )
    claim: str = strawberry.field(
        default="userid",
        description="The field naming the person: userid (looked up in the company's "
        "directory), unionId, openId or email.",
    )


@strawberry.input(description="Sign-in with WeCom.")
class ConfigureWecomInput(SignInSettingsInput):
    corp_id: str = strawberry.field(
        description="The corp id: only members of this corporation may sign in."
    )
    agent_id: str = strawberry.field(description="The self-built app people sign in to.")
    claim: str = strawberry.field(default="userid", description="The field naming the person.")


def _common(data: SignInSettingsInput, client_id: str, claim: str) -> idp.Common:
    return idp.Common(
        client_id=client_id,
        client_secret=data.client_secret,
        claim=claim,
        match_field=data.match_field,
        jit=data.jit,
        jit_org_unit_id=decode_optional(data.jit_org_unit_id, "OrgUnit", "jitOrgUnitId"),
        jit_role=data.jit_role,
        return_url=data.return_url.strip(),
    )


def _box(info: Info) -> SecretBox:
    return SecretBox(secret_box_key(info.context.settings))


@strawberry.type
class IdentityProviderPayload:
    identity_provider: IdentityProvider | None
    errors: list[UserError]


def _shown(info: Info, row: models.IdentityProvider) -> IdentityProvider:
    slug = info.context.scope.tenant.slug
    return IdentityProvider.from_row(row, info.context.settings.public_url, slug)


@strawberry.type
class IdentityProviderMutations:
    @strawberry.mutation(
        description="Set up single sign-on with an OpenID Connect provider and turn it on "
        "(admins; audited without the secret)."
    )
    async def configure_oidc(
        self, info: Info, input: ConfigureOidcInput
    ) -> IdentityProviderPayload:
        async def run() -> IdentityProvider:
            row = await idp.configure_oidc(
                info.context.scope,
                _box(info),
                issuer=input.issuer,
                client_id=input.client_id,
                client_secret=input.client_secret,
                claim=input.claim,
                match_field=input.match_field,
                jit=input.jit,
                jit_org_unit_id=decode_optional(input.jit_org_unit_id, "OrgUnit", "jitOrgUnitId"),
                jit_role=input.jit_role,
                return_url=input.return_url,
            )
            return _shown(info, row)

        return _payload(*await guarded(run))

    @strawberry.mutation(description="Turn single sign-on off (admins); its settings are kept.")
    async def disable_oidc(self, info: Info) -> IdentityProviderPayload:
        async def run() -> IdentityProvider:
            return _shown(info, await idp.disable_oidc(info.context.scope))

        return _payload(*await guarded(run))

    @strawberry.mutation(
        description="Set up sign-in with Feishu or Lark and turn it on (admins; audited "
        "without the secret)."
    )
    async def configure_feishu(
        self, info: Info, input: ConfigureFeishuInput
    ) -> IdentityProviderPayload:
        async def run() -> IdentityProvider:
            row = await idp.configure_feishu(
                info.context.scope,
                _box(info),
                _common(input, input.client_id, input.claim),
                tenant_key=input.tenant_key,
                domain=input.domain,
                base_url=input.base_url,
            )
            return _shown(info, row)

        return _payload(*await guarded(run))

    @strawberry.mutation(
        description="Set up sign-in with DingTalk and turn it on (admins; audited without "
        "the secret)."
    )
    async def configure_dingtalk(
        self, info: Info, input: ConfigureDingtalkInput
    ) -> IdentityProviderPayload:
        async def run() -> IdentityProvider:
            row = await idp.configure_dingtalk(
                info.context.scope,
                _box(info),
                _common(input, input.client_id, input.claim),
                corp_id=input.corp_id,
                base_url=input.base_url,
            )
            return _shown(info, row)

        return _payload(*await guarded(run))

    @strawberry.mutation(
        description="Set up sign-in with WeCom and turn it on (admins; audited without the secret)."
    )
    async def configure_wecom(
        self, info: Info, input: ConfigureWecomInput
    ) -> IdentityProviderPayload:
        async def run() -> IdentityProvider:
            common = _common(input, input.corp_id, input.claim)
            row = await idp.configure_wecom(
                info.context.scope,
                _box(info),
                dataclasses.replace(common, id_field="corpId"),
                agent_id=input.agent_id,
                base_url=input.base_url,
            )
            return _shown(info, row)

        return _payload(*await guarded(run))

    @strawberry.mutation(
        description="Turn sign-in through the provider of this kind off (admins); its "
        "settings are kept."
    )
    async def disable_identity_provider(
        self, info: Info, kind: IdentityProviderKind
    ) -> IdentityProviderPayload:
        async def run() -> IdentityProvider:
            return _shown(info, await idp.disable_provider(info.context.scope, kind.value))

        return _payload(*await guarded(run))


def _payload(shown: IdentityProvider | None, errors: list[UserError]) -> IdentityProviderPayload:
    return IdentityProviderPayload(identity_provider=shown, errors=errors)


@strawberry.type
class IdentityProviderQueries:
    @strawberry.field(
        description="The tenant's OpenID Connect provider, or null (admins); "
        "identityProviders lists every kind."
    )
    async def identity_provider(self, info: Info) -> IdentityProvider | None:
        row = await idp.identity_provider(info.context.scope)
        return _shown(info, row) if row is not None else None

    @strawberry.field(description="Every identity provider of the tenant, on or off (admins).")
    async def identity_providers(self, info: Info) -> list[IdentityProvider]:
        rows = await idp.identity_providers(info.context.scope)
        return [_shown(info, row) for row in rows]
