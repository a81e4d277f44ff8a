"""Goal owners: an org unit or a person, and where each sits in the org tree.

Permission and visibility rules compare org-tree paths; this module turns owner ids
into ``OwnerRef`` values in at most two queries for any number of goals.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .errors import DomainError, ErrorCode, Problem, not_found
from .i18n import msg
from .models import OrgUnit, Person
from .tenancy import TenantScope


@dataclass(frozen=True, slots=True)
class OwnerRef:
    """An owner and the org-tree path it answers to (a person's is their unit's)."""

    unit_id: int | None
    person_id: int | None
    unit_path: str


def check_one_owner(owner_unit_id: int | None, owner_person_id: int | None) -> None:
    """Refuse a goal with no owner or with two."""
    if (owner_unit_id is None) == (owner_person_id is None):
        raise DomainError(
            Problem(
                ErrorCode.INVALID,
                msg("owner.exactly_one"),
                "ownerUnitId" if owner_unit_id is None else "ownerPersonId",
            )
        )


async def resolve_owner(
    scope: TenantScope, owner_unit_id: int | None, owner_person_id: int | None
) -> OwnerRef:
    """The owner of a new or changed goal, checked to exist in this tenant."""
    check_one_owner(owner_unit_id, owner_person_id)
    if owner_unit_id is not None:
        unit = await scope.find(OrgUnit, owner_unit_id)
        if unit is None:
            raise not_found("org_unit", "ownerUnitId")
        return OwnerRef(unit.id, None, unit.path)
    assert owner_person_id is not None
    person = await scope.query(Person).filter(id=owner_person_id).select_related("org_unit").first()
    if person is None:
        raise not_found("person", "ownerPersonId")
    return OwnerRef(None, person.id, person.org_unit.path)


async def person_unit_paths(scope: TenantScope, person_ids: Iterable[int]) -> dict[int, str]:
    """Each person's org-unit path, in one query."""
    ids = set(person_ids)
    if not ids:
        return {}
    rows = await scope.query(Person).filter(id__in=ids).values("id", "org_unit__path")
    return {row["id"]: row["org_unit__path"] for row in rows}


async def unit_paths(scope: TenantScope, unit_ids: Iterable[int]) -> dict[int, str]:
    """Each org unit's path, in one query."""
    ids = set(unit_ids)
    if not ids:
        return {}
    rows = await scope.query(OrgUnit).filter(id__in=ids).values("id", "path")
    return {row["id"]: row["path"] for row in rows}


async def owner_refs(
    scope: TenantScope, goals: Iterable[tuple[int | None, int | None]]
) -> dict[tuple[int | None, int | None], OwnerRef]:
    """``OwnerRef`` for many ``(owner_unit_id, owner_person_id)`` pairs, in two queries."""
    pairs = set(goals)
    units = await unit_paths(scope, (u for u, _ in pairs if u is not None))
    people = await person_unit_paths(scope, (p for _, p in pairs if p is not None))
    refs: dict[tuple[int | None, int | None], OwnerRef] = {}
    for unit_id, person_id in pairs:
        if unit_id is not None and unit_id in units:
            refs[(unit_id, person_id)] = OwnerRef(unit_id, None, units[unit_id])
        elif person_id is not None and person_id in people:
            refs[(unit_id, person_id)] = OwnerRef(None, person_id, people[person_id])
    return refs
