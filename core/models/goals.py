"""The goal graph: objectives (目标), key results (关键成果), KPIs and their links.

Objectives align to a parent objective (a tree per cycle, kept as a materialised path);
key results hang under objectives; KPIs feed key results through weighted links, and
one KPI may feed several key results, so the whole is a DAG.

Every goal is owned by exactly one org unit or one person (``owner_unit`` or
``owner_person``); the services enforce that.
"""

from __future__ import annotations

from tortoise import fields

from ..enums import Aggregation, Direction, Frequency, GoalStatus
from .base import TenantOwned
from .cycle import Cycle
from .org import OrgUnit, Person


class Owned(TenantOwned):
    """A goal with an owner: an org unit or a person, never both."""

    owner_unit: fields.ForeignKeyNullableRelation[OrgUnit] = fields.ForeignKeyField(
        "models.OrgUnit", related_name=False, null=True, on_delete=fields.RESTRICT
    )
    owner_unit_id: int | None
    owner_person: fields.ForeignKeyNullableRelation[Person] = fields.ForeignKeyField(
        "models.Person", related_name=False, null=True, on_delete=fields.RESTRICT
    )
    owner_person_id: int | None
    status = fields.CharEnumField(GoalStatus, max_length=16, default=GoalStatus.ACTIVE)
    #: ``pack:template`` this goal was created from, if any (kept when the pack is disabled).
    origin = fields.CharField(max_length=140, default="")

    class Meta:
        abstract = True


class Objective(Owned):
    """A qualitative goal for a cycle, aligned to a parent objective.

    ``path`` (``/12/40/41/``) lists the alignment chain from the top-level objective,
    so a whole subtree loads with one prefix query whatever its depth.
    """

    title = fields.CharField(max_length=300)
    title_en = fields.CharField(max_length=300, default="")
    description = fields.TextField(default="")
    cycle: fields.ForeignKeyRelation[Cycle] = fields.ForeignKeyField(
        "models.Cycle", related_name="objectives", on_delete=fields.RESTRICT
    )
    cycle_id: int
    parent: fields.ForeignKeyNullableRelation[Objective] = fields.ForeignKeyField(
        "models.Objective", related_name="children", null=True, on_delete=fields.RESTRICT
    )
    parent_id: int | None
    alignment_weight = fields.FloatField(default=1.0)
    path = fields.CharField(max_length=1024, default="")
    depth = fields.SmallIntField(default=0)
    #: The objective of an earlier cycle this one was rolled forward from.
    rolled_from: fields.ForeignKeyNullableRelation[Objective] = fields.ForeignKeyField(
        "models.Objective", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    rolled_from_id: int | None

    class Meta:
        table = "objective"
        indexes = (
            ("tenant_id", "path"),
            ("tenant_id", "cycle_id", "parent_id"),
            ("tenant_id", "owner_unit_id"),
            ("tenant_id", "owner_person_id"),
        )


class KeyResult(Owned):
    """A measurable result of an objective, from ``start_value`` to ``target_value``.

    Its owner defaults to the objective's; it may differ (a region objective's key
    result owned by one store). When KPIs feed it, its progress follows them.
    """

    objective: fields.ForeignKeyRelation[Objective] = fields.ForeignKeyField(
        "models.Objective", related_name="key_results", on_delete=fields.RESTRICT
    )
    objective_id: int
    title = fields.CharField(max_length=300)
    title_en = fields.CharField(max_length=300, default="")
    unit = fields.CharField(max_length=32, default="")
    direction = fields.CharEnumField(Direction, max_length=20, default=Direction.HIGHER_IS_BETTER)
    start_value = fields.FloatField(default=0.0)
    target_value = fields.FloatField()
    current_value = fields.FloatField(default=0.0)
    weight = fields.FloatField(default=1.0)

    class Meta:
        table = "key_result"
        indexes = (
            ("tenant_id", "objective_id"),
            ("tenant_id", "owner_unit_id"),
            ("tenant_id", "owner_person_id"),
        )


class Kpi(Owned):
    """A key performance indicator (关键绩效指标) with target and pass threshold.

    ``current_value``/``current_period`` mirror the newest measurement, written in
    the same transaction as the measurement, so trees show live values without a
    per-KPI look-up.
    """

    metric_code = fields.CharField(max_length=64)
    title = fields.CharField(max_length=300)
    title_en = fields.CharField(max_length=300, default="")
    unit = fields.CharField(max_length=32, default="")
    direction = fields.CharEnumField(Direction, max_length=20, default=Direction.HIGHER_IS_BETTER)
    target = fields.FloatField()
    threshold = fields.FloatField()
    weight = fields.FloatField(default=1.0)
    frequency = fields.CharEnumField(Frequency, max_length=16, default=Frequency.DAILY)
    aggregation = fields.CharEnumField(Aggregation, max_length=16, default=Aggregation.AVERAGE)
    #: A core policy (``linear``, ``pass_fail``, ``banded``) or one of an enabled pack's.
    scoring_policy = fields.CharField(max_length=64, default="linear")
    current_value = fields.FloatField(null=True)
    current_period = fields.DateField(null=True)

    class Meta:
        table = "kpi"
        indexes = (
            ("tenant_id", "metric_code"),
            ("tenant_id", "owner_unit_id"),
            ("tenant_id", "owner_person_id"),
        )


class KpiLink(TenantOwned):
    """A KPI feeding a key result with a weight (one KPI may feed several)."""

    key_result: fields.ForeignKeyRelation[KeyResult] = fields.ForeignKeyField(
        "models.KeyResult", related_name="kpi_links", on_delete=fields.CASCADE
    )
    key_result_id: int
    kpi: fields.ForeignKeyRelation[Kpi] = fields.ForeignKeyField(
        "models.Kpi", related_name="links", on_delete=fields.CASCADE
    )
    kpi_id: int
    weight = fields.FloatField(default=1.0)

    class Meta:
        table = "kpi_link"
        unique_together = (("tenant_id", "key_result_id", "kpi_id"),)
        indexes = (("tenant_id", "kpi_id"),)
