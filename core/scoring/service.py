"""Scoring use cases: scorecards, rankings and what-if simulations of one cycle.

Each checks who may see what before anything is scored, then scores the part of the
cycle it reaches once (``Scorer`` with a ``Reach``) and reads its ``ScoreBoard``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime

from tortoise.expressions import Subquery

from ..access import can_see_people_below, can_see_values
from ..enums import Role
from ..errors import DomainError, ErrorCode, forbidden, not_found
from ..i18n import msg
from ..models import Cycle, OrgUnit, Person
from ..owners import OwnerRef
from ..services.stages import check_shares, weightings
from ..stages import kpi_share_of
from ..tenancy import TenantScope
from .engine import CycleScores, score_cycle
from .history import PastSettings, cycle_as_of, people_as_of, people_below_as_of
from .load import EVERYTHING, Reach, default_cycle, load_reach, units_below
from .resolve import PolicyLookup
from .scorecard import ScoreBoard, Scorecard, Shares
from .simulate import Moved, simulate
from .store import stored_scores


@dataclass
class ScoredCycle:
    cycle: Cycle
    board: ScoreBoard
    #: The past moment the scores were rebuilt for (None: as stored now).
    at: datetime | None = None

    @property
    def shares(self) -> Shares:
        return self.board.shares

    @property
    def scores(self) -> CycleScores:
        return self.board.scores


#: Scores the cycle as far as a read reaches (a past moment's rebuild scores it all).
Scorer = Callable[[Reach], Awaitable[ScoredCycle]]


async def shares_of(scope: TenantScope, presets: Mapping[str, float], stage: str) -> Shares | None:
    """A stage's OKR/KPI shares for this tenant (its own, else the preset)."""
    for weighting in await weightings(scope, presets):
        if weighting.stage == stage:
            return Shares(stage, weighting.okr_share, weighting.kpi_share)
    return None


async def current_shares(scope: TenantScope, presets: Mapping[str, float]) -> Shares:
    """The shares of the tenant's current stage."""
    stage = scope.tenant.lifecycle_stage
    found = await shares_of(scope, presets, stage)
    return found or Shares(stage, 0.5, 0.5)  # a stage no longer defined: both sides equal


async def proposed_shares(
    scope: TenantScope,
    presets: Mapping[str, float],
    stage: str | None,
    okr_share: float | None,
    kpi_share: float | None,
) -> Shares:
    """The shares to simulate: explicit shares (checked like a real change), or a stage's."""
    if okr_share is not None or kpi_share is not None:
        check_shares(okr_share, kpi_share)
        assert okr_share is not None
        assert kpi_share is not None
        return Shares(stage or "custom", okr_share, kpi_share)
    if stage is None:
        raise DomainError.single(ErrorCode.REQUIRED, msg("score.stage_or_shares"), "stage")
    found = await shares_of(scope, presets, stage)
    if found is None:
        raise DomainError.single(
            ErrorCode.INVALID, msg("score.unknown_stage", stage=stage), "stage"
        )
    return found


async def score(
    scope: TenantScope,
    cycle_id: int | Cycle | None,
    presets: Mapping[str, float],
    lookup: PolicyLookup | None,
    today: date,
    reach: Reach = EVERYTHING,
) -> ScoredCycle:
    """What scorecards and rankings of one cycle need, as stored now, for the goals
    ``reach`` names (the whole cycle by default)."""
    cycle = await _cycle(scope, cycle_id, today)
    rows = await load_reach(scope, cycle, reach)
    shares = await current_shares(scope, presets)
    scores = await stored_scores(scope, cycle, rows, lookup, partial=not reach.everything)
    return ScoredCycle(cycle, ScoreBoard(rows, scores, shares))


async def score_as_of(
    scope: TenantScope,
    cycle_id: int | Cycle | None,
    presets: Mapping[str, float],
    lookup: PolicyLookup | None,
    at: datetime,
    past: PastSettings,
) -> ScoredCycle:
    """The same as ``score``, as it stood at ``at``: rows, values, stage and weighting
    rebuilt from the audit trail (``past``, with ``presets`` and ``lookup`` from the
    packs enabled then), scored from scratch."""
    cycle = await _cycle(scope, cycle_id, at.date())
    rows = await cycle_as_of(scope, cycle, at)
    okr_share = past.okr_shares.get(past.stage, presets.get(past.stage, 0.5))
    shares = Shares(past.stage, okr_share, kpi_share_of(okr_share))
    return ScoredCycle(cycle, ScoreBoard(rows, score_cycle(rows, lookup), shares), at)


def frozen_at(cycle: Cycle, at: datetime | None) -> datetime | None:
    """When a closed cycle's figures froze, if they are asked for at or after that
    moment (``at`` None: now); None for an open cycle or an earlier moment."""
    if cycle.closed_at is None or (at is not None and at < cycle.closed_at):
        return None
    return cycle.closed_at


