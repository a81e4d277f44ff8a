"""Which industry packs a tenant enabled, and for which lifecycle stages."""

from __future__ import annotations

from typing import Any

from tortoise import fields

from .base import TenantOwned


class PackEnablement(TenantOwned):
    """A pack enabled for some of a tenant's lifecycle stages (行业包按阶段启用).

    The tenant sees the pack's templates only while its current stage is listed.
    Disabling deletes this row and nothing else: goals made from the pack's
    templates stay.
    """

    pack = fields.CharField(max_length=64)
    stages: Any = fields.JSONField(default=list)

    class Meta:
        table = "pack_enablement"
        unique_together = (("tenant_id", "pack"),)
