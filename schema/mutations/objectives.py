"""Mutations on objectives: create, update (including re-alignment), archive."""

from __future__ import annotations

import strawberry
from strawberry import relay

from ...core.services import objectives as service
from ..context import Info
from ..errors import UserError
from ..ids import decode, decode_optional
from ..types.goals import Objective
from .common import guarded, updates


@strawberry.input
class CreateObjectiveInput:
    title: str
    cycle_id: relay.GlobalID
    owner_unit_id: relay.GlobalID | None = None
    owner_person_id: relay.GlobalID | None = None
    parent_id: relay.GlobalID | None = strawberry.field(
        default=None, description="The objective this one aligns to (same cycle)."
    )
    title_en: str = ""
    description: str = ""
    alignment_weight: float = 1.0


@strawberry.input
class UpdateObjectiveInput:
    id: relay.GlobalID
    title: str | None = strawberry.UNSET
    title_en: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    alignment_weight: float | None = strawberry.UNSET
    parent_id: relay.GlobalID | None = strawberry.field(
        default=strawberry.UNSET, description="Re-align; null makes it top-level."
    )
    owner_unit_id: relay.GlobalID | None = strawberry.UNSET
    owner_person_id: relay.GlobalID | None = strawberry.UNSET


@strawberry.type
class ObjectivePayload:
    objective: Objective | None
    errors: list[UserError]


def _update_changes(data: UpdateObjectiveInput) -> dict[str, object]:
    changes = updates(data, ("title", "title_en", "description", "alignment_weight"))
    if data.parent_id is not strawberry.UNSET:
        changes["parent_id"] = decode_optional(data.parent_id, "Objective", "parentId")
    return changes


@strawberry.type
class ObjectiveMutations:
    @strawberry.mutation(description="Create an objective, aligned under parentId if given.")
    async def create_objective(self, info: Info, input: CreateObjectiveInput) -> ObjectivePayload:
        scope = info.context.scope

        async def run() -> Objective:
            row = await service.create_objective(
                scope,
                title=input.title,
                title_en=input.title_en,
                description=input.description,
                cycle_id=decode(input.cycle_id, "Cycle", "cycleId"),
                owner_unit_id=decode_optional(input.owner_unit_id, "OrgUnit", "ownerUnitId"),
                owner_person_id=decode_optional(input.owner_person_id, "Person", "ownerPersonId"),
                parent_id=decode_optional(input.parent_id, "Objective", "parentId"),
                alignment_weight=input.alignment_weight,
            )
            return Objective.from_row(row)

        objective, errors = await guarded(run)
        return ObjectivePayload(objective=objective, errors=errors)

    @strawberry.mutation(description="Change an objective; only the fields sent change.")
    async def update_objective(self, info: Info, input: UpdateObjectiveInput) -> ObjectivePayload:
        scope = info.context.scope

        async def run() -> Objective:
            row = await service.update_objective(
                scope, decode(input.id, "Objective", "id"), _update_changes(input)
            )
            return Objective.from_row(row)

        objective, errors = await guarded(run)
        return ObjectivePayload(objective=objective, errors=errors)

    @strawberry.mutation(description="Archive an objective with its sub-objectives.")
    async def archive_objective(self, info: Info, id: relay.GlobalID) -> ObjectivePayload:
        scope = info.context.scope

        async def run() -> Objective:
            row = await service.archive_objective(scope, decode(id, "Objective", "id"))
            return Objective.from_row(row)

        objective, errors = await guarded(run)
        return ObjectivePayload(objective=objective, errors=errors)
