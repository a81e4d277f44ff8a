"""Mutations on SCIM credentials and API keys: make one (its secret shown once), revoke
one."""

from __future__ import annotations

from datetime import datetime

import strawberry

from ...core.access_keys import (
    create_api_key,
    create_scim_credential,
    revoke_api_key,
    revoke_scim_credential,
)
from ..context import Info
from ..errors import UserError
from ..ids import decode
from ..types.credentials import ApiKey, ScimCredential
from ..types.enums import Role
from .common import guarded


@strawberry.type
class CreateScimCredentialPayload:
    credential: ScimCredential | None
    secret: str | None = strawberry.field(
        description="The bearer secret for the identity provider: in this answer only, "
        "never stored (only its hash is)."
    )
    errors: list[UserError]


@strawberry.type
class RevokeScimCredentialPayload:
    credential: ScimCredential | None
    errors: list[UserError]


@strawberry.input
class CreateApiKeyInput:
    name: str = strawberry.field(description="What the key is for (the integration).")
    role: Role = strawberry.field(description="The role it acts as: any but admin.")
    expires_at: datetime | None = strawberry.field(
        default=None, description="Refused from then on; null: until revoked."
    )


@strawberry.type
class CreateApiKeyPayload:
    api_key: ApiKey | None
    secret: str | None = strawberry.field(
        description="The bearer secret (gg_…): in this answer only, never stored (only its "
        "hash is)."
    )
    errors: list[UserError]


@strawberry.type
class RevokeApiKeyPayload:
    api_key: ApiKey | None
    errors: list[UserError]


@strawberry.type
class AccessKeyMutations:
    @strawberry.mutation(
        description="A SCIM credential for an identity provider (admins); the secret is "
        "in this answer only."
    )
    async def create_scim_credential(self, info: Info, name: str) -> CreateScimCredentialPayload:
        made, errors = await guarded(lambda: create_scim_credential(info.context.scope, name))
        if made is None:
            return CreateScimCredentialPayload(credential=None, secret=None, errors=errors)
        return CreateScimCredentialPayload(
            credential=ScimCredential.from_row(made.key), secret=made.secret, errors=[]
        )

    @strawberry.mutation(description="Revoke a SCIM credential (admins); refused from now on.")
    async def revoke_scim_credential(
        self, info: Info, id: strawberry.ID
    ) -> RevokeScimCredentialPayload:
        async def run() -> ScimCredential:
            key_id = decode(str(id), "ScimCredential", "id")
            return ScimCredential.from_row(await revoke_scim_credential(info.context.scope, key_id))

        credential, errors = await guarded(run)
        return RevokeScimCredentialPayload(credential=credential, errors=errors)

    @strawberry.mutation(
        description="An API key for an integration (admins), sent as 'Authorization: Bearer "
        "gg_…'; the secret is in this answer only."
    )
    async def create_api_key(self, info: Info, input: CreateApiKeyInput) -> CreateApiKeyPayload:
        scope = info.context.scope
        made, errors = await guarded(
            lambda: create_api_key(scope, input.name, input.role, input.expires_at)
        )
        if made is None:
            return CreateApiKeyPayload(api_key=None, secret=None, errors=errors)
        return CreateApiKeyPayload(api_key=ApiKey.from_row(made.key), secret=made.secret, errors=[])

    @strawberry.mutation(description="Revoke an API key (admins); refused from now on.")
    async def revoke_api_key(self, info: Info, id: strawberry.ID) -> RevokeApiKeyPayload:
        async def run() -> ApiKey:
            key_id = decode(str(id), "ApiKey", "id")
            return ApiKey.from_row(await revoke_api_key(info.context.scope, key_id))

        api_key, errors = await guarded(run)
        return RevokeApiKeyPayload(api_key=api_key, errors=errors)
