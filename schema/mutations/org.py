"""Mutations on org units: create, update, move, archive, restore (admins)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import strawberry
from strawberry import relay
from strawberry.utils.str_converters import to_camel_case

from ...core import models
from ...core.errors import DomainError, ErrorCode
from ...core.i18n import msg
from ...core.services import org as service
from ..context import Info
from ..errors import UserError
from ..ids import decode
from ..types.enums import OrgUnitKind
from ..types.org import OrgUnit
from .common import guarded


@strawberry.input
class CreateOrgUnitInput:
    name: str
    kind: OrgUnitKind
    parent_id: relay.GlobalID
    name_en: str = ""
    code: str | None = strawberry.field(
        default=None, description="What business systems call it (a store number)."
    )
    external_id: str | None = strawberry.field(
        default=None, description="Its id in the HR directory it is synced from."
    )


@strawberry.input
class UpdateOrgUnitInput:
    id: relay.GlobalID
    name: str | None = strawberry.UNSET
    name_en: str | None = strawberry.UNSET
    kind: OrgUnitKind | None = strawberry.UNSET
    code: str | None = strawberry.field(default=strawberry.UNSET, description="null clears it.")
    external_id: str | None = strawberry.field(
        default=strawberry.UNSET, description="null clears it."
    )


@strawberry.type
class OrgUnitPayload:
    org_unit: OrgUnit | None
    errors: list[UserError]


#: Fields of UpdateOrgUnitInput that null clears; the others cannot be null.
_CLEARABLE = frozenset({"code", "external_id"})


def sent(data: Any, names: tuple[str, ...], clearable: frozenset[str]) -> dict[str, Any]:
    """The fields of an update input the client sent, by name; null only where it
    clears a value."""
    changes: dict[str, Any] = {}
    for name in names:
        value = getattr(data, name)
        if value is strawberry.UNSET:
            continue
        if value is None and name not in clearable:
            field = to_camel_case(name)
            raise DomainError.single(ErrorCode.REQUIRED, msg("error.not_null", field=field), field)
        changes[name] = value
    return changes


async def _payload(action: Callable[[], Awaitable[models.OrgUnit]]) -> OrgUnitPayload:
    async def run() -> OrgUnit:
        return OrgUnit.from_row(await action())

    unit, errors = await guarded(run)
    return OrgUnitPayload(org_unit=unit, errors=errors)


@strawberry.type
class OrgMutations:
    @strawberry.mutation(description="Create an org unit under parentId (admins).")
    async def create_org_unit(self, info: Info, input: CreateOrgUnitInput) -> OrgUnitPayload:
        scope = info.context.scope
        return await _payload(
            lambda: service.create_org_unit(
                scope,
                name=input.name,
                kind=input.kind,
                parent_id=decode(input.parent_id, "OrgUnit", "parentId"),
                name_en=input.name_en,
                code=input.code,
                external_id=input.external_id,
            )
        )

    @strawberry.mutation(description="Rename an org unit or change its kind, code or directory id.")
    async def update_org_unit(self, info: Info, input: UpdateOrgUnitInput) -> OrgUnitPayload:
        scope = info.context.scope

        async def run() -> models.OrgUnit:
            changes = sent(input, ("name", "name_en", "kind", "code", "external_id"), _CLEARABLE)
            return await service.update_org_unit(scope, decode(input.id, "OrgUnit", "id"), changes)

        return await _payload(run)

    @strawberry.mutation(
        description="Move an org unit, with everything below it, under another active unit."
    )
    async def move_org_unit(
        self, info: Info, id: relay.GlobalID, parent_id: relay.GlobalID
    ) -> OrgUnitPayload:
        scope = info.context.scope
        return await _payload(
            lambda: service.move_org_unit(
                scope,
                decode(id, "OrgUnit", "id"),
                parent_id=decode(parent_id, "OrgUnit", "parentId"),
            )
        )

    @strawberry.mutation(
        description="Archive an org unit; refused while it has active people, units or goals."
    )
    async def archive_org_unit(self, info: Info, id: relay.GlobalID) -> OrgUnitPayload:
        scope = info.context.scope
        return await _payload(lambda: service.archive_org_unit(scope, decode(id, "OrgUnit", "id")))

    @strawberry.mutation(description="Bring an archived org unit back.")
    async def restore_org_unit(self, info: Info, id: relay.GlobalID) -> OrgUnitPayload:
        scope = info.context.scope
        return await _payload(lambda: service.restore_org_unit(scope, decode(id, "OrgUnit", "id")))
