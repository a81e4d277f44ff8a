"""SCIM credentials and API keys as the API shows them: never their secret, which is
shown once."""

from __future__ import annotations

from datetime import datetime
from typing import Self

import strawberry

from ...core import models
from ..ids import encode
from .enums import Role


@strawberry.type(description="A SCIM provisioning credential of the tenant (its secret never).")
class ScimCredential:
    id: strawberry.ID
    name: str
    prefix: str = strawberry.field(description="The secret's first characters, to tell keys apart.")
    created_at: datetime
    last_used_at: datetime | None = strawberry.field(
        description="When an identity provider last used it (to the minute)."
    )
    revoked_at: datetime | None

    @classmethod
    def from_row(cls, row: models.AccessKey) -> Self:
        return cls(
            id=strawberry.ID(str(encode("ScimCredential", row.id))),
            name=row.name,
            prefix=row.prefix,
            created_at=row.created_at,
            last_used_at=row.last_used_at,
            revoked_at=row.revoked_at,
        )


@strawberry.type(
    description="An integration's API key: acts with its role and no person (its secret never)."
)
class ApiKey:
    id: strawberry.ID
    name: str
    prefix: str = strawberry.field(description="The secret's first characters, to tell keys apart.")
    role: Role = strawberry.field(description="The role requests made with the key act as.")
    created_at: datetime
    expires_at: datetime | None = strawberry.field(description="Refused from then on; null: never.")
    last_used_at: datetime | None = strawberry.field(
        description="When it was last used (to the minute)."
    )
    revoked_at: datetime | None

    @classmethod
    def from_row(cls, row: models.AccessKey) -> Self:
        return cls(
            id=strawberry.ID(str(encode("ApiKey", row.id))),
            name=row.name,
            prefix=row.prefix,
            role=Role(row.role or Role.VIEWER),
            created_at=row.created_at,
            expires_at=row.expires_at,
            last_used_at=row.last_used_at,
            revoked_at=row.revoked_at,
        )
