"""Mutations on cycles (考核周期): create, close, reopen, roll objectives forward."""

from __future__ import annotations

from datetime import date

import strawberry
from strawberry import relay

from ...core.services import cycles as service
from ..context import Info
from ..errors import UserError
from ..ids import decode, decode_optional
from ..types.enums import CycleKind
from ..types.goals import Objective
from ..types.org import Cycle
from .common import guarded


@strawberry.input(
    description="A cycle by kind, year and index (QUARTER 2026 4 is 2026Q4, 2026-10-01 to "
    "2026-12-31), or with an explicit name and dates; a name or dates given with a year "
    "replace the year's."
)
class CreateCycleInput:
    kind: CycleKind
    year: int | None = None
    index: int = strawberry.field(
        default=1, description="Half 1-2, quarter 1-4, month 1-12, ISO week 1-53; 1 for a year."
    )
    name: str | None = None
    name_en: str | None = None
    starts_on: date | None = None
    ends_on: date | None = strawberry.field(default=None, description="Inclusive.")


@strawberry.type
class CyclePayload:
    cycle: Cycle | None
    errors: list[UserError]


@strawberry.type
class RollForwardPayload:
    objectives: list[Objective] = strawberry.field(
        description="The copies, parents before children; each has rolledFrom."
    )
    errors: list[UserError]


@strawberry.type
class CycleMutations:
    @strawberry.mutation(description="Open a cycle (admins and consultants).")
    async def create_cycle(self, info: Info, input: CreateCycleInput) -> CyclePayload:
        scope = info.context.scope

        async def run() -> Cycle:
            name, name_en, starts_on, ends_on = service.span_for(
                input.kind,
                year=input.year,
                index=input.index,
                name=input.name,
                name_en=input.name_en,
                starts_on=input.starts_on,
                ends_on=input.ends_on,
            )
            row = await service.create_cycle(
                scope,
                name=name,
                name_en=name_en,
                kind=input.kind,
                starts_on=starts_on,
                ends_on=ends_on,
            )
            return Cycle.from_row(row)

        cycle, errors = await guarded(run)
        return CyclePayload(cycle=cycle, errors=errors)

    @strawberry.mutation(
        description="Close a cycle: its scores are brought up to date and frozen, and its "
        "goals take no more writes (CYCLE_CLOSED). Admins and consultants."
    )
    async def close_cycle(self, info: Info, id: relay.GlobalID) -> CyclePayload:
        scope = info.context.scope

        async def run() -> Cycle:
            return Cycle.from_row(await service.close_cycle(scope, decode(id, "Cycle", "id")))

        cycle, errors = await guarded(run)
        return CyclePayload(cycle=cycle, errors=errors)

    @strawberry.mutation(
        description="Open a closed cycle again (admins): its goals take writes and its "
        "scores catch up with what changed meanwhile."
    )
    async def reopen_cycle(self, info: Info, id: relay.GlobalID) -> CyclePayload:
        scope = info.context.scope

        async def run() -> Cycle:
            return Cycle.from_row(await service.reopen_cycle(scope, decode(id, "Cycle", "id")))

        cycle, errors = await guarded(run)
        return CyclePayload(cycle=cycle, errors=errors)

    @strawberry.mutation(
        description="Copy objectives (default: every active one; chosen ones come with "
        "their sub-objectives) into another open cycle (default: the next cycle of the "
        "same kind), with key results starting where the originals stand and the same "
        "KPI links. Admins and consultants."
    )
    async def roll_forward(
        self,
        info: Info,
        from_cycle_id: relay.GlobalID,
        to_cycle_id: relay.GlobalID | None = None,
        objective_ids: list[relay.GlobalID] | None = None,
    ) -> RollForwardPayload:
        scope = info.context.scope

        async def run() -> list[Objective]:
            chosen = (
                None
                if objective_ids is None
                else [decode(i, "Objective", "objectiveIds") for i in objective_ids]
            )
            rows = await service.roll_forward(
                scope,
                from_cycle_id=decode(from_cycle_id, "Cycle", "fromCycleId"),
                to_cycle_id=decode_optional(to_cycle_id, "Cycle", "toCycleId"),
                objective_ids=chosen,
            )
            return [Objective.from_row(r) for r in rows]

        copies, errors = await guarded(run)
        return RollForwardPayload(objectives=copies or [], errors=errors)
