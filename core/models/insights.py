"""What goalgraph notices and proposes: alerts, training recommendations (培训建议),
training records, and target adjustments (动态调整)."""

from __future__ import annotations

from typing import Any

from tortoise import fields

from ..enums import AlertStatus, ProposalStatus
from .base import TenantOwned
from .goals import KeyResult, Kpi
from .org import OrgUnit, Person


class Alert(TenantOwned):
    """A KPI that missed its threshold in several consecutive periods.

    It is for the KPI's owner and the managers above them: ``owner_path`` is the org
    path of the owning unit (or of the owning person's unit), so a scope check is one
    prefix test. It stays open until the KPI passes its threshold again.
    """

    kind = fields.CharField(max_length=32, default="consecutive_misses")
    kpi: fields.ForeignKeyRelation[Kpi] = fields.ForeignKeyField(
        "models.Kpi", related_name=False, on_delete=fields.CASCADE
    )
    kpi_id: int
    owner_unit_id = fields.IntField(null=True)
    owner_person_id = fields.IntField(null=True)
    owner_path = fields.CharField(max_length=512)
    misses = fields.IntField()
    #: The missed periods: [{"period": "2026-11-26", "value": 4.6, "threshold": 4}, ...]
    evidence: Any = fields.JSONField(default=list)
    status = fields.CharEnumField(AlertStatus, max_length=16, default=AlertStatus.OPEN)
    resolved_at = fields.DatetimeField(null=True)

    class Meta:
        table = "alert"
        indexes = (("tenant_id", "status", "kpi_id"), ("tenant_id", "owner_path"))


class Proposal(TenantOwned):
    """What goalgraph proposes and a person accepts or dismisses, and who did when."""

    status = fields.CharEnumField(ProposalStatus, max_length=16, default=ProposalStatus.PROPOSED)
    decided_by_id = fields.IntField(null=True)
    decided_at = fields.DatetimeField(null=True)

    class Meta:
        abstract = True


class Recommendation(Proposal):
    """A course proposed to a person for a KPI they keep missing, with the evidence."""

    person: fields.ForeignKeyRelation[Person] = fields.ForeignKeyField(
        "models.Person", related_name=False, on_delete=fields.CASCADE
    )
    person_id: int
    kpi: fields.ForeignKeyRelation[Kpi] = fields.ForeignKeyField(
        "models.Kpi", related_name=False, on_delete=fields.CASCADE
    )
    kpi_id: int
    alert: fields.ForeignKeyNullableRelation[Alert] = fields.ForeignKeyField(
        "models.Alert", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    alert_id: int | None
    course_code = fields.CharField(max_length=64)
    title = fields.CharField(max_length=300)
    title_en = fields.CharField(max_length=300, default="")
    pack = fields.CharField(max_length=64, default="")
    hours = fields.FloatField(default=0)
    evidence: Any = fields.JSONField(default=list)

    class Meta:
        table = "recommendation"
        indexes = (("tenant_id", "person_id", "status"),)


class TrainingRecord(TenantOwned):
    """A course a person takes (培训记录), from an accepted recommendation."""

    person: fields.ForeignKeyRelation[Person] = fields.ForeignKeyField(
        "models.Person", related_name=False, on_delete=fields.CASCADE
    )
    person_id: int
    recommendation: fields.ForeignKeyNullableRelation[Recommendation] = fields.ForeignKeyField(
        "models.Recommendation", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    recommendation_id: int | None
    course_code = fields.CharField(max_length=64)
    title = fields.CharField(max_length=300)
    title_en = fields.CharField(max_length=300, default="")
    hours = fields.FloatField(default=0)
    assigned_on = fields.DateField()

    class Meta:
        table = "training_record"
        indexes = (("tenant_id", "person_id"),)


class Adjustment(Proposal):
    """A proposed new target for a key result of a unit whose KPIs keep missing."""

    org_unit: fields.ForeignKeyRelation[OrgUnit] = fields.ForeignKeyField(
        "models.OrgUnit", related_name=False, on_delete=fields.CASCADE
    )
    org_unit_id: int
    key_result: fields.ForeignKeyRelation[KeyResult] = fields.ForeignKeyField(
        "models.KeyResult", related_name=False, on_delete=fields.CASCADE
    )
    key_result_id: int
    current_target = fields.FloatField()
    suggested_target = fields.FloatField()
    #: Recent attainment of the KPIs feeding the key result (1.0 = on target).
    attainment = fields.FloatField()
    reason = fields.TextField()
    reason_en = fields.TextField(default="")
    evidence: Any = fields.JSONField(default=dict)

    class Meta:
        table = "adjustment"
        indexes = (("tenant_id", "org_unit_id", "status"),)


class ScanJob(TenantOwned):
    """When the feedback loop next scans a tenant on its own, and which worker scans it.

    Values coming in trigger a scan of what they touched; this schedule catches what
    only time changes (a period that ended without a value). A worker claims a due row
    with the same conditional update as a sync job (due, and free or its lease ran
    out), so each interval's scan runs once, whichever worker runs the scheduler.
    """

    next_run_at = fields.DatetimeField()
    lease_owner = fields.CharField(max_length=64, null=True)
    lease_until = fields.DatetimeField(null=True)

    class Meta:
        table = "scan_job"
        unique_together = (("tenant_id",),)
