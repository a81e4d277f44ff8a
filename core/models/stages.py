"""A tenant's own OKR/KPI weighting for a lifecycle stage (overrides the preset)."""

from __future__ import annotations

from tortoise import fields

from .base import TenantOwned


class StageWeighting(TenantOwned):
    """The OKR share a tenant chose for one stage (the KPI share is the rest)."""

    stage = fields.CharField(max_length=64)
    okr_share = fields.FloatField()

    class Meta:
        table = "stage_weighting"
        unique_together = (("tenant_id", "stage"),)
