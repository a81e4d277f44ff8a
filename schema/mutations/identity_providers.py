"""Single sign-on settings (admins): configure the OpenID Connect provider, turn it off,
and read it back, never with its client secret."""

from __future__ import annotations

import strawberry

from ...core import identity_providers as idp
from ...core import models
from ...core.enums import Role
from ...core.secrets import SecretBox
from ...core.settings import secret_box_key
from ..context import Info
from ..errors import UserError
from ..ids import decode_optional
from ..types.identity_providers import IdentityProvider
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
                SecretBox(secret_box_key(info.context.settings)),
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

        shown, errors = await guarded(run)
        return IdentityProviderPayload(identity_provider=shown, errors=errors)

    @strawberry.mutation(description="Turn single sign-on off (admins); its settings are kept.")
    async def disable_oidc(self, info: Info) -> IdentityProviderPayload:
        async def run() -> IdentityProvider:
            return _shown(info, await idp.disable_oidc(info.context.scope))

        shown, errors = await guarded(run)
        return IdentityProviderPayload(identity_provider=shown, errors=errors)


@strawberry.type
class IdentityProviderQueries:
    @strawberry.field(description="The tenant's single sign-on provider, or null (admins).")
    async def identity_provider(self, info: Info) -> IdentityProvider | None:
        row = await idp.identity_provider(info.context.scope)
        return _shown(info, row) if row is not None else None
