"""Scorecards and rankings: combined OKR/KPI performance by lifecycle-stage weighting."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

import strawberry
from strawberry import relay

from ..core import models
from ..core.access import can_see_values
from ..core.enums import Role
from ..core.errors import DomainError, ErrorCode, forbidden
from ..core.owners import OwnerRef
from ..core.scoring import scorecard as cards
from ..core.scoring.scorecard import Shares
from ..core.scoring.service import ScoredCycle, score
from ..core.scoring.simulate import simulate
from ..core.services.stages import check_shares, weightings
from ..core.tenancy import TenantScope
from .context import Info
from .ids import decode, decode_optional
from .types.org import OrgUnit, Person
from .types.scorecards import RankingEntry, Scorecard


async def _scored(info: Info, cycle_id: relay.GlobalID | None) -> ScoredCycle:
    packs = await info.context.tenant_packs()
    return await score(
        info.context.scope,
        decode_optional(cycle_id, "Cycle", "cycleId"),
        packs.stage_presets(),
        packs.scoring_policy,
        date.today(),
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
    ) -> Scorecard:
        scope = info.context.scope
        if person_id is not None:
            person = await scope.get(
                models.Person, decode(person_id, "Person", "personId"), "personId"
            )
            unit = await scope.get(models.OrgUnit, person.org_unit_id)
            if not can_see_values(scope, OwnerRef(None, person.id, unit.path)):
                raise forbidden(
                    "a person's scores are visible to them, their managers and admins", "personId"
                )
            scored = await _scored(info, cycle_id)
            card = cards.person_scorecard(scored.rows, scored.scores, scored.shares, person)
            return Scorecard.of(scored, card, person=Person.from_row(person))
        scored = await _scored(info, cycle_id)
        if org_unit_id is not None:
            unit = await scope.get(
                models.OrgUnit, decode(org_unit_id, "OrgUnit", "orgUnitId"), "orgUnitId"
            )
            card = cards.owner_scorecard(
                scored.rows, scored.scores, scored.shares, unit_ids={unit.id}
            )
            return Scorecard.of(scored, card, org_unit=OrgUnit.from_row(unit))
        return Scorecard.of(
            scored, cards.company_scorecard(scored.rows, scored.scores, scored.shares)
        )

    @strawberry.field(description="The people of a unit and below, best combined score first.")
    async def ranking(
        self, info: Info, org_unit_id: relay.GlobalID, cycle_id: relay.GlobalID | None = None
    ) -> list[RankingEntry]:
        scope = info.context.scope
        unit = await scope.get(
            models.OrgUnit, decode(org_unit_id, "OrgUnit", "orgUnitId"), "orgUnitId"
        )
        allowed = scope.role is Role.ADMIN or (
            scope.role is Role.MANAGER
            and scope.actor.unit_path is not None
            and unit.path.startswith(scope.actor.unit_path)
        )
        if not allowed:
            raise forbidden("rankings are for admins and the managers of the unit", "orgUnitId")
        scored = await _scored(info, cycle_id)
        people = (
            await scope.query(models.Person)
            .filter(org_unit__path__startswith=unit.path)
            .order_by("id")
        )
        entries = [
            (p, cards.person_scorecard(scored.rows, scored.scores, scored.shares, p))
            for p in people
        ]
        entries.sort(key=lambda e: (e[1].combined is None, -(e[1].combined or 0.0), e[0].id))
        ranked: list[RankingEntry] = []
        for position, (person, card) in enumerate(entries, start=1):
            rank = position if card.combined is not None else None
            ranked.append(
                RankingEntry(
                    rank=rank,
                    person=Person.from_row(person),
                    scorecard=Scorecard.of(scored, card, person=Person.from_row(person)),
                )
            )
        return ranked


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
        scope = info.context.scope
        if scope.role is not Role.ADMIN:
            raise forbidden("only admins may simulate weightings")
        unit = await scope.get(
            models.OrgUnit, decode(org_unit_id, "OrgUnit", "orgUnitId"), "orgUnitId"
        )
        packs = await info.context.tenant_packs()
        presets = packs.stage_presets()
        proposed = await _proposed(scope, presets, stage, okr_share, kpi_share)
        scored = await _scored(info, cycle_id)
        people = (
            await scope.query(models.Person)
            .filter(org_unit__path__startswith=unit.path)
            .order_by("id")
        )
        units = await scope.query(models.OrgUnit).filter(path__startswith=unit.path).order_by("id")
        moved_people, moved_units = simulate(
            scored.rows, scored.scores, scored.shares, proposed, people, units
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
                for m in moved_people
            ],
            units=[
                SimulatedUnit(
                    org_unit=OrgUnit.from_row(m.subject),
                    before=m.before,
                    after=m.after,
                    rank_before=m.rank_before,
                    rank_after=m.rank_after,
                )
                for m in moved_units
            ],
        )


async def _proposed(
    scope: TenantScope,
    presets: Mapping[str, float],
    stage: str | None,
    okr_share: float | None,
    kpi_share: float | None,
) -> Shares:
    """The shares to simulate: a stage's weighting, or explicit shares."""
    if okr_share is not None or kpi_share is not None:
        check_shares(okr_share, kpi_share)
        assert okr_share is not None
        assert kpi_share is not None
        return Shares(stage or "custom", okr_share, kpi_share)
    if stage is None:
        raise DomainError.single(
            ErrorCode.REQUIRED, "give a stage or okrShare and kpiShare", "stage"
        )
    for weighting in await weightings(scope, presets):
        if weighting.stage == stage:
            return Shares(stage, weighting.okr_share, weighting.kpi_share)
    raise DomainError.single(ErrorCode.INVALID, f"unknown lifecycle stage {stage!r}", "stage")
