"""Tenants: one company each, with its industry and current lifecycle stage."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from ..enums import LifecycleStage


class Tenant(Model):
    """A client company, the owner of every other row."""

    id = fields.IntField(primary_key=True)
    slug = fields.CharField(max_length=64, unique=True)
    name = fields.CharField(max_length=200)
    name_en = fields.CharField(max_length=200, default="")
    industry = fields.CharField(max_length=64, default="")
    lifecycle_stage = fields.CharField(max_length=64, default=LifecycleStage.GROWTH.value)
    #: How many consecutive missed periods raise an alert on a KPI.
    alert_after_misses = fields.SmallIntField(default=3)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "tenant"

    def __str__(self) -> str:
        return self.slug
