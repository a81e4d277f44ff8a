"""Mutations on SCIM credentials: make one (its secret shown once), revoke one."""

from __future__ import annotations

import strawberry

from ...core.access_keys import create_scim_credential, revoke_scim_credential
from ..context import Info
from ..errors import UserError
from ..ids import decode
from ..types.credentials import ScimCredential
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
