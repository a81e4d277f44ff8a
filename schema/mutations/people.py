"""Mutations on people: create, update, deactivate a leaver (handing over their open
goals), reassign goals, reactivate, dotted-line managers (admins)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import strawberry
from strawberry import relay

from ...core import models
from ...core.enums import GoalKind
from ...core.errors import DomainError, ErrorCode
from ...core.i18n import msg
from ...core.services import people as service
from ..context import Info
from ..errors import UserError
from ..ids import decode, decode_optional, encode
from ..types.enums import Role
from ..types.org import Person
from .common import guarded
from .org import sent

#: Global id type names of the goals a person may own.
_GOAL_TYPES = {
    "Objective": GoalKind.OBJECTIVE,
    "KeyResult": GoalKind.KEY_RESULT,
    "Kpi": GoalKind.KPI,
}
_TYPE_NAMES = {kind: name for name, kind in _GOAL_TYPES.items()}


@strawberry.input
class CreatePersonInput:
    name: str
    org_unit_id: relay.GlobalID
    role: Role = Role.EMPLOYEE
    name_en: str = ""
    email: str = ""
    code: str | None = strawberry.field(default=None, description="Employee number (工号).")
    job_title: str = ""
    manager_id: relay.GlobalID | None = strawberry.field(
        default=None, description="The solid-line manager; null: the org tree's."
    )
    external_id: str | None = strawberry.field(
        default=None, description="Their id in the HR directory or identity provider."
    )


@strawberry.input
class UpdatePersonInput:
    id: relay.GlobalID
    name: str | None = strawberry.UNSET
    name_en: str | None = strawberry.UNSET
    email: str | None = strawberry.UNSET
    code: str | None = strawberry.field(default=strawberry.UNSET, description="null clears it.")
    job_title: str | None = strawberry.UNSET
    role: Role | None = strawberry.UNSET
    org_unit_id: relay.GlobalID | None = strawberry.field(
        default=strawberry.UNSET, description="Move the person to another unit."
    )
    manager_id: relay.GlobalID | None = strawberry.field(
        default=strawberry.UNSET, description="The solid-line manager; null: the org tree's."
    )
    external_id: str | None = strawberry.field(
        default=strawberry.UNSET, description="null clears it."
    )


@strawberry.type
class PersonPayload:
    person: Person | None
    errors: list[UserError]


@strawberry.type(description="A goal a person still answers for.")
class OpenGoal:
    kind: GoalKind
    id: relay.GlobalID
    title: str


@strawberry.type
class DeactivatePersonPayload:
    person: Person | None
    open_goals: list[OpenGoal] = strawberry.field(
        description="Their open goals when they left: active objectives and key results of "
        "open cycles, active KPIs."
    )
    reassigned: int = strawberry.field(description="How many were handed over in this call.")
    errors: list[UserError]


@strawberry.input
class ReassignGoalsInput:
    person_id: relay.GlobalID
    to_person_id: relay.GlobalID | None = None
    to_unit_id: relay.GlobalID | None = None
    goal_ids: list[relay.GlobalID] | None = strawberry.field(
        default=None, description="Objectives, key results or KPIs; null: all open goals."
    )


@strawberry.type
class ReassignGoalsPayload:
    reassigned: int
    errors: list[UserError]


_CLEARABLE = frozenset({"code", "external_id", "manager_id"})
_SCALARS = ("name", "name_en", "email", "code", "job_title", "role", "external_id")


def _changes(data: UpdatePersonInput) -> dict[str, Any]:
    changes = sent(data, (*_SCALARS, "org_unit_id", "manager_id"), _CLEARABLE)
    if "org_unit_id" in changes:
        changes["org_unit_id"] = decode(changes["org_unit_id"], "OrgUnit", "orgUnitId")
    if "manager_id" in changes:
        changes["manager_id"] = decode_optional(changes["manager_id"], "Person", "managerId")
    return changes


def _goal_id(value: relay.GlobalID) -> tuple[GoalKind, int]:
    kind = _GOAL_TYPES.get(value.type_name)
    if kind is None:
        raise DomainError.single(ErrorCode.INVALID, msg("people.goal_ids_kinds"), "goalIds")
    return kind, decode(value, value.type_name, "goalIds")


async def _payload(action: Callable[[], Awaitable[models.Person]]) -> PersonPayload:
    async def run() -> Person:
        return Person.from_row(await action())

    person, errors = await guarded(run)
    return PersonPayload(person=person, errors=errors)


@strawberry.type
class PeopleMutations:
    @strawberry.mutation(description="Add a person to an active org unit (admins).")
    async def create_person(self, info: Info, input: CreatePersonInput) -> PersonPayload:
        scope = info.context.scope
        return await _payload(
            lambda: service.create_person(
                scope,
                name=input.name,
                org_unit_id=decode(input.org_unit_id, "OrgUnit", "orgUnitId"),
                role=input.role,
                name_en=input.name_en,
                email=input.email,
                code=input.code,
                job_title=input.job_title,
                manager_id=decode_optional(input.manager_id, "Person", "managerId"),
                external_id=input.external_id,
            )
        )

    @strawberry.mutation(
        description="Change a person: unit, manager, email, employee number, job title, role, "
        "names, directory id; only the fields sent change."
    )
    async def update_person(self, info: Info, input: UpdatePersonInput) -> PersonPayload:
        scope = info.context.scope

        async def run() -> models.Person:
            return await service.update_person(
                scope, decode(input.id, "Person", "id"), _changes(input)
            )

        return await _payload(run)

    @strawberry.mutation(
        description="Deactivate a leaver: their history stays, their tokens stop working, and "
        "their open goals are returned, handed to reassignToPersonId or reassignToUnitId "
        "when one is given."
    )
    async def deactivate_person(
        self,
        info: Info,
        id: relay.GlobalID,
        reassign_to_person_id: relay.GlobalID | None = None,
        reassign_to_unit_id: relay.GlobalID | None = None,
    ) -> DeactivatePersonPayload:
        scope = info.context.scope

        async def run() -> service.Deactivation:
            return await service.deactivate_person(
                scope,
                decode(id, "Person", "id"),
                reassign_to_person_id=decode_optional(
                    reassign_to_person_id, "Person", "reassignToPersonId"
                ),
                reassign_to_unit_id=decode_optional(
                    reassign_to_unit_id, "OrgUnit", "reassignToUnitId"
                ),
            )

        done, errors = await guarded(run)
        if done is None:
            return DeactivatePersonPayload(person=None, open_goals=[], reassigned=0, errors=errors)
        return DeactivatePersonPayload(
            person=Person.from_row(done.person),
            open_goals=[
                OpenGoal(kind=g.kind, id=encode(_TYPE_NAMES[g.kind], g.id), title=g.title)
                for g in done.open_goals
            ],
            reassigned=done.reassigned,
            errors=[],
        )

    @strawberry.mutation(
        description="Hand a person's open goals (all, or goalIds) to an active person or unit."
    )
    async def reassign_goals(self, info: Info, input: ReassignGoalsInput) -> ReassignGoalsPayload:
        scope = info.context.scope

        async def run() -> int:
            return await service.reassign_goals(
                scope,
                decode(input.person_id, "Person", "personId"),
                to_person_id=decode_optional(input.to_person_id, "Person", "toPersonId"),
                to_unit_id=decode_optional(input.to_unit_id, "OrgUnit", "toUnitId"),
                goal_ids=[_goal_id(g) for g in input.goal_ids]
                if input.goal_ids is not None
                else None,
            )

        count, errors = await guarded(run)
        return ReassignGoalsPayload(reassigned=count or 0, errors=errors)

    @strawberry.mutation(description="Bring a deactivated person back; their tokens work again.")
    async def reactivate_person(self, info: Info, id: relay.GlobalID) -> PersonPayload:
        scope = info.context.scope
        return await _payload(lambda: service.reactivate_person(scope, decode(id, "Person", "id")))

    @strawberry.mutation(
        description="Replace a person's dotted-line managers (虚线汇报); an empty list ends them."
    )
    async def set_dotted_line_managers(
        self, info: Info, person_id: relay.GlobalID, manager_ids: list[relay.GlobalID]
    ) -> PersonPayload:
        scope = info.context.scope
        return await _payload(
            lambda: service.set_dotted_lines(
                scope,
                decode(person_id, "Person", "personId"),
                [decode(m, "Person", "managerIds") for m in manager_ids],
            )
        )

    @strawberry.mutation(
        description="Choose the language you read messages in (zh-CN, en; null: your "
        "client's Accept-Language decides); audited. It applies from the next request."
    )
    async def set_my_locale(self, info: Info, locale: str | None) -> PersonPayload:
        scope = info.context.scope
        return await _payload(lambda: service.set_my_locale(scope, locale))

    @strawberry.mutation(
        description="Give a person another role (admins; audited). The last active admin "
        "keeps theirs (LAST_ADMIN)."
    )
    async def set_role(self, info: Info, person_id: relay.GlobalID, role: Role) -> PersonPayload:
        scope = info.context.scope
        return await _payload(
            lambda: service.set_role(scope, decode(person_id, "Person", "personId"), role)
        )
