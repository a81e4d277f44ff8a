"""SCIM Users ↔ people (``Person``), written through core/services/people.py.

The mapping (docs/scim.md has the table):

- ``id``: the person's id; ``externalId``: ``Person.external_id``.
- ``userName``: the email address; for a person without one, the employee number
  (工号). A ``userName`` written with an ``@`` sets the email, one without sets the
  employee number, unless ``emails`` or ``employeeNumber`` in the same request set that
  field themselves.
- ``displayName``: ``Person.name``; ``name.givenName`` and ``name.familyName``:
  ``Person.name_en`` ("given family") when they are in Latin script.
- ``emails``: the one email (type ``work``, primary); ``title``: the job title.
- ``active``: false deactivates the person (core's one meaning: kept with their history,
  goals listed for handover), true reactivates them.
- enterprise ``employeeNumber``: ``Person.code``; ``department``: the name of the
  person's unit (unset while they sit in the company unit); ``manager.value``: their
  explicit solid-line manager (unset: the org tree's answer).

A write compares the resource before and after the request and changes only the fields
whose SCIM attributes changed, all in one transaction.
"""

from __future__ import annotations

from datetime import datetime
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

from ...core import audit
from ...core.enums import OrgUnitKind
from ...core.errors import DomainError
from ...core.models import AuditEvent, OrgUnit, Person
from ...core.reporting import normalise_email
from ...core.services import org, people
from .directory import Directory, row_id, scim_error
from .resources import Email, EnterpriseUser, Manager, Name, User, UserResource

#: The audit action that marks a person as deleted through SCIM (deactivated by a
#: DELETE): from then on the SCIM resource is gone (404), the person stays.
DELETED = "person.scim_deleted"


def _latin(text: str) -> bool:
    """Latin script (with its accents), spaces and punctuation: an English-style name."""
    return all(ord(ch) < 0x250 for ch in text)


def to_user(d: Directory, person: Person, unit: OrgUnit, company_id: int) -> Any:
    """The SCIM User of a person (``unit``: their org unit, loaded)."""
    given, family = None, None
    if person.name_en:
        head, _, tail = person.name_en.rpartition(" ")
        given, family = (head, tail) if head else (tail, None)
    extension = EnterpriseUser(
        employee_number=person.code or None,
        department=unit.name if unit.id != company_id else None,
        manager=(
            Manager(
                value=str(person.manager_id),
                ref=Reference[User](d.location("Users", person.manager_id)),
            )
            if person.manager_id is not None
            else None
        ),
    )
    user = UserResource(
        id=str(person.id),
        external_id=person.external_id,
        user_name=person.email or person.code or None,
        name=Name(given_name=given, family_name=family) if given else None,
        display_name=person.name,
        title=person.job_title or None,
        emails=[Email(value=person.email, type="work")] if person.email else None,
        active=person.active,
        meta=Meta(
            resource_type="User",
            created=person.created_at,
            last_modified=person.updated_at,
            location=d.location("Users", person.id),
        ),
    )
    if any(v is not None for v in extension.model_dump(scim_ctx=None).values()):
        user[EnterpriseUser] = extension
    return user


def blank_user() -> Any:
    """The state a new person is written from: nothing known yet."""
    return UserResource()


async def deleted_people(d: Directory) -> set[int]:
    """People deleted through SCIM and not brought back since (two queries; the
    second only when someone is deactivated)."""
    inactive: dict[int, datetime | None] = {
        int(pid): at
        for pid, at in await d.scope.query(Person)
        .filter(active=False)
        .values_list("id", "deactivated_at")
    }
    if not inactive:
        return set()
    marks = (
        await d.scope.query(AuditEvent)
        .filter(entity_type="person", action=DELETED, entity_id__in=list(inactive))
        .values_list("entity_id", "created_at")
    )
    gone: set[int] = set()
    for pid, at in marks:
        since = inactive.get(int(pid))
        if since is not None and at >= since:
            gone.add(int(pid))
    return gone