async def score_frozen(
    scope: TenantScope,
    cycle: Cycle,
    presets: Mapping[str, float],
    lookup: PolicyLookup | None,
    past: PastSettings,
) -> ScoredCycle:
    """A closed cycle as it stood when it closed: its frozen stored scores over its rows
    as they were then (KPIs' settings and owners included: KPIs span cycles and may
    have changed since), with the stage, weighting and packs (``past``, ``presets``,
    ``lookup``) in force at that moment."""
    assert cycle.closed_at is not None
    rows = await cycle_as_of(scope, cycle, cycle.closed_at, values=False)
    okr_share = past.okr_shares.get(past.stage, presets.get(past.stage, 0.5))
    shares = Shares(past.stage, okr_share, kpi_share_of(okr_share))
    scores = await stored_scores(scope, cycle, rows, lookup)
    return ScoredCycle(cycle, ScoreBoard(rows, scores, shares))


async def cycle_to_score(scope: TenantScope, cycle_id: int | None, today: date) -> Cycle:
    """The named cycle, or the default one for ``today``."""
    return await _cycle(scope, cycle_id, today)


async def _cycle(scope: TenantScope, cycle_id: int | Cycle | None, today: date) -> Cycle:
    """The named cycle (or the one given), or the default one for ``today``."""
    if isinstance(cycle_id, Cycle):
        return cycle_id
    if cycle_id is not None:
        cycle = await scope.find(Cycle, cycle_id)
        if cycle is None:
            raise not_found("cycle", "cycleId")
        return cycle
    found = await default_cycle(scope, today)
    if found is None:
        raise DomainError.single(ErrorCode.NOT_FOUND, msg("score.no_cycles"), "cycleId")
    return found


async def person_scorecard(
    scope: TenantScope, scorer: Scorer, person_id: int
) -> tuple[ScoredCycle, Person, Scorecard]:
    """A person's scorecard, for them, their managers (above them in the org tree, or
    explicit and dotted-line ones) and admins. As of a past moment, the person is
    scored where they sat then (a manager answers for their unit's goals too)."""
    person = await scope.get(Person, person_id, "personId")
    unit = await scope.get(OrgUnit, person.org_unit_id)
    if not can_see_values(scope, OwnerRef(None, person.id, unit.path)):
        raise forbidden(msg("score.person_scope"), "personId")
    units = frozenset({unit.id}) if person.role is Role.MANAGER else frozenset()
    scored = await scorer(Reach.owners(units, frozenset({person.id})))
    then = person
    if scored.at is not None:
        then = next(iter(await people_as_of(scope, [person], scored.at)), person)
    return scored, person, scored.board.person(then)


async def unit_scorecard(
    scope: TenantScope, scorer: Scorer, unit_id: int
) -> tuple[ScoredCycle, OrgUnit, Scorecard]:
    """An org unit's scorecard over what it owns (team goals are company-visible)."""
    unit = await scope.get(OrgUnit, unit_id, "orgUnitId")
    scored = await scorer(Reach.owners(unit_ids=frozenset({unit.id})))
    return scored, unit, scored.board.owner(unit_ids={unit.id})


async def unit_ranking(
    scope: TenantScope, scorer: Scorer, unit_id: int
) -> tuple[ScoredCycle, list[tuple[int | None, Person, Scorecard]]]:
    """The people of a unit and below, best first; for admins and the unit's managers."""
    unit = await scope.get(OrgUnit, unit_id, "orgUnitId")
    if not can_see_people_below(scope, unit.path):
        raise forbidden(msg("score.rankings_scope"), "orgUnitId")
    scored = await scorer(Reach(below=unit.path))
    if scored.at is not None:
        people = await people_below_as_of(scope, unit, scored.at)
    else:
        people = await people_below(scope, unit)
    return scored, scored.board.ranking(people)


async def simulate_weighting(
    scope: TenantScope,
    scorer: Scorer,
    unit_id: int,
    presets: Mapping[str, float],
    stage: str | None = None,
    okr_share: float | None = None,
    kpi_share: float | None = None,
) -> tuple[ScoredCycle, Shares, list[Moved[Person]], list[Moved[OrgUnit]]]:
    """Who moves under another weighting, in a unit and below; admins only, nothing saved."""
    if scope.role is not Role.ADMIN:
        raise forbidden(msg("score.simulate_admin_only"))
    unit = await scope.get(OrgUnit, unit_id, "orgUnitId")
    proposed = await proposed_shares(scope, presets, stage, okr_share, kpi_share)
    people = await people_below(scope, unit)
    units = await scope.query(OrgUnit).filter(path__startswith=unit.path).order_by("id")
    scored = await scorer(Reach(below=unit.path))
    moved_people, moved_units = simulate(scored.board, proposed, people, units)
    return scored, proposed, moved_people, moved_units


async def people_below(scope: TenantScope, unit: OrgUnit) -> list[Person]:
    """Everyone active in ``unit`` and the units below it (one query on the unit path);
    leavers keep their past scorecards but leave rankings."""
    return (
        await scope.query(Person)
        .filter(org_unit_id__in=Subquery(units_below(scope, unit.path).values("id")), active=True)
        .order_by("id")
    )
