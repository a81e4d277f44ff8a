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

    class Meta:
        table = "org_unit"
        indexes = (("tenant_id", "path"),)
        unique_together = (("tenant_id", "code"),)

    def is_within(self, other_path: str) -> bool:
        """True when this unit is ``other_path`` itself or below it."""
        return self.path.startswith(other_path)


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

    class Meta:
        table = "person"
        indexes = (("tenant_id", "org_unit_id"),)
        unique_together = (("tenant_id", "code"),)