async def find_person(d: Directory, scim_id: str) -> Person:
    """The person a SCIM id names, with their unit, or 404 (also once deleted)."""
    pid = row_id(scim_id)
    person = (
        await d.scope.query(Person).filter(id=pid).select_related("org_unit").first()
        if pid is not None
        else None
    )
    if person is None or (not person.active and person.id in await deleted_people(d)):
        raise NotFoundException(detail=f"no user with id {scim_id!r}")
    return person


async def read_user(d: Directory, person: Person) -> Any:
    return to_user(d, person, person.org_unit, (await d.company()).id)


def user_filter(node: FilterNode) -> Q:
    """The people a filter selects: ``eq`` on userName, externalId, emails(.value),
    displayName, employeeNumber or id, joined with ``and`` / ``or``."""
    if isinstance(node, LogicalExpr):
        parts = [user_filter(term) for term in node.terms]
        combined = parts[0]
        for part in parts[1:]:
            combined = combined & part if node.op is LogicalOperator.and_ else combined | part
        return combined
    if isinstance(node, Comparison) and node.op is CompareOperator.eq:
        name = _attr_name(node.attr_path)
        value = "" if node.value is None else str(node.value)
        if name == "username":
            return Q(email=normalise_email(value)) | Q(code=value.strip())
        if name in {"emails", "emails.value"}:
            return Q(email=normalise_email(value))
        if name == "externalid":
            return Q(external_id=value)
        if name == "displayname":
            return Q(name=value)
        if name == "employeenumber":
            return Q(code=value)
        if name == "id":
            pid = row_id(value)
            return Q(id=pid) if pid is not None else Q(id=-1)
    raise InvalidFilterException(
        detail="filters on Users: eq on userName, externalId, emails, displayName, "
        "employeeNumber or id, joined with and/or"
    )


def _attr_name(path: AttrPath) -> str:
    name = path.attr if path.sub_attr is None else f"{path.attr}.{path.sub_attr}"
    return name.lower()


async def list_users(
    d: Directory, node: FilterNode | None, start: int, count: int
) -> tuple[int, list[Any]]:
    """(totalResults, one page of Users), in id order; ``start`` is 1-based."""
    qs = d.scope.query(Person)
    if node is not None:
        qs = qs.filter(user_filter(node))
    gone = await deleted_people(d)
    if gone:
        qs = qs.exclude(id__in=gone)
    total = await qs.count()
    rows = (
        await qs.order_by("id").offset(start - 1).limit(count).select_related("org_unit")
        if count > 0
        else []
    )
    company_id = (await d.company()).id
    return total, [to_user(d, p, p.org_unit, company_id) for p in rows]


def _email(user: Any) -> str:
    emails: list[Email] = user.emails or []
    chosen = next((e for e in emails if e.type == "work"), None) or (emails[0] if emails else None)
    return (chosen.value or "").strip() if chosen else ""


def _extension(user: Any) -> EnterpriseUser:
    found: EnterpriseUser | None = user[EnterpriseUser]
    return found or EnterpriseUser()


def _name_parts(user: Any) -> tuple[str | None, str | None]:
    name: Name | None = user.name
    return (name.given_name, name.family_name) if name else (None, None)


