"""The org tree and its people as lists: keyset paginated like every list."""

from __future__ import annotations

import strawberry
from strawberry import relay
from tortoise.expressions import Q

from ..core import models
from .context import Info
from .ids import decode
from .pagination import Connection, paginate
from .types.enums import OrgUnitKind
from .types.org import OrgUnit, Person


@strawberry.type
class OrgQueries:
    @strawberry.field(
        description="Org units, optionally those directly under parentId or of one kind; "
        "archived ones only with includeArchived."
    )
    async def org_units(
        self,
        info: Info,
        parent_id: relay.GlobalID | None = None,
        kind: OrgUnitKind | None = None,
        include_archived: bool = False,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[OrgUnit]:
        qs = info.context.scope.query(models.OrgUnit)
        if parent_id is not None:
            qs = qs.filter(parent_id=decode(parent_id, "OrgUnit", "parentId"))
        if kind is not None:
            qs = qs.filter(kind=kind)
        if not include_archived:
            qs = qs.filter(archived_at__isnull=True)
        return await paginate(qs, OrgUnit.from_row, first, after)

    @strawberry.field(
        description="People, optionally of one org unit (and below it); leavers only with "
        "includeInactive. search matches name, English name, email or employee number."
    )
    async def people(
        self,
        info: Info,
        org_unit_id: relay.GlobalID | None = None,
        include_sub_units: bool = False,
        include_inactive: bool = False,
        search: str | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[Person]:
        scope = info.context.scope
        qs = scope.query(models.Person)
        if org_unit_id is not None:
            unit = await scope.get(models.OrgUnit, decode(org_unit_id, "OrgUnit", "orgUnitId"))
            qs = (
                qs.filter(org_unit__path__startswith=unit.path)
                if include_sub_units
                else qs.filter(org_unit_id=unit.id)
            )
        if not include_inactive:
            qs = qs.filter(active=True)
        text = (search or "").strip()
        if text:
            qs = qs.filter(
                Q(name__icontains=text)
                | Q(name_en__icontains=text)
                | Q(email__icontains=text)
                | Q(code__icontains=text)
            )
        return await paginate(qs, Person.from_row, first, after)
