"""A tenant's single sign-on providers as the API shows them: never a secret."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Self

import strawberry

from ...core import models
from ...core.enums import Role
from ..ids import encode


@strawberry.enum(description="The kinds of identity provider people sign in with.")
class IdentityProviderKind(Enum):
    OIDC = "oidc"
    FEISHU = "feishu"
    DINGTALK = "dingtalk"
    WECOM = "wecom"


@strawberry.type(description="An identity provider of the tenant, one per kind (its secret never).")
class IdentityProvider:
    id: strawberry.ID
    kind: IdentityProviderKind
    issuer: str = strawberry.field(description="The OpenID Connect issuer (blank otherwise).")
    client_id: str = strawberry.field(
        description="The app id at the provider (WeCom: the corp id)."
    )
    claim: str = strawberry.field(
        description="The ID token claim or provider field that names the person."
    )
    match_field: str = strawberry.field(
        description="The person field it matches: email, code or external_id."
    )
    corp_id: str = strawberry.field(
        description="The company people must belong to: the Feishu tenant_key, the DingTalk "
        "or WeCom corp id (blank for OpenID Connect)."
    )
    agent_id: str = strawberry.field(description="The WeCom app (agentid); blank otherwise.")
    domain: str = strawberry.field(
        description="Feishu: feishu.cn, or larksuite.com for Lark; blank otherwise."
    )
    base_url: str = strawberry.field(
        description="One URL serving all the provider's hosts (blank: its public hosts)."
    )
    jit: bool = strawberry.field(description="People no one matches are created at sign-in.")
    jit_org_unit_id: strawberry.ID | None
    jit_role: Role
    return_url: str = strawberry.field(
        description="Where a signed-in browser goes (blank: the page at /)."
    )
    redirect_uri: str = strawberry.field(
        description="The redirect URI to register at the identity provider."
    )
    login_url: str = strawberry.field(description="Where people start signing in.")
    active: bool
    updated_at: datetime

    @classmethod
    def from_row(cls, row: models.IdentityProvider, public_url: str, slug: str) -> Self:
        base = f"{public_url.rstrip('/')}/auth/{slug}/{row.kind}"
        return cls(
            id=strawberry.ID(str(encode("IdentityProvider", row.id))),
            kind=IdentityProviderKind(row.kind),
            issuer=row.issuer,
            client_id=row.client_id,
            claim=row.claim,
            match_field=row.match_field,
            corp_id=row.corp_id,
            agent_id=row.agent_id,
            domain=row.domain,
            base_url=row.base_url,
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
