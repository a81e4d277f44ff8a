"""Mutations on key results: create, update, archive, check in."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry import relay

from ...core import enums
from ...core.services import key_results as service
from ..context import Info
from ..errors import UserError
from ..ids import decode, decode_optional
from ..types.enums import Direction
from ..types.goals import KeyResult
from ..types.org import Person
from .common import guarded, updates


@strawberry.input
class CreateKeyResultInput:
    objective_id: relay.GlobalID
    title: str
    target_value: float
    start_value: float = 0.0
    current_value: float | None = None
    title_en: str = ""
    unit: str = ""
    direction: Direction = enums.Direction.HIGHER_IS_BETTER
    weight: float = 1.0
    owner_unit_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Defaults to the objective's owner."
    )
    owner_person_id: relay.GlobalID | None = None


@strawberry.input
class UpdateKeyResultInput:
    id: relay.GlobalID
    title: str | None = strawberry.UNSET
    title_en: str | None = strawberry.UNSET
    unit: str | None = strawberry.UNSET
    direction: Direction | None = strawberry.UNSET
    start_value: float | None = strawberry.UNSET
    target_value: float | None = strawberry.UNSET
    weight: float | None = strawberry.UNSET
    owner_unit_id: relay.GlobalID | None = strawberry.UNSET
    owner_person_id: relay.GlobalID | None = strawberry.UNSET


@strawberry.input
class CheckInInput:
    key_result_id: relay.GlobalID
    value: float
    confidence: float | None = strawberry.field(default=None, description="0..1")
    note: str = ""


@strawberry.type
class KeyResultPayload:
    key_result: KeyResult | None
    errors: list[UserError]


@strawberry.type(description="A progress update on a key result.")
class CheckIn:
    value: float
    confidence: float | None
    note: str
    created_at: datetime
    author: Person | None


@strawberry.type
class CheckInPayload:
    check_in: CheckIn | None
    key_result: KeyResult | None
    errors: list[UserError]


_FIELDS = (
    "title",
    "title_en",
    "unit",
    "direction",
    "start_value",
    "target_value",
    "weight",
)


@strawberry.type
class KeyResultMutations:
    @strawberry.mutation(description="Add a key result to an objective.")
    async def create_key_result(self, info: Info, input: CreateKeyResultInput) -> KeyResultPayload:
        scope = info.context.scope

        async def run() -> KeyResult:
            row = await service.create_key_result(
                scope,
                objective_id=decode(input.objective_id, "Objective", "objectiveId"),
                title=input.title,
                title_en=input.title_en,
                unit=input.unit,
                direction=input.direction,
                start_value=input.start_value,
                target_value=input.target_value,
                current_value=input.current_value,
                weight=input.weight,
                owner_unit_id=decode_optional(input.owner_unit_id, "OrgUnit", "ownerUnitId"),
                owner_person_id=decode_optional(input.owner_person_id, "Person", "ownerPersonId"),
            )
            return KeyResult.from_row(row)

        key_result, errors = await guarded(run)
        return KeyResultPayload(key_result=key_result, errors=errors)

    @strawberry.mutation(description="Change a key result; target and weight changes are audited.")
    async def update_key_result(self, info: Info, input: UpdateKeyResultInput) -> KeyResultPayload:
        scope = info.context.scope

        async def run() -> KeyResult:
            row = await service.update_key_result(
                scope, decode(input.id, "KeyResult", "id"), updates(input, _FIELDS)
            )
            return KeyResult.from_row(row)

        key_result, errors = await guarded(run)
        return KeyResultPayload(key_result=key_result, errors=errors)

    @strawberry.mutation(description="Archive a key result.")
    async def archive_key_result(self, info: Info, id: relay.GlobalID) -> KeyResultPayload:
        scope = info.context.scope

        async def run() -> KeyResult:
            row = await service.archive_key_result(scope, decode(id, "KeyResult", "id"))
            return KeyResult.from_row(row)

        key_result, errors = await guarded(run)
        return KeyResultPayload(key_result=key_result, errors=errors)

    @strawberry.mutation(description="Report progress on a key result (sets its current value).")
    async def check_in(self, info: Info, input: CheckInInput) -> CheckInPayload:
        scope = info.context.scope

        async def run() -> tuple[CheckIn, KeyResult]:
            entry, key_result = await service.check_in(
                scope,
                key_result_id=decode(input.key_result_id, "KeyResult", "keyResultId"),
                value=input.value,
                confidence=input.confidence,
                note=input.note,
            )
            author = scope.actor.person
            return (
                CheckIn(
                    value=entry.value,
                    confidence=entry.confidence,
                    note=entry.note,
                    created_at=entry.created_at,
                    author=Person.from_row(author) if author else None,
                ),
                KeyResult.from_row(key_result),
            )

        result, errors = await guarded(run)
        return CheckInPayload(
            check_in=result[0] if result else None,
            key_result=result[1] if result else None,
            errors=errors,
        )
