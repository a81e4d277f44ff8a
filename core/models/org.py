"""The org tree (company → region/department → store/team) and its people."""

from __future__ import annotations

from tortoise import fields

from ..enums import OrgUnitKind, Role
from .base import TenantOwned


class OrgUnit(TenantOwned):
    """A node of the org tree.

    ``path`` is a materialised path of ids (``/1/4/9/``): a subtree is one indexed
    prefix query, and "is X above Y" is a string prefix test without any query.
    """

    name = fields.CharField(max_length=200)
    name_en = fields.CharField(max_length=200, default="")
    kind = fields.CharEnumField(OrgUnitKind, max_length=16)
    parent: fields.ForeignKeyNullableRelation[OrgUnit] = fields.ForeignKeyField(
        "models.OrgUnit", related_name="children", null=True, on_delete=fields.RESTRICT
    )
    parent_id: int | None
    path = fields.CharField(max_length=512, default="")
    depth = fields.SmallIntField(default=0)
    #: The code business systems know the unit by (a store number), unique in the tenant.
    code = fields.CharField(max_length=64, null=True)
    #: The id of the unit in the HR directory it is synced from (a DingTalk or Feishu
    #: department id, the externalId of a SCIM group), unique in the tenant.
    external_id = fields.CharField(max_length=128, null=True)
    #: When the unit was archived (null: active). Archived units keep their history
    #: (goals, scores, audit) but take no new people or goals.
    archived_at = fields.DatetimeField(null=True)

    class Meta:
        table = "org_unit"
        indexes = (("tenant_id", "path"),)
        unique_together = (("tenant_id", "code"), ("tenant_id", "external_id"))

    def is_within(self, other_path: str) -> bool:
        """True when this unit is ``other_path`` itself or below it."""
        return self.path.startswith(other_path)

    @property
    def active(self) -> bool:
        return self.archived_at is None


class Person(TenantOwned):
    """Someone who owns goals, checks in, or administers the tenant."""

    name = fields.CharField(max_length=200)
    name_en = fields.CharField(max_length=200, default="")
    email = fields.CharField(max_length=254, default="")
    role = fields.CharEnumField(Role, max_length=16, default=Role.EMPLOYEE)
    #: The code business systems know the person by (an employee number), unique in the tenant.
    code = fields.CharField(max_length=64, null=True)
    org_unit: fields.ForeignKeyRelation[OrgUnit] = fields.ForeignKeyField(
        "models.OrgUnit", related_name="people", on_delete=fields.RESTRICT
    )
    org_unit_id: int
    #: Job title (职位), as the HR system spells it.
    job_title = fields.CharField(max_length=200, default="")
    #: The solid-line manager when it is not the one the org tree gives (null: the
    #: manager of the unit of the person, or of the nearest unit above: core/reporting.py).
    manager: fields.ForeignKeyNullableRelation[Person] = fields.ForeignKeyField(
        "models.Person", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    manager_id: int | None
    #: The id of the person in the HR directory or identity provider that provisions them
    #: (a DingTalk userid, a Feishu open_id, a SCIM externalId), unique in the tenant.
    external_id = fields.CharField(max_length=128, null=True)
    #: A leaver is deactivated, never deleted: their measurements, scores and past
    #: scorecards stay, and they can be reactivated.
    active = fields.BooleanField(default=True)
    deactivated_at = fields.DatetimeField(null=True)
    #: The language the person reads messages in, zh-CN or en (None: by Accept-Language).
    locale = fields.CharField(max_length=8, null=True)

    class Meta:
        table = "person"
        indexes = (("tenant_id", "org_unit_id"), ("tenant_id", "email"))
        unique_together = (("tenant_id", "code"), ("tenant_id", "external_id"))


class DottedLine(TenantOwned):
    """A dotted-line manager (虚线汇报): someone a person also reports to, beside the
    solid line (a regional category lead over store staff in 连锁零售). They see the
    person's KPI values and scores as a solid-line manager does."""

    person: fields.ForeignKeyRelation[Person] = fields.ForeignKeyField(
        "models.Person", related_name=False, on_delete=fields.CASCADE
    )
    person_id: int
    manager: fields.ForeignKeyRelation[Person] = fields.ForeignKeyField(
        "models.Person", related_name=False, on_delete=fields.CASCADE
    )
    manager_id: int

    class Meta:
        table = "dotted_line"
        unique_together = (("tenant_id", "person_id", "manager_id"),)
        indexes = (("tenant_id", "manager_id"),)
