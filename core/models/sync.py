"""Data bindings and their syncs: where a tenant's KPI values come from, and how each
pull went."""

from __future__ import annotations

from typing import Any

from tortoise import fields

from ..enums import SyncStatus
from .base import TenantOwned
from .goals import Kpi
from .org import OrgUnit, Person


class DataBinding(TenantOwned):
    """KPIs of a tenant connected to a data source through an adapter.

    With ``kpi`` set, every reading of that KPI's metric feeds it. Without, readings are
    matched by subject (an org unit's or a person's ``code``) under ``org_unit`` (the
    whole company when empty) and by metric to the KPIs those owners have: one binding
    feeds a template's KPIs in every store. ``metrics`` maps the adapter's metric codes
    to the KPIs' metric codes. Credentials named by the adapter are kept in ``secrets``,
    encrypted (or as ``env:NAME`` references), and never returned by the API.
    """

    name = fields.CharField(max_length=200)
    adapter = fields.CharField(max_length=100)
    config: Any = fields.JSONField(default=dict)
    secrets = fields.TextField(default="")
    metrics: Any = fields.JSONField(default=dict)
    kpi: fields.ForeignKeyNullableRelation[Kpi] = fields.ForeignKeyField(
        "models.Kpi", related_name=False, null=True, on_delete=fields.CASCADE
    )
    kpi_id: int | None
    org_unit: fields.ForeignKeyNullableRelation[OrgUnit] = fields.ForeignKeyField(
        "models.OrgUnit", related_name=False, null=True, on_delete=fields.RESTRICT
    )
    org_unit_id: int | None
    #: Minutes between scheduled syncs (null: only when asked, or pushed by webhook).
    every_minutes = fields.IntField(null=True)
    active = fields.BooleanField(default=True)
    #: ``data`` (KPI values from a data adapter) or ``org`` (units and people from an
    #: HR directory through an org source), sharing the schedule, leases and runs.
    kind = fields.CharField(max_length=16, default="data")

    class Meta:
        table = "data_binding"
        unique_together = (("tenant_id", "name"),)


class SyncJob(TenantOwned):
    """The place of a binding in the sync schedule, its lease and its cursor.

    A worker claims a job with one conditional update (free, or its lease expired), so
    two workers never run one job at once. The cursor says where the next pull resumes;
    it is written in the same transaction as the values it covers.
    """

    binding: fields.OneToOneRelation[DataBinding] = fields.OneToOneField(
        "models.DataBinding", related_name="job", on_delete=fields.CASCADE
    )
    binding_id: int
    next_run_at = fields.DatetimeField(null=True)
    lease_owner = fields.CharField(max_length=64, null=True)
    lease_until = fields.DatetimeField(null=True)
    cursor: Any = fields.JSONField(null=True)

    class Meta:
        table = "sync_job"
        indexes = (("next_run_at",),)


class SyncRun(TenantOwned):
    """One sync of a binding: when, what it read, wrote and rejected, how it ended."""

    binding: fields.ForeignKeyRelation[DataBinding] = fields.ForeignKeyField(
        "models.DataBinding", related_name="runs", on_delete=fields.CASCADE
    )
    binding_id: int
    trigger = fields.CharField(max_length=16)
    status = fields.CharEnumField(SyncStatus, max_length=16, default=SyncStatus.RUNNING)
    started_at = fields.DatetimeField()
    finished_at = fields.DatetimeField(null=True)
    rows_read = fields.IntField(default=0)
    rows_written = fields.IntField(default=0)
    rows_rejected = fields.IntField(default=0)
    error = fields.TextField(default="")

    class Meta:
        table = "sync_run"
        indexes = (("tenant_id", "binding_id", "started_at"),)


class RejectedRow(TenantOwned):
    """A row a sync could not use, kept with where it was and why."""

    run: fields.ForeignKeyRelation[SyncRun] = fields.ForeignKeyField(
        "models.SyncRun", related_name="rejected", on_delete=fields.CASCADE
    )
    run_id: int
    ref = fields.CharField(max_length=200)
    reason = fields.TextField()
    content = fields.TextField(default="")

    class Meta:
        table = "rejected_row"
        indexes = (("tenant_id", "run_id"),)


class WebhookDelivery(TenantOwned):
    """A pushed batch already accepted (by its signature), so a replay is refused."""

    binding: fields.ForeignKeyRelation[DataBinding] = fields.ForeignKeyField(
        "models.DataBinding", related_name=False, on_delete=fields.CASCADE
    )
    binding_id: int
    signature = fields.CharField(max_length=128)

    class Meta:
        table = "webhook_delivery"
        unique_together = (("tenant_id", "binding_id", "signature"),)


class OrgSourceMember(TenantOwned):
    """A person an org binding keeps in step with its directory, and the last pass
    through the directory that saw them.

    A pass is one read of the whole directory from the top, possibly over several runs
    when a run stopped part way. Once a pass completes, the binding's members it did not
    see are the leavers (deactivated only when the binding says so).
    """

    binding: fields.ForeignKeyRelation[DataBinding] = fields.ForeignKeyField(
        "models.DataBinding", related_name=False, on_delete=fields.CASCADE
    )
    binding_id: int
    person: fields.ForeignKeyRelation[Person] = fields.ForeignKeyField(
        "models.Person", related_name=False, on_delete=fields.CASCADE
    )
    person_id: int
    #: The pass that last saw the person in the directory.
    seen_pass = fields.CharField(max_length=32)

    class Meta:
        table = "org_source_member"
        unique_together = (("tenant_id", "binding_id", "person_id"),)
        indexes = (("tenant_id", "binding_id", "seen_pass"),)
