"""A tenant's single sign-on provider as the API shows it: never its client secret."""

from __future__ import annotations

from datetime import datetime
from typing import Self

import strawberry

from ...core import models
from ...core.enums import Role
from ..ids import encode


@strawberry.type(
    description="The tenant's OpenID Connect identity provider (its client secret never)."
)
class IdentityProvider:
    id: strawberry.ID
    issuer: str
    client_id: str
    claim: str = strawberry.field(description="The ID token claim that names the person.")
    match_field: str = strawberry.field(description="The person field it matches: email or code.")
    jit: bool = strawberry.field(description="People no one matches are created at sign-in.")
    jit_org_unit_id: strawberry.ID | None
    jit_role: Role
    return_url: str = strawberry.field(
        description="Where a signed-in browser goes (blank: /graphql)."
    )
    redirect_uri: str = strawberry.field(
        description="The redirect URI to register at the identity provider."
    )
    login_url: str = strawberry.field(description="Where people start signing in.")
    active: bool
    updated_at: datetime

    @classmethod
    def from_row(cls, row: models.IdentityProvider, public_url: str, slug: str) -> Self:
        base = f"{public_url.rstrip('/')}/auth/{slug}/oidc"
        return cls(
            id=strawberry.ID(str(encode("IdentityProvider", row.id))),
            issuer=row.issuer,
            client_id=row.client_id,
            claim=row.claim,
            match_field=row.match_field,
            jit=row.jit,
            jit_org_unit_id=(
                strawberry.ID(str(encode("OrgUnit", row.jit_org_unit_id)))
                if row.jit_org_unit_id is not None
                else None
            ),
            jit_role=Role(row.jit_role),
            return_url=row.return_url,
            redirect_uri=f"{base}/callback",
            login_url=f"{base}/login",
            active=row.active,
            updated_at=row.updated_at,
        )
