"""Scorecards, rankings and weighting simulations: thin over ``core.scoring.service``."""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import partial
from typing import Annotated

import strawberry
from strawberry import relay

from ..core.scoring import service
from ..core.scoring.history import settings_as_of
from ..core.scoring.load import Reach
from ..core.scoring.service import ScoredCycle
from ..plugins.view import TenantPacks
from .context import Info
from .ids import decode, decode_optional
from .types.org import OrgUnit, Person
from .types.scorecards import RankingEntry, Scorecard


async def _score(
    info: Info, cycle_id: relay.GlobalID | None, as_of: datetime | None, reach: Reach
) -> ScoredCycle:
    scope = info.context.scope
    at = None if as_of is None else as_of if as_of.tzinfo else as_of.replace(tzinfo=UTC)
    today = at.date() if at is not None else date.today()
    cycle = await service.cycle_to_score(
        scope, decode_optional(cycle_id, "Cycle", "cycleId"), today
    )
    frozen = service.frozen_at(cycle, at)
    if frozen is not None:  # a closed cycle: as it stood when it closed, from the store
        past = await settings_as_of(scope, frozen)
        then = TenantPacks(info.context.packs, past.stage, past.enablements)
        return await service.score_frozen(
            scope, cycle, then.stage_presets(), then.scoring_policy, past
        )
    if at is None:
        packs = await info.context.tenant_packs()
        return await service.score(
            scope, cycle, packs.stage_presets(), packs.scoring_policy, date.today(), reach
        )
    past = await settings_as_of(scope, at)
    then = TenantPacks(info.context.packs, past.stage, past.enablements)
    return await service.score_as_of(
        scope, cycle, then.stage_presets(), then.scoring_policy, at, past
    )


@strawberry.type
class ScoreQueries:
    @strawberry.field(
        description="A person's, a unit's, or (with neither id) the company's scorecard."
    )
    async def scorecard(
        self,
        info: Info,
        person_id: relay.GlobalID | None = None,
        org_unit_id: relay.GlobalID | None = None,
        cycle_id: relay.GlobalID | None = None,
        as_of: Annotated[
            datetime | None,
            strawberry.argument(
                description="Scores as they stood at this moment (UTC unless it says "
                "otherwise), rebuilt from the audit trail: the measurements, settings, "
                "stage and weighting valid then."
            ),
        ] = None,
    ) -> Scorecard:
        scope, scorer = info.context.scope, partial(_score, info, cycle_id, as_of)
        if person_id is not None:
            scored, person, card = await service.person_scorecard(
                scope, scorer, decode(person_id, "Person", "personId")
            )
            return Scorecard.of(scored, card, person=Person.from_row(person))
        if org_unit_id is not None:
            scored, unit, card = await service.unit_scorecard(
                scope, scorer, decode(org_unit_id, "OrgUnit", "orgUnitId")
            )
            return Scorecard.of(scored, card, org_unit=OrgUnit.from_row(unit))
        scored = await scorer(Reach(company=True))
        return Scorecard.of(scored, scored.board.company())

    @strawberry.field(description="The people of a unit and below, best combined score first.")
    async def ranking(
        self,
        info: Info,
        org_unit_id: relay.GlobalID,
        cycle_id: relay.GlobalID | None = None,
        as_of: Annotated[
            datetime | None, strawberry.argument(description="As in `scorecard`.")
        ] = None,
    ) -> list[RankingEntry]:
        scored, ranked = await service.unit_ranking(
            info.context.scope,
            partial(_score, info, cycle_id, as_of),
            decode(org_unit_id, "OrgUnit", "orgUnitId"),
        )
        return [
            RankingEntry(
                rank=rank,
                person=Person.from_row(person),
                scorecard=Scorecard.of(scored, card, person=Person.from_row(person)),
            )
            for rank, person, card in ranked
        ]


@strawberry.type(description="One person's combined score and rank, now and under the proposal.")
class SimulatedPerson:
    person: Person
    before: float | None
    after: float | None
    rank_before: int | None
    rank_after: int | None


@strawberry.type(description="One org unit's combined score and rank, now and under the proposal.")
class SimulatedUnit:
    org_unit: OrgUnit
    before: float | None
    after: float | None
    rank_before: int | None
    rank_after: int | None


@strawberry.type(description="Who moves if the weighting changes; nothing is saved.")
class WeightingSimulation:
    stage_before: str
    okr_share_before: float
    kpi_share_before: float
    stage_after: str
    okr_share_after: float
    kpi_share_after: float
    people: list[SimulatedPerson]
    units: list[SimulatedUnit]


@strawberry.type
class SimulationQueries:
    @strawberry.field(
        description="Scores and ranks of a unit's people and sub-units now and under another "
        "stage's weighting (or explicit shares), without saving anything. Admins only."
    )
    async def simulate_weighting(
        self,
        info: Info,
        org_unit_id: relay.GlobalID,
        stage: str | None = None,
        okr_share: float | None = None,
        kpi_share: float | None = None,
        cycle_id: relay.GlobalID | None = None,
    ) -> WeightingSimulation:
        presets = (await info.context.tenant_packs()).stage_presets()
        scored, proposed, people, units = await service.simulate_weighting(
            info.context.scope,
            partial(_score, info, cycle_id, None),
            decode(org_unit_id, "OrgUnit", "orgUnitId"),
            presets,
            stage,
            okr_share,
            kpi_share,
        )
        return WeightingSimulation(
            stage_before=scored.shares.stage,
            okr_share_before=scored.shares.okr_share,
            kpi_share_before=scored.shares.kpi_share,
            stage_after=proposed.stage,
            okr_share_after=proposed.okr_share,
            kpi_share_after=proposed.kpi_share,
            people=[
                SimulatedPerson(
                    person=Person.from_row(m.subject),
                    before=m.before,
                    after=m.after,
                    rank_before=m.rank_before,
                    rank_after=m.rank_after,
                )
                for m in people
            ],
            units=[
                SimulatedUnit(
                    org_unit=OrgUnit.from_row(m.subject),
                    before=m.before,
                    after=m.after,
                    rank_before=m.rank_before,
                    rank_after=m.rank_after,
                )
                for m in units
            ],
        )
