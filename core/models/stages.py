"""A tenant's own OKR/KPI weighting for a lifecycle stage (overrides the preset)."""

from __future__ import annotations

from tortoise import fields

from .base import TenantOwned


class StageWeighting(TenantOwned):
    """OKR share and KPI share (summing to 1) a tenant chose for one stage."""

    stage = fields.CharField(max_length=64)
    okr_share = fields.FloatField()
    kpi_share = fields.FloatField()

    class Meta:
        table = "stage_weighting"
        unique_together = (("tenant_id", "stage"),)
