"""SCIM credentials and API keys of the caller's tenant (admins)."""

from __future__ import annotations

import strawberry

from ..core.access_keys import api_keys, scim_credentials
from .context import Info
from .types.credentials import ApiKey, ScimCredential


@strawberry.type
class AccessKeyQueries:
    @strawberry.field(description="The tenant's SCIM credentials, revoked ones included (admins).")
    async def scim_credentials(self, info: Info) -> list[ScimCredential]:
        return [ScimCredential.from_row(r) for r in await scim_credentials(info.context.scope)]

    @strawberry.field(
        description="The tenant's API keys, revoked and expired ones included (admins)."
    )
    async def api_keys(self, info: Info) -> list[ApiKey]:
        return [ApiKey.from_row(r) for r in await api_keys(info.context.scope)]
