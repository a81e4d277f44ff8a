"""SCIM credentials as the API shows them: never their secret, which is shown once."""

from __future__ import annotations

from datetime import datetime
from typing import Self

import strawberry

from ...core import models
from ..ids import encode


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
