"""The base every tenant-owned row inherits: the tenant column comes first."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from .tenant import Tenant


class TenantOwned(Model):
    """A row that belongs to exactly one tenant.

    The tenant leads every composite index (see each model's ``Meta.indexes``) so the
    tables can later be distributed by tenant, and so the tenant-scoped layer
    (``goalgraph.core.tenancy``) always filters on an indexed prefix.
    """

    id = fields.IntField(primary_key=True)
    tenant: fields.ForeignKeyRelation[Tenant] = fields.ForeignKeyField(
        "models.Tenant", related_name=False, on_delete=fields.CASCADE, db_index=True
    )
    tenant_id: int
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        abstract = True
