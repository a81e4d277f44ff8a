"""SCIM Groups ↔ org units, written through core/services/org.py and people.py.

``displayName`` is the unit's name, ``externalId`` its directory id, and ``members`` the
people in it. A person is in exactly one unit, so adding a member moves them into the
unit (out of the one they were in), and removing a member moves them to the company
unit. New groups become departments under the company. DELETE archives the unit,
refused with a 409 while it still holds active people, units or goals. Units below a
unit are not members (nested groups are not supported).
"""

from __future__ import annotations

from typing import Any

from scim2_models import (
    InvalidFilterException,
    InvalidValueException,
    Meta,
    NotFoundException,
    Reference,
)
from scim2_models.path import AttrPath, CompareOperator, Comparison, FilterNode, LogicalExpr
from scim2_models.path.expressions import LogicalOperator
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from ...core.enums import OrgUnitKind
from ...core.errors import DomainError
from ...core.models import OrgUnit, Person
from ...core.services import org, people
from .directory import Directory, row_id, scim_error
from .resources import Group, Member, User
from .users import deleted_people


def to_group(d: Directory, unit: OrgUnit, member_ids: list[int]) -> Group:
    return Group(
        id=str(unit.id),
        external_id=unit.external_id,
        display_name=unit.name,
        members=[
            Member(value=str(pid), ref=Reference[User](d.location("Users", pid)), type="User")
            for pid in member_ids
        ]
        or None,
        meta=Meta(
            resource_type="Group",
            created=unit.created_at,
            last_modified=unit.updated_at,
            location=d.location("Groups", unit.id),
        ),
    )


async def _members(d: Directory, unit_ids: list[int]) -> dict[int, list[int]]:
    """The people of each unit (deleted ones left out), in id order: one query."""
    gone = await deleted_people(d)
    rows = (
        await d.scope.query(Person)
        .filter(org_unit_id__in=unit_ids)
        .order_by("id")
        .values_list("id", "org_unit_id")
    )
    found: dict[int, list[int]] = {uid: [] for uid in unit_ids}
    for pid, uid in rows:
        if int(pid) not in gone:
            found[int(uid)].append(int(pid))
    return found


async def find_unit(d: Directory, scim_id: str) -> OrgUnit:
    """The active unit a SCIM id names, or 404 (archived units are gone for SCIM)."""
    uid = row_id(scim_id)
    unit = await d.scope.find(OrgUnit, uid) if uid is not None else None
    if unit is None or not unit.active:
        raise NotFoundException(detail=f"no group with id {scim_id!r}")
    return unit


async def read_group(d: Directory, unit: OrgUnit) -> Group:
    return to_group(d, unit, (await _members(d, [unit.id]))[unit.id])


def group_filter(node: FilterNode) -> Q:
    """``eq`` on displayName, externalId or id, joined with ``and`` / ``or``."""
    if isinstance(node, LogicalExpr):
        parts = [group_filter(term) for term in node.terms]
        combined = parts[0]
        for part in parts[1:]:
            combined = combined & part if node.op is LogicalOperator.and_ else combined | part
        return combined
    if isinstance(node, Comparison) and node.op is CompareOperator.eq:
        name = _attr_name(node.attr_path)
        value = "" if node.value is None else str(node.value)
        if name == "displayname":
            return Q(name=value)
        if name == "externalid":
            return Q(external_id=value)
        if name == "id":
            uid = row_id(value)
            return Q(id=uid) if uid is not None else Q(id=-1)
    raise InvalidFilterException(
        detail="filters on Groups: eq on displayName, externalId or id, joined with and/or"
    )


def _attr_name(path: AttrPath) -> str:
    return (path.attr if path.sub_attr is None else f"{path.attr}.{path.sub_attr}").lower()


async def list_groups(
    d: Directory, node: FilterNode | None, start: int, count: int
) -> tuple[int, list[Group]]:
    qs = d.scope.query(OrgUnit).filter(archived_at__isnull=True)
    if node is not None:
        qs = qs.filter(group_filter(node))
    total = await qs.count()
    units = await qs.order_by("id").offset(start - 1).limit(count) if count > 0 else []
    members = await _members(d, [u.id for u in units]) if units else {}
    return total, [to_group(d, u, members[u.id]) for u in units]


async def _member_ids(d: Directory, group: Group) -> set[int]:
    """The people a group's members name; 400 for anything but people of the tenant."""
    wanted: set[int] = set()
    for member in group.members or []:
        if member.type is not None and member.type != "User":
            raise InvalidValueException(detail="only users can be members (no nested groups)")
        pid = row_id(member.value)
        if pid is None:
            raise InvalidValueException(detail=f"member {member.value!r} is not a user id")
        wanted.add(pid)
    found = await d.scope.many(Person, wanted)
    gone = (await deleted_people(d)) & wanted
    missing = sorted((wanted - set(found)) | gone)
    if missing:
        raise InvalidValueException(detail=f"no users with ids {', '.join(map(str, missing))}")
    return wanted


async def write_group(d: Directory, unit: OrgUnit | None, before: Group, after: Group) -> OrgUnit:
    """Bring a unit (None: a new one) from ``before`` to ``after``, in one transaction."""
    name = (after.display_name or "").strip()
    if not name:
        raise InvalidValueException(detail="displayName is required")
    old_members = await _member_ids(d, before) if unit is not None else set()
    new_members = await _member_ids(d, after)
    company = await d.company()
    try:
        async with in_transaction():
            if unit is None:
                unit = await org.create_org_unit(
                    d.scope,
                    name=name,
                    kind=OrgUnitKind.DEPARTMENT,
                    parent_id=company.id,
                    external_id=after.external_id,
                )
            else:
                changes: dict[str, Any] = {}
                if after.display_name != before.display_name:
                    changes["name"] = name
                if after.external_id != before.external_id:
                    changes["external_id"] = after.external_id
                if changes:
                    unit = await org.update_org_unit(d.scope, unit.id, changes)
            for pid in sorted(new_members - old_members):
                await people.update_person(d.scope, pid, {"org_unit_id": unit.id})
            leaving = await d.scope.query(Person).filter(
                id__in=old_members - new_members, org_unit_id=unit.id
            )
            for person in leaving:
                await people.update_person(d.scope, person.id, {"org_unit_id": company.id})
    except DomainError as exc:
        raise scim_error(exc) from exc
    return unit


async def delete_group(d: Directory, unit: OrgUnit) -> None:
    try:
        await org.archive_org_unit(d.scope, unit.id)
    except DomainError as exc:
        raise scim_error(exc) from exc
