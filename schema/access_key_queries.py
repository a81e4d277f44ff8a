"""SCIM credentials of the caller's tenant (admins)."""

from __future__ import annotations

import strawberry

from ..core.access_keys import scim_credentials
from .context import Info
from .types.credentials import ScimCredential


@strawberry.type
class AccessKeyQueries:
    @strawberry.field(description="The tenant's SCIM credentials, revoked ones included (admins).")
    async def scim_credentials(self, info: Info) -> list[ScimCredential]:
        return [ScimCredential.from_row(r) for r in await scim_credentials(info.context.scope)]