async def write_user(d: Directory, person: Person | None, before: Any, after: Any) -> Person:
    """Bring a person (None: a new one) from ``before`` to ``after`` through the people
    services, in one transaction; the answer is the person, reloaded."""
    changes: dict[str, Any] = {}
    if _email(after) != _email(before):
        changes["email"] = _email(after)
    old_ext, new_ext = _extension(before), _extension(after)
    if new_ext.employee_number != old_ext.employee_number:
        changes["code"] = new_ext.employee_number
    user_name = (after.user_name or "").strip()
    if user_name and user_name != (before.user_name or ""):
        changes.setdefault("email" if "@" in user_name else "code", user_name)
    if after.display_name != before.display_name:
        if not (after.display_name or "").strip():
            raise InvalidValueException(detail="displayName is required")
        changes["name"] = after.display_name
    if _name_parts(after) != _name_parts(before):
        name_en = " ".join(p.strip() for p in _name_parts(after) if p and p.strip())
        if _latin(name_en):
            changes["name_en"] = name_en
    if after.title != before.title:
        changes["job_title"] = after.title or ""
    if after.external_id != before.external_id:
        changes["external_id"] = after.external_id
    old_manager = old_ext.manager.value if old_ext.manager else None
    new_manager = new_ext.manager.value if new_ext.manager else None
    if new_manager != old_manager:
        manager_id = row_id(new_manager) if new_manager else None
        if new_manager and manager_id is None:
            raise InvalidValueException(detail=f"manager {new_manager!r} is not a user id")
        changes["manager_id"] = manager_id
    try:
        async with in_transaction():
            if new_ext.department != old_ext.department or person is None:
                changes["org_unit_id"] = await _unit_for(d, new_ext.department, person)
            if person is None:
                # created active (a deactivation is a later PATCH), as people are made to work
                person = await _create(d, changes)
            else:
                if after.active is True and not person.active:
                    await people.reactivate_person(d.scope, person.id)
                if changes:
                    await people.update_person(d.scope, person.id, changes)
                if after.active is False and person.active:
                    await people.deactivate_person(d.scope, person.id)
    except DomainError as exc:
        raise scim_error(exc) from exc
    return await find_person(d, str(person.id))


async def _create(d: Directory, changes: dict[str, Any]) -> Person:
    return await people.create_person(
        d.scope,
        name=changes.get("name") or "",
        org_unit_id=changes["org_unit_id"],
        name_en=changes.get("name_en", ""),
        email=changes.get("email", ""),
        code=changes.get("code"),
        job_title=changes.get("job_title", ""),
        manager_id=changes.get("manager_id"),
        external_id=changes.get("external_id"),
    )


async def _unit_for(d: Directory, department: str | None, person: Person | None) -> int:
    """The unit a department names: none, the company unit; the person's own unit or one
    above it, where they are; the one active unit of that name; else a new department
    under the company (units of the same name: refused, Groups place people exactly)."""
    company = await d.company()
    name = (department or "").strip()
    if not name:
        return company.id
    if person is not None:
        unit: OrgUnit = person.org_unit
        above = [int(p) for p in unit.path.strip("/").split("/") if p]
        named = await d.scope.query(OrgUnit).filter(
            id__in=above, name=name, archived_at__isnull=True
        )
        if named:
            return unit.id
    matches = await d.scope.query(OrgUnit).filter(name=name, archived_at__isnull=True).limit(2)
    if len(matches) > 1:
        raise InvalidValueException(
            detail=f"several units are named {name!r}; place the person with Groups instead"
        )
    if matches:
        return matches[0].id
    made = await org.create_org_unit(
        d.scope, name=name, kind=OrgUnitKind.DEPARTMENT, parent_id=company.id
    )
    return made.id


async def deleted_match(d: Directory, after: Any) -> Person | None:
    """A person deleted through SCIM whom a new User names again (by email, employee
    number or externalId): re-provisioning brings that person back, history and all,
    instead of a clash with the address they still hold."""
    gone = await deleted_people(d)
    user_name = (after.user_name or "").strip()
    email = _email(after) or (user_name if "@" in user_name else "")
    code = _extension(after).employee_number or (user_name if "@" not in user_name else "")
    wanted = [
        Q(**{column: value})
        for column, value in (
            ("email", normalise_email(email)),
            ("code", code.strip()),
            ("external_id", after.external_id),
        )
        if value
    ]
    if not gone or not wanted:
        return None
    return (
        await d.scope.query(Person)
        .filter(Q(*wanted, join_type="OR"), id__in=gone)
        .select_related("org_unit")
        .order_by("id")
        .first()
    )


async def delete_user(d: Directory, person: Person) -> None:
    """DELETE: the person is deactivated (kept, with their history) and marked deleted
    for SCIM, so the resource answers 404 from now on."""
    try:
        async with in_transaction():
            if person.active:
                await people.deactivate_person(d.scope, person.id)
            await audit.record(d.scope, DELETED, "person", person.id, None, {"scim": "deleted"})
    except DomainError as exc:
        raise scim_error(exc) from exc
