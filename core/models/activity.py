"""What happens to goals over time: measurements, check-ins and the audit trail."""

from __future__ import annotations

from typing import Any

from tortoise import fields

from .base import TenantOwned
from .goals import KeyResult, Kpi
from .org import Person


class Measurement(TenantOwned):
    """One value of a KPI for one period, replaced when the period is written again.

    ``period_start`` is the first day of the period on the KPI's frequency grid
    (the day, the Monday, the 1st of the month or of the quarter), which makes
    "one value per KPI and period" a plain unique key that upserts target.
    """

    kpi: fields.ForeignKeyRelation[Kpi] = fields.ForeignKeyField(
        "models.Kpi", related_name="measurements", on_delete=fields.CASCADE
    )
    kpi_id: int
    period_start = fields.DateField()
    value = fields.FloatField()
    source = fields.CharField(max_length=64, default="manual")
    recorded_at = fields.DatetimeField()
    recorded_by: fields.ForeignKeyNullableRelation[Person] = fields.ForeignKeyField(
        "models.Person", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    recorded_by_id: int | None

    class Meta:
        table = "measurement"
        unique_together = (("tenant_id", "kpi_id", "period_start"),)


class MeasurementRevision(TenantOwned):
    """A value a measurement held before it was replaced (nothing is lost).

    Writing a KPI's period again replaces the measurement's value; the value it
    replaces is kept here with when it had been recorded, so figures can be traced
    and reproduced as they were.
    """

    kpi: fields.ForeignKeyRelation[Kpi] = fields.ForeignKeyField(
        "models.Kpi", related_name="revisions", on_delete=fields.CASCADE
    )
    kpi_id: int
    period_start = fields.DateField()
    value = fields.FloatField()
    source = fields.CharField(max_length=64)
    recorded_at = fields.DatetimeField()
    recorded_by_id = fields.IntField(null=True)
    replaced_at = fields.DatetimeField()

    class Meta:
        table = "measurement_revision"
        indexes = (("tenant_id", "kpi_id", "period_start"),)


class CheckIn(TenantOwned):
    """A progress update on a key result, with the author's confidence."""

    key_result: fields.ForeignKeyRelation[KeyResult] = fields.ForeignKeyField(
        "models.KeyResult", related_name="check_ins", on_delete=fields.CASCADE
    )
    key_result_id: int
    value = fields.FloatField()
    confidence = fields.FloatField(null=True)
    note = fields.TextField(default="")
    author: fields.ForeignKeyNullableRelation[Person] = fields.ForeignKeyField(
        "models.Person", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    author_id: int | None

    class Meta:
        table = "check_in"
        indexes = (("tenant_id", "key_result_id"),)


class AuditEvent(TenantOwned):
    """Who changed what, from which value to which, and when.

    Written in the same transaction as the change it records, for every change of
    targets, weights, thresholds and stages, so the trail can never disagree with
    the data.
    """

    actor: fields.ForeignKeyNullableRelation[Person] = fields.ForeignKeyField(
        "models.Person", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    actor_id: int | None
    actor_role = fields.CharField(max_length=16, default="")
    action = fields.CharField(max_length=64)
    entity_type = fields.CharField(max_length=32)
    entity_id = fields.IntField()
    before: Any = fields.JSONField(null=True)
    after: Any = fields.JSONField(null=True)

    class Meta:
        table = "audit_event"
        indexes = (("tenant_id", "entity_type", "entity_id"), ("tenant_id", "created_at"))
